"""SamplerIterator: a cursor over a sampler's stream; the position lives here, not in the sampler."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Protocol, Union

import numpy as np

from ._checks import check_int

# An epoch is read this many samples at a time.
_CHUNK = 1 << 20

Item = Union[int, np.ndarray]

STATE_KEYS = ("fingerprint", "epoch", "position")


class _Slice(Protocol):
    @property
    def indices(self) -> np.ndarray: ...


class IndexPlan(Protocol):
    """What a cursor needs of a sampler: `BalancedIndexSampler` and `WeightedIndexSampler` are such plans."""

    @property
    def fingerprint(self) -> str: ...
    @property
    def max_epoch(self) -> int: ...
    @property
    def batch_size(self) -> int | None: ...
    def __len__(self) -> int: ...
    def epoch(self, epoch: int, start: int = 0, stop: int | None = None) -> _Slice: ...


def check_state(state: object, sampler: IndexPlan) -> tuple[int, int]:
    """``(epoch, position)`` of a state dict of ``sampler``'s stream, else a clear error.

    A state names the sampler it belongs to (its fingerprint), an epoch and a position that is a
    whole number of batches; ints only (``7.9`` or ``"7"`` are refused, not coerced).
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a dict with keys {STATE_KEYS}, got {type(state).__name__}")
    missing = [key for key in STATE_KEYS if key not in state]
    if missing:
        raise KeyError(f"state is missing {missing}")
    if not isinstance(state["fingerprint"], str):
        raise TypeError(f"state['fingerprint'] must be a str, got {type(state['fingerprint']).__name__}")
    if state["fingerprint"] != sampler.fingerprint:
        raise ValueError(
            f"state is of another sampler: fingerprint {state['fingerprint']!r}, this sampler's is "
            f"{sampler.fingerprint!r} (a state resumes only a sampler built with the same labels and options)"
        )
    epoch = check_int("state['epoch']", state["epoch"], minimum=0, maximum=sampler.max_epoch)
    position = check_int("state['position']", state["position"], minimum=0, maximum=len(sampler))
    step = sampler.batch_size or 1
    if position % step:
        raise ValueError(f"state['position'] {position} is not a whole number of batches of {step}")
    if position == len(sampler):
        return epoch + 1, 0
    return epoch, position


class SamplerIterator:
    """The rest of one epoch from a position, then the following epochs, of a sampler's stream.

    Yields sample indices (int) without ``batch_size``, int64 arrays of one batch with it. The
    iterator owns its position (``epoch``, ``position``), so any number of iterators of one
    sampler run independently. One iterator may be shared between threads: ``next`` holds a
    lock, so every item is delivered exactly once.

    Parameters
    ----------
    sampler : BalancedIndexSampler or WeightedIndexSampler
    epoch, position : int
        Where the first item comes from (position: a whole number of batches).
    epochs : int, optional
        How many epochs to go through, counting the first (``epoch``, also when ``position`` is
        its end); None: without end.

    Examples
    --------
    >>> sampler = fast_balance.BalancedIndexSampler([0, 0, 0, 1], batch_size=2, seed=0)
    >>> stream = sampler.iterator()
    >>> first = next(stream)
    >>> state = stream.state_dict()
    >>> again = sampler.iterator()
    >>> again.load_state_dict(state)
    >>> np.array_equal(next(again), next(stream))
    True
    """

    def __init__(self, sampler: IndexPlan, epoch: int = 0, position: int = 0, epochs: int | None = None):
        self._sampler = sampler
        self._step = sampler.batch_size or 1
        self._epochs = None if epochs is None else check_int("epochs", epochs, minimum=1)
        self._lock = threading.Lock()
        self._set(*check_state({"fingerprint": sampler.fingerprint, "epoch": epoch, "position": position}, sampler))
        # `epochs` counts from the epoch given, also when its position is its end (nothing left of it).
        self._first_epoch = int(epoch)

    def _set(self, epoch: int, position: int) -> None:
        self._epoch, self._position = epoch, position
        self._chunk: np.ndarray | None = None  # indices of [_chunk_start, _chunk_start + len)
        self._chunk_start = position

    @property
    def epoch(self) -> int:
        """The epoch the next item comes from."""
        return self._epoch

    @property
    def position(self) -> int:
        """The sample position, in this shard's epoch, of the next item."""
        return self._position

    def __iter__(self) -> SamplerIterator:
        return self

    def __next__(self) -> Item:
        with self._lock:
            length = len(self._sampler)
            if self._position == length:
                self._set(self._epoch + 1, 0)
            if self._epochs is not None and self._epoch >= self._first_epoch + self._epochs:
                raise StopIteration
            chunk = self._chunk
            if chunk is None or self._position >= self._chunk_start + chunk.size:
                stop = min(length, self._position + max(_CHUNK // self._step, 1) * self._step)
                chunk = self._chunk = self._sampler.epoch(self._epoch, self._position, stop).indices
                self._chunk_start = self._position
            begin = self._position - self._chunk_start
            self._position += self._step
            if self._sampler.batch_size is None:
                return int(chunk[begin])
            return chunk[begin : begin + self._step].copy()

    def state_dict(self) -> dict[str, object]:
        """``{"fingerprint", "epoch", "position"}`` of the next item: what `load_state_dict` takes."""
        with self._lock:
            return {"fingerprint": self._sampler.fingerprint, "epoch": self._epoch, "position": self._position}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Continues from a state of `state_dict`, of an iterator over the same sampler's stream."""
        epoch, position = check_state(state, self._sampler)
        with self._lock:
            self._set(epoch, position)
            self._first_epoch = check_int("state['epoch']", state["epoch"])

    def __repr__(self) -> str:
        return f"SamplerIterator(epoch={self._epoch}, position={self._position}, epochs={self._epochs})"
