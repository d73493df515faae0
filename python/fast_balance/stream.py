"""Streaming rebalance of records that cannot be indexed (no TensorFlow; see fast_balance.tf.rebalance)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from . import _core
from ._checks import INT64_LIMIT, ON_ERROR, check_bool, check_choice, check_int, check_seed
from ._memory import check_fits
from .weights import Blend, Target, target_weights


def stream_weights(target: Target, num_classes: int) -> np.ndarray:
    """Integer class weights for a stream, whose class counts are unknown in advance.

    Only targets that need no counts make sense: ``"balanced"`` or explicit per-class weights.

    Examples
    --------
    >>> stream_weights({0: 2.0, 2: 1.0}, 3).tolist()
    [2, 0, 1]
    """
    if isinstance(target, str) and target == "balanced":
        return np.ones(num_classes, dtype=np.uint64)  # no float copies: num_classes may be large
    if isinstance(target, str):
        raise ValueError(f"target {target!r} needs the class counts, which a stream does not have; "
                         "use 'balanced' or per-class weights")
    if isinstance(target, Blend):
        raise ValueError("a Blend target needs the class counts, which a stream does not have; "
                         "use 'balanced' or per-class weights")
    if not isinstance(target, Mapping) and np.ndim(target) == 0:
        raise ValueError("a power target needs the class counts, which a stream does not have; "
                         "use 'balanced' or per-class weights")
    weights = target_weights(target, np.ones(num_classes, dtype=np.int64))
    positive = weights[weights > 0]
    if positive.size and int(positive.max()) // int(positive.min()) > MAX_WEIGHT_RATIO:
        light, heavy = int(np.argmin(np.where(weights > 0, weights, np.iinfo(np.uint64).max))), int(np.argmax(weights))
        raise ValueError(
            f"target: class {heavy} weighs {int(positive.max()) / int(positive.min()):.3g} times class {light}, more "
            f"than the {MAX_WEIGHT_RATIO:,} (2^20) a stream allows: each record of class {light} would be followed "
            "by that many emissions of the others. Give the light class weight 0 or a larger weight"
        )
    return weights


#: Largest ratio of two positive class weights of a stream: the output per record read of the
#: lightest class grows with it, so an extreme one would emit without bound (2^40 for 1 : 1e-12).
MAX_WEIGHT_RATIO = 1 << 20


def _check_fits(num_classes: int) -> None:
    """ValueError if the per-class state of ``num_classes`` classes exceeds the machine's memory."""
    per_class = _core.Rebalancer._bytes_per_class
    check_fits(num_classes * per_class, f"num_classes={num_classes:,} ({per_class} bytes of class state each)")


class StreamRebalancer:
    """Class-indexed reservoirs that turn a stream of records into one that follows a target.

    Records (opaque ``bytes``) are pushed in stream order with their class; what the target
    asks for next comes back at once. Classes take turns by earliest deadline first over their
    exact shares: while every class has records, after every prefix of the output each class has
    been emitted floor or ceil of its exact share (the rule is in ``csrc/rebalance.hpp``). A class
    with nothing new replays a record from its reservoir (``repeats >= 1``) instead of waiting, so
    input is read about as fast as it is emitted and nothing read is thrown away.

    Memory: per class at most ``capacity_per_class`` records waiting plus ``capacity_per_class``
    kept for replay, and 16 bytes for a class that has no record yet (its buffers are created
    with its first record).

    Thread safety: one StreamRebalancer may be shared by several threads. Pushes are serialised
    by a lock; each push's records form one consecutive part of the stream, in the order in which
    the pushes take the lock.

    Parameters
    ----------
    num_classes : int
        At most ``2**31 - 1``; a number whose per-class state would not fit in the machine's
        memory raises ValueError.
    target : "balanced" or per-class weights (sequence, array or dict)
    capacity_per_class : int
        Bound of each class's waiting records and of its replay reservoir.
    seed : int in [0, 2**64)
        Seeds the reservoirs' choices; the output is a function of the seed and the input order,
        not of how the input is split into pushes.
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

    def __init__(
        self,
        num_classes: int,
        *,
        target: Target = "balanced",
        capacity_per_class: int = 1024,
        seed: int = 0,
        on_error: str = "raise",
    ) -> None:
        self._num_classes = check_int("num_classes", num_classes, 1, _core.Rebalancer._max_classes)
        _check_fits(self._num_classes)
        capacity_per_class = check_int("capacity_per_class", capacity_per_class, 1, INT64_LIMIT - 1)
        seed = check_seed(seed)
        self._on_error = check_choice("on_error", on_error, ON_ERROR)
        self._core = _core.Rebalancer(stream_weights(target, self._num_classes), capacity_per_class, seed)
        self._lock = threading.Lock()  # keeps the positions below in step with the core's stream order
        self._position = 0  # records pushed so far, skipped ones included
        self._skipped = 0

    @property
    def finished(self) -> bool:
        """True once the final push has been made and every record read has been emitted."""
        return self._core.finished

    @property
    def stats(self) -> dict[str, int]:
        """Counts so far: read, emitted, fresh, replays, replaced (left the replay reservoir),
        unweighted (classes of weight 0), skipped (bad labels), held_bytes, peak_held_bytes."""
        with self._lock:
            return {**self._core.stats, "skipped": self._skipped}

    def push(
        self, payloads: Sequence[bytes], labels: npt.ArrayLike, final: bool = False
    ) -> tuple[list[bytes], np.ndarray, np.ndarray]:
        """Feeds the next records; returns ``(payloads, labels int32, repeats int32)`` to emit now.

        ``final=True`` marks the end of the input: everything still waiting is emitted.
        """
        final = check_bool("final", final)
        given: object = payloads  # whatever the annotation says, callers pass anything
        if isinstance(given, (bytes, bytearray, str)) or not isinstance(given, Iterable):
            raise TypeError(f"payloads must be a sequence of bytes, one per record; got {type(given).__name__}")
        payloads = list(payloads)
        # A private copy: the core must not see the caller's array change after it was checked.
        labels = np.array(labels)
        if labels.ndim != 1 or labels.shape[0] != len(payloads):
            raise ValueError(f"labels must be 1-D and as long as payloads ({len(payloads)}), got shape {labels.shape}")
        if labels.size and not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be integers, not {labels.dtype}")
        with self._lock:
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
            return self._core.push(payloads, labels.astype(np.int64, copy=False), final)
