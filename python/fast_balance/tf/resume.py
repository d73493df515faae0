"""Exact resume: the sampler position by batches the model consumed, not batches prefetched."""

from __future__ import annotations

import json
import os

import tensorflow as tf


class SamplerState(tf.Module):
    """``{seed, epoch, position}`` of a sampler as variables, so ``tf.train.Checkpoint`` saves it.

    Examples
    --------
    >>> checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer, input=tracker.state)
    """

    def __init__(self, seed: int, epoch: int, position: int):
        super().__init__(name="fast_balance_sampler_state")
        self.seed = tf.Variable(int(seed), dtype=tf.int64, trainable=False, name="seed")
        self.epoch = tf.Variable(int(epoch), dtype=tf.int64, trainable=False, name="epoch")
        self.position = tf.Variable(int(position), dtype=tf.int64, trainable=False, name="position")

    def state_dict(self) -> dict:
        """The state as `BalancedIndexSampler.load_state_dict` takes it."""
        return {"seed": int(self.seed.numpy()), "epoch": int(self.epoch.numpy()), "position": int(self.position.numpy())}


class InputCheckpoint(tf.keras.callbacks.Callback):
    """Keras callback recording where a balanced dataset's consumer is, for exact resume.

    Prefetching runs ahead of training, so the sampler's own state is ahead of what the model
    has seen. This callback counts the batches Keras reports as trained and turns them into the
    sampler state ``{seed, epoch, position}`` right after the last consumed batch. It keeps the
    state in `state` (a `SamplerState`, to save with the model in a ``tf.train.Checkpoint``)
    and, given ``path``, also writes it as JSON every ``save_every`` batches (atomically).

    To resume, build the sampler as before, ``sampler.load_state_dict(state)``, and pass it to
    `balanced_dataset`: its first pass is the rest of the interrupted epoch.

    Parameters
    ----------
    dataset : tf.data.Dataset
        Made by `balanced_dataset` (with ``epochs=None``), before training on it starts.
    path : str, optional
        JSON file to keep up to date.
    save_every : int
        Batches between JSON writes.

    Examples
    --------
    >>> tracker = InputCheckpoint(ds, path="input_state.json")
    >>> model.fit(ds, epochs=10, callbacks=[tracker])
    ... # after a restart:
    >>> sampler = BalancedIndexSampler(labels, batch_size=64, seed=0)
    >>> sampler.load_state_dict(InputCheckpoint.load("input_state.json"))
    >>> ds = balanced_dataset(paths, labels, batch_size=64, sampler=sampler)
    """

    def __init__(self, dataset: tf.data.Dataset, path: str | None = None, save_every: int = 1):
        super().__init__()
        if not hasattr(dataset, "start_state"):
            raise TypeError("InputCheckpoint needs a dataset made by fast_balance.tf.balanced_dataset")
        if int(save_every) < 1:
            raise ValueError(f"save_every must be >= 1, got {save_every}")
        start = dataset.start_state
        self._seed, self._start_epoch, self._start_position = start["seed"], start["epoch"], start["position"]
        self._samples_per_epoch = len(dataset.sampler)
        self._batch_size = dataset.batch_size
        self._path = None if path is None else os.fspath(path)
        self._save_every = int(save_every)
        self._consumed = 0  # batches trained, over all fit calls
        self._epoch_base = 0
        self.state = SamplerState(self._seed, self._start_epoch, self._start_position)

    def state_dict(self) -> dict:
        """The sampler state right after the last consumed batch."""
        done = self._start_position + self._consumed * self._batch_size
        return {
            "seed": self._seed,
            "epoch": self._start_epoch + done // self._samples_per_epoch,
            "position": done % self._samples_per_epoch,
        }

    @staticmethod
    def load(path) -> dict:
        """A state written by ``InputCheckpoint(path=...)``."""
        with open(path) as file:
            return json.load(file)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_base = self._consumed

    def on_train_batch_end(self, batch, logs=None):
        # Keras numbers steps from 0 in each epoch and, with steps_per_execution > 1, reports
        # only the last step of each chunk: the count is taken from the step number.
        self._consumed = self._epoch_base + int(batch) + 1
        state = self.state_dict()
        self.state.epoch.assign(state["epoch"])
        self.state.position.assign(state["position"])
        if self._path is not None and self._consumed % self._save_every == 0:
            self._write(state)

    def on_train_end(self, logs=None):
        if self._path is not None:
            self._write(self.state_dict())

    def _write(self, state: dict) -> None:
        temporary = f"{self._path}.tmp"
        with open(temporary, "w") as file:
            json.dump(state, file)
        os.replace(temporary, self._path)
