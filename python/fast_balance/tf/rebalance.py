"""fast_balance.tf.rebalance: class-balanced output from a stream (TFRecord shards), without rejection."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import tensorflow as tf

from ..stream import StreamRebalancer


@dataclass
class RebalanceReport:
    """Counts of the last finished pass over a rebalanced dataset (and the running one's so far)."""

    passes_finished: int = 0
    read: int = 0  #: records taken from the input
    emitted: int = 0  #: elements emitted, fresh and replayed
    fresh: int = 0  #: records emitted for the first time (every record read, unless of weight 0)
    replays: int = 0  #: emissions of a record from its class's reservoir
    replaced: int = 0  #: emitted records pushed out of a full reservoir (Algorithm R)
    unweighted: int = 0  #: records of classes the target gives weight 0: read, never emitted
    skipped: int = 0  #: records with a label outside [0, num_classes) (on_error="skip")
    peak_held_bytes: int = 0  #: most serialized bytes held in the reservoirs at once
    per_pass: list = field(default_factory=list)

    @property
    def reads_per_emitted(self) -> float:
        return self.read / self.emitted if self.emitted else float("nan")

    def __str__(self) -> str:
        return (
            f"read {self.read:,}, emitted {self.emitted:,} ({self.fresh:,} fresh, {self.replays:,} replays), "
            f"{self.reads_per_emitted:.2f} reads per emitted element, {self.replaced:,} replaced in reservoirs, "
            f"{self.unweighted + self.skipped:,} not emitted, peak {self.peak_held_bytes / 2**20:,.1f} MiB held"
        )


def _serialize(*element) -> tf.Tensor:
    """Element -> one string tensor: each component by tf.io.serialize_tensor, then the list."""
    element = element[0] if len(element) == 1 else element
    parts = [tf.io.serialize_tensor(component) for component in tf.nest.flatten(element)]
    return tf.io.serialize_tensor(tf.stack(parts))


def _deserialize(spec):
    flat_spec = tf.nest.flatten(spec)

    def deserialize(payload):
        parts = tf.io.parse_tensor(payload, tf.string)
        flat = [
            tf.ensure_shape(tf.io.parse_tensor(parts[i], component.dtype), component.shape)
            for i, component in enumerate(flat_spec)
        ]
        return tf.nest.pack_sequence_as(spec, flat)

    return deserialize


def rebalance(
    dataset: tf.data.Dataset,
    label_fn: Callable,
    num_classes: int,
    *,
    target="balanced",
    capacity_per_class: int = 1024,
    seed: int = 0,
    chunk_size: int = 256,
    on_error: str = "raise",
) -> tf.data.Dataset:
    """A dataset whose elements follow `target` over classes, read from any dataset in one pass.

    Unlike ``rejection_resample``, nothing read is thrown away: elements are buffered by class
    in bounded C++ reservoirs and emitted on a smooth weighted round-robin schedule. When a class
    has no new element, one of its earlier elements is replayed from its reservoir and marked as
    a repeat, so the image layer can augment it. The pass ends when the input has ended and
    every element read has been emitted.

    Parameters
    ----------
    dataset : tf.data.Dataset
        Any element structure of dense tensors (e.g. ``(jpeg_bytes, label)`` parsed from
        TFRecords). It should be shuffled at least roughly: a class that first appears late
        cannot be served before it appears.
    label_fn : callable
        ``label_fn(*element) -> int`` scalar tensor, the element's class.
    num_classes : int
    target : "balanced" or per-class weights
        Class counts of a stream are unknown, so targets that need them are not available.
    capacity_per_class : int
        At most this many elements of each class wait to be emitted, and at most this many are
        kept for replay; memory is bounded by ``2 * num_classes * capacity_per_class`` elements.
        Input is read only while every class has room for a new element, so reading is never
        what forces a record out.
    seed : int
        Seeds the reservoirs. Pass ``k`` over the dataset uses ``(seed, k)``: given the same
        input order, the output is the same on every run.
    chunk_size : int
        Elements handed to the C++ core per call (one Python call per chunk, none per element).
    on_error : "raise" or "skip"
        A label outside [0, num_classes): fail naming the element's stream position, or skip the
        element and count it in the report.

    Returns
    -------
    tf.data.Dataset
        Elements ``(element, repeats)``: the original structure and an int32 count of earlier
        emissions of the same element (0 = first view). Attribute ``report``: a
        `RebalanceReport`.

    Examples
    --------
    >>> records = tf.data.TFRecordDataset(files).map(parse)          # (jpeg, label)
    >>> balanced = rebalance(records, lambda jpeg, label: label, num_classes=10)
    >>> images = balanced.map(lambda element, repeats: decode(element[0]))
    """
    if not isinstance(chunk_size, (int, np.integer)) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    # Built once now so that bad arguments fail here, not at the first element.
    StreamRebalancer(num_classes, target=target, capacity_per_class=capacity_per_class, seed=seed, on_error=on_error)
    spec = dataset.element_spec
    report = RebalanceReport()
    streams: dict[int, StreamRebalancer] = {}
    pass_numbers = itertools.count()

    def open_pass() -> np.int64:
        number = next(pass_numbers)
        streams[number] = StreamRebalancer(num_classes, target=target, capacity_per_class=capacity_per_class,
                                           seed=int(np.random.SeedSequence([seed, number]).generate_state(1)[0]),
                                           on_error=on_error)
        return np.int64(number)

    def push(number, payloads, labels, final):
        stream = streams[int(number)]
        out, out_labels, repeats = stream.push(list(payloads), labels, final=bool(final))
        if final:
            stats = streams.pop(int(number)).stats
            report.passes_finished += 1
            report.per_pass.append(stats)
            for key in ("read", "emitted", "fresh", "replays", "replaced", "unweighted", "skipped", "peak_held_bytes"):
                setattr(report, key, stats[key])
        return np.array(out, dtype=object), out_labels, repeats

    records = dataset.map(
        lambda *element: (_serialize(*element), tf.cast(label_fn(*element), tf.int64)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    chunks = records.batch(chunk_size).map(lambda payloads, labels: (payloads, labels, False))
    chunks = chunks.concatenate(
        tf.data.Dataset.from_tensors((tf.constant([], tf.string), tf.constant([], tf.int64), True))
    )

    def one_pass(_):
        number = tf.numpy_function(open_pass, [], tf.int64, stateful=True)

        def rebalanced(payloads, labels, final):
            out, out_labels, repeats = tf.numpy_function(
                push, [number, payloads, labels, final], [tf.string, tf.int32, tf.int32], stateful=True
            )
            shaped = tuple(tf.ensure_shape(t, [None]) for t in (out, out_labels, repeats))
            return tf.data.Dataset.from_tensor_slices(shaped)

        return chunks.flat_map(rebalanced)  # in order: the core sees the stream as it is

    deserialize = _deserialize(spec)
    result = tf.data.Dataset.from_tensors(0).flat_map(one_pass).map(
        lambda payload, label, repeats: (deserialize(payload), repeats),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    result.report = report
    return result
