"""Where each pass over a balanced dataset gets its rows.

A row is one batch of the sampler's epoch: its sample indices, classes, repeats and decode-bank
slots, with the epoch and the batch's number in the global epoch (which key its augmentation).

The sampler is a pure plan; the dataset's position is its own: ``next_epoch``, a variable that
every pass reads and advances by one, so that ``model.fit(ds, epochs=3)`` trains three different
epochs. While ``pinned`` is true, passes read it without advancing it: ``InputCheckpoint`` pins
Keras epoch k to sampler epoch k that way, and then a preview (``ds.take(1)``) or anything else
iterating the dataset sees that epoch without moving training off it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from ..sampler import BalancedIndexSampler
from ..weighted_sampler import WeightedEpoch, WeightedIndexSampler

#: The columns of a row, in order.
ROW_FIELDS = ("indices", "labels", "repeats", "slots", "epoch", "batch")
ROW_TYPES = (tf.int64, tf.int32, tf.int32, tf.int64, tf.int64, tf.int64)

Rows = tuple[np.ndarray, ...]


class RowMaker:
    """Turns a slice of a sampler's epoch into rows, with unreadable samples substituted.

    ``substitute[i]`` is the sample read in place of sample i (itself when it is readable); a
    substituted draw counts as a repeat, so the augmentation policy treats it as one. A
    `WeightedIndexSampler` (label sets) has no classes: its rows' label column is 0, and the labels
    are gathered from the indices later.
    ``on_epoch(hit_rate)`` is told the share of each epoch's draws served by the decode bank.
    """

    def __init__(
        self,
        sampler: BalancedIndexSampler | WeightedIndexSampler,
        bank_slot: np.ndarray,
        substitute: np.ndarray | None,
        on_epoch: Callable[[float], None] | None = None,
    ) -> None:
        if sampler.batch_size is None:
            raise ValueError("the sampler needs a batch_size to make rows")
        self.sampler = sampler
        self.batch_size: int = sampler.batch_size
        self.bank_slot = bank_slot
        self.substitute = substitute
        self.on_epoch = on_epoch

    def rows(self, epoch: int, start: int = 0) -> Rows:
        """The rows of ``epoch`` from sample position ``start`` (a whole number of batches) on."""
        drawn = self.sampler.epoch(epoch, start)
        indices, repeats = drawn.indices, drawn.repeats
        if self.substitute is not None:
            replaced = self.substitute[indices] != indices
            indices = self.substitute[indices]
            repeats = np.where(replaced, np.maximum(repeats, 1), repeats).astype(np.int32)
        labels = np.zeros_like(repeats) if isinstance(drawn, WeightedEpoch) else drawn.labels
        slots = self.bank_slot[indices]
        if self.on_epoch is not None:
            self.on_epoch(float(np.mean(slots >= 0)) if slots.size else 0.0)
        size = self.batch_size
        local = np.arange(start // size, len(self.sampler) // size, dtype=np.int64)
        batches = local * self.sampler.num_shards + self.sampler.shard_index  # number in the global epoch
        epochs = np.full(batches.size, epoch, dtype=np.int64)
        return (
            indices.reshape(-1, size),
            labels.reshape(-1, size),
            repeats.reshape(-1, size),
            slots.reshape(-1, size),
            epochs,
            batches,
        )


def counted_passes(maker: RowMaker, next_epoch: tf.Variable, pinned: tf.Variable) -> tf.data.Dataset:
    """A dataset whose every pass is the sampler epoch ``next_epoch`` held when the pass began,
    advanced by the pass unless ``pinned``.

    The epoch is computed when the pass begins, in one NumPy call: no per-sample Python.
    """

    def rows_of(epoch: np.ndarray) -> Rows:
        return maker.rows(int(epoch))

    def one_pass(_: tf.Tensor) -> tf.data.Dataset:
        epoch = tf.cond(pinned, lambda: tf.identity(next_epoch), lambda: next_epoch.assign_add(1) - 1)
        rows = tf.numpy_function(rows_of, [epoch], list(ROW_TYPES), stateful=True)
        batch = maker.batch_size
        shaped = [tf.ensure_shape(column, [None, batch]) for column in rows[:4]]
        shaped += [tf.ensure_shape(column, [None]) for column in rows[4:]]
        return tf.data.Dataset.from_tensor_slices(tuple(shaped))

    return tf.data.Dataset.from_tensors(0).flat_map(one_pass)


def fixed_rows(maker: RowMaker, parts: Sequence[tuple[int, int]]) -> tf.data.Dataset:
    """The rows of the given ``(epoch, start)`` slices as constant tensors.

    Such a dataset holds no Python callback (the tf.data service can serve it, and each of its
    splits is one whole, stratified batch) and knows its length without running.
    """
    columns = zip(*(maker.rows(epoch, start) for epoch, start in parts))
    return tf.data.Dataset.from_tensor_slices(tuple(np.concatenate(column) for column in columns))
