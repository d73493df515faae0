"""Streaming rebalance of records that cannot be indexed (no TensorFlow; see fast_balance.tf.rebalance)."""

from __future__ import annotations

import numpy as np

from . import _core
from ._checks import check_int as _check_int
from ._checks import is_int as _is_int
from .weights import target_weights

ON_ERROR = ("raise", "skip")


def stream_weights(target, num_classes: int) -> np.ndarray:
    """Integer class weights for a stream, whose class counts are unknown in advance.

    Only targets that need no counts make sense: ``"balanced"`` or explicit per-class weights.
    """
    if isinstance(target, str) and target != "balanced":
        raise ValueError(f"target {target!r} needs the class counts, which a stream does not have; "
                         "use 'balanced' or per-class weights")
    if not isinstance(target, str) and np.ndim(target) == 0 and not isinstance(target, dict):
        raise ValueError("a power target needs the class counts, which a stream does not have; "
                         "use 'balanced' or per-class weights")
    return target_weights(target, np.ones(num_classes, dtype=np.int64))


class StreamRebalancer:
    """Class-indexed reservoirs that turn a stream of records into one that follows a target.

    Records (opaque ``bytes``) are pushed in stream order with their class; what the target
    asks for next comes back at once. A class with nothing new replays a record from its
    reservoir (``repeats >= 1``) instead of waiting, so input is read about as fast as it is
    emitted and nothing read is thrown away. Memory: at most ``capacity_per_class`` records
    waiting plus ``capacity_per_class`` kept for replay, per class.

    Parameters
    ----------
    num_classes : int
    target : "balanced" or per-class weights (sequence, array or dict)
    capacity_per_class : int
        Bound of each class's waiting records and of its replay reservoir.
    seed : int
        Seeds the reservoirs' choices; the output is a function of the seed and the input order.
    on_error : "raise" or "skip"
        What a label outside [0, num_classes) does: raise ValueError naming its stream
        position, or skip the record (counted in ``stats["skipped"]``).

    Examples
    --------
    >>> stream = StreamRebalancer(2, capacity_per_class=4)
    >>> payloads, labels, repeats = stream.push([b"a", b"b", b"c", b"z"], [0, 0, 0, 1], final=True)
    >>> payloads, labels.tolist(), repeats.tolist()  # b"z" is replayed while class 0 has new records
    ([b'a', b'z', b'b', b'z', b'c'], [0, 1, 0, 1, 0], [0, 0, 0, 1, 0])
    """

    def __init__(self, num_classes: int, *, target="balanced", capacity_per_class: int = 1024, seed: int = 0,
                 on_error: str = "raise"):
        self._num_classes = _check_int("num_classes", num_classes, 1)
        capacity_per_class = _check_int("capacity_per_class", capacity_per_class, 1)
        if not _is_int(seed) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        self._on_error = on_error
        self._core = _core.Rebalancer(stream_weights(target, self._num_classes), capacity_per_class, int(seed))
        self._position = 0  # records pushed so far, skipped ones included
        self._skipped = 0

    @property
    def finished(self) -> bool:
        """True once the final push has been made and every record read has been emitted."""
        return self._core.finished

    @property
    def stats(self) -> dict:
        """Counts so far: read, emitted, fresh, replays, replaced (left the replay reservoir),
        unweighted (classes of weight 0), skipped (bad labels), held_bytes, peak_held_bytes."""
        return {**self._core.stats, "skipped": self._skipped}

    def push(self, payloads, labels, final: bool = False) -> tuple[list[bytes], np.ndarray, np.ndarray]:
        """Feeds the next records; returns ``(payloads, labels int32, repeats int32)`` to emit now.

        ``final=True`` marks the end of the input: everything still waiting is emitted.
        """
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.shape[0] != len(payloads):
            raise ValueError(f"labels must be 1-D and as long as payloads ({len(payloads)}), got shape {labels.shape}")
        if labels.size and not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be integers, not {labels.dtype}")
        labels = labels.astype(np.int64, copy=False)
        bad = (labels < 0) | (labels >= self._num_classes)
        if bad.any():
            if self._on_error == "raise":
                first = int(np.flatnonzero(bad)[0])
                raise ValueError(f"label {int(labels[first])} of the record at stream position "
                                 f"{self._position + first} is outside [0, {self._num_classes})")
            keep = np.flatnonzero(~bad)
            self._skipped += int(bad.sum())
            payloads = [payloads[i] for i in keep]
            labels = labels[keep]
        self._position += len(bad)
        return self._core.push(payloads, labels, bool(final))
