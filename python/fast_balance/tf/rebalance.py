"""fast_balance.tf.rebalance: class-balanced output from a stream (TFRecord shards), without rejection."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from .._checks import check_int
from ..stream import StreamRebalancer
from ..weights import Target


@dataclass
class RebalanceReport:
    """Counts of the last finished pass over a rebalanced dataset (a pass stopped early is not counted)."""

    passes_finished: int = 0
    read: int = 0  #: records taken from the input
    emitted: int = 0  #: elements emitted, fresh and replayed
    fresh: int = 0  #: records emitted for the first time (every record read, unless of weight 0)
    replays: int = 0  #: emissions of a record from its class's reservoir
    replaced: int = 0  #: emitted records pushed out of a full reservoir (Algorithm R)
    unweighted: int = 0  #: records of classes the target gives weight 0: read, never emitted
    skipped: int = 0  #: records with a label outside [0, num_classes) (on_error="skip")
    peak_held_bytes: int = 0  #: most serialized bytes held in the reservoirs at once
    per_pass: list[dict[str, int]] = field(default_factory=list)

    @property
    def reads_per_emitted(self) -> float:
        return self.read / self.emitted if self.emitted else float("nan")

    def __str__(self) -> str:
        return (
            f"read {self.read:,}, emitted {self.emitted:,} ({self.fresh:,} fresh, {self.replays:,} replays), "
            f"{self.reads_per_emitted:.2f} reads per emitted element, {self.replaced:,} replaced in reservoirs, "
            f"{self.unweighted + self.skipped:,} not emitted, peak {self.peak_held_bytes / 2**20:,.1f} MiB held"
        )


def _serialize(*element: Any) -> tf.Tensor:
    """Element -> one string tensor: each component by tf.io.serialize_tensor, then the list."""
    element = element[0] if len(element) == 1 else element
    parts = [tf.io.serialize_tensor(component) for component in tf.nest.flatten(element)]
    return tf.io.serialize_tensor(tf.stack(parts))


def _deserialize(spec: Any) -> Callable[[tf.Tensor], Any]:
    flat_spec = tf.nest.flatten(spec)

    def deserialize(payload: tf.Tensor) -> Any:
        parts = tf.io.parse_tensor(payload, tf.string)
        flat = [
            tf.ensure_shape(tf.io.parse_tensor(parts[i], component.dtype), component.shape)
            for i, component in enumerate(flat_spec)
        ]
        return tf.nest.pack_sequence_as(spec, flat)

    return deserialize


class _Passes:
    """The state of each pass over a rebalanced dataset, held while the iterator running it lives.

    `scope` is the generator of a ``tf.data.Dataset.from_generator`` that yields the pass's
    number once. tf.data closes that generator when the iterator running the pass is done or
    destroyed (a consumer stopping early: ``take``, a ``break``, a finished ``fit``), and closing
    it drops the pass's StreamRebalancer.
    """

    def __init__(self, open_stream: Callable[[int], StreamRebalancer], report: RebalanceReport):
        self._open_stream = open_stream
        self._report = report
        self._streams: dict[int, StreamRebalancer] = {}
        self._numbers = itertools.count()

    def scope(self) -> Iterator[np.int64]:
        number = next(self._numbers)
        self._streams[number] = self._open_stream(number)
        try:
            yield np.int64(number)
        finally:
            self._streams.pop(number, None)

    def push(
        self, number: np.int64, payloads: np.ndarray, labels: np.ndarray, final: np.bool_
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        stream = self._streams[int(number)]
        out, out_labels, repeats = stream.push(list(payloads), labels, final=bool(final))
        if final:
            stats = stream.stats
            report = self._report
            report.passes_finished += 1
            report.per_pass.append(stats)
            for key in ("read", "emitted", "fresh", "replays", "replaced", "unweighted", "skipped", "peak_held_bytes"):
                setattr(report, key, stats[key])
        return np.array(out, dtype=object), out_labels, repeats


def rebalance(
    dataset: tf.data.Dataset,
    label_fn: Callable[..., tf.Tensor],
    num_classes: int,
    *,
    target: Target = "balanced",
    capacity_per_class: int = 1024,
    seed: int = 0,
    chunk_size: int = 256,
    on_error: str = "raise",
) -> tf.data.Dataset:
    """A dataset whose elements follow `target` over classes, read from any dataset in one pass.

    Unlike ``rejection_resample``, nothing read is thrown away: elements are buffered by class
    in bounded C++ reservoirs and emitted by earliest deadline first over the classes' exact
    shares (`fast_balance.StreamRebalancer`). When a class has no new element, one of its earlier
    elements is replayed from its reservoir and marked as a repeat, so the image layer can
    augment it. The pass ends when the input has ended and every element read has been emitted.

    Each iteration of the result is a pass over ``dataset``. A pass's buffers live as long as
    the iterator that runs it: a consumer that stops early (``take``, ``break``) releases them.

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
    seed : int in [0, 2**64)
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
        emissions of the same element (0 = first view). Its cardinality is unknown (it depends
        on the data). Attribute ``report``: a `RebalanceReport`.

    Examples
    --------
    >>> labels = tf.data.Dataset.from_tensor_slices(np.array([0, 0, 0, 1]))
    >>> balanced = rebalance(labels, lambda y: y, num_classes=2, capacity_per_class=4)
    >>> [(int(y), int(repeats)) for y, repeats in balanced]  # class 1's only element is replayed
    [(0, 0), (1, 0), (0, 0), (1, 1), (0, 0)]
    >>> balanced.report.read, balanced.report.emitted, balanced.report.replays
    (4, 5, 1)
    """
    chunk_size = check_int("chunk_size", chunk_size, 1)
    # Built once now so that bad arguments fail here, not at the first element.
    StreamRebalancer(num_classes, target=target, capacity_per_class=capacity_per_class, seed=seed, on_error=on_error)
    spec = dataset.element_spec
    report = RebalanceReport()

    def open_stream(number: int) -> StreamRebalancer:
        pass_seed = int(np.random.SeedSequence([seed, number]).generate_state(1, np.uint64)[0])
        return StreamRebalancer(num_classes, target=target, capacity_per_class=capacity_per_class, seed=pass_seed,
                                on_error=on_error)

    passes = _Passes(open_stream, report)
    records = dataset.map(
        lambda *element: (_serialize(*element), tf.cast(label_fn(*element), tf.int64)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    chunks = records.batch(chunk_size).map(lambda payloads, labels: (payloads, labels, False))
    chunks = chunks.concatenate(
        tf.data.Dataset.from_tensors((tf.constant([], tf.string), tf.constant([], tf.int64), True))
    )

    def one_pass(number: tf.Tensor) -> tf.data.Dataset:
        def rebalanced(payloads: tf.Tensor, labels: tf.Tensor, final: tf.Tensor) -> tf.data.Dataset:
            out, out_labels, repeats = tf.numpy_function(
                passes.push, [number, payloads, labels, final], [tf.string, tf.int32, tf.int32], stateful=True
            )
            shaped = tuple(tf.ensure_shape(t, [None]) for t in (out, out_labels, repeats))
            return tf.data.Dataset.from_tensor_slices(shaped)

        return chunks.flat_map(rebalanced)  # in order: the core sees the stream as it is

    pass_numbers = tf.data.Dataset.from_generator(passes.scope, output_signature=tf.TensorSpec([], tf.int64))
    deserialize = _deserialize(spec)
    result = pass_numbers.flat_map(one_pass).map(
        lambda payload, label, repeats: (deserialize(payload), repeats),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    result.report = report
    return result
