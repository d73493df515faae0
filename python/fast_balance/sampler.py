"""BalancedIndexSampler: exact, reproducible class-balanced index streams."""

from __future__ import annotations

import hashlib
import numbers
from typing import Iterator, NamedTuple, Union

import numpy as np

from . import _core
from .weights import Target, target_probabilities, target_weights

SamplesPerEpoch = Union[str, int]
SAMPLES_PER_EPOCH_NAMES = ("max", "min", "n")

# Iteration materialises the epoch this many samples at a time.
_ITER_CHUNK = 1 << 20


class Epoch(NamedTuple):
    """One epoch (or a slice of it), position by position."""

    indices: np.ndarray  #: int64 sample indices into the dataset
    labels: np.ndarray  #: int32 class of each sample
    repeats: np.ndarray  #: int32 times the same index was emitted earlier in the epoch (0 = first view)


def _is_int(value: object) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_int(name: str, value: object, minimum: int) -> int:
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def normalize_labels(labels) -> tuple[np.ndarray, int]:
    """Checks labels and returns them as a 1-D integer array (no copy when possible) and max + 1."""
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError("labels is empty")
    if array.dtype == np.bool_ or array.dtype.kind not in "iu":
        raise TypeError(f"labels must have an integer dtype, got {array.dtype}")
    low = int(array.min())
    if low < 0:
        position = int(np.argmax(array < 0))
        raise ValueError(f"labels must be >= 0; label {low} at position {position}")
    return array, int(array.max()) + 1

MAX_SAMPLES_PER_EPOCH = 1 << 46  # the core's limit; at 16 bytes a slot, a petabyte of output


def _epoch_size(samples_per_epoch: SamplesPerEpoch, counts: np.ndarray, weights: np.ndarray, unit: int) -> int:
    """Samples in one epoch over all shards, a multiple of `unit` (batch_size * num_shards)."""
    active = [(int(n), int(w)) for n, w in zip(counts, weights) if w > 0]
    total_weight = sum(w for _, w in active)
    if isinstance(samples_per_epoch, str):
        if samples_per_epoch == "max":  # smallest epoch in which every class gets at least its count
            size = max(-(-n * total_weight // w) for n, w in active)
        elif samples_per_epoch == "min":  # largest epoch in which no class gets more than its count
            size = min(n * total_weight // w for n, w in active)
            return max(unit, size // unit * unit)
        elif samples_per_epoch == "n":
            size = int(counts.sum())
        else:
            raise ValueError(
                f"samples_per_epoch must be one of {SAMPLES_PER_EPOCH_NAMES} or a positive integer, "
                f"got {samples_per_epoch!r}"
            )
    else:
        size = _check_int("samples_per_epoch", samples_per_epoch, 1)
    size = -(-size // unit) * unit
    if size > MAX_SAMPLES_PER_EPOCH:
        raise ValueError(
            f"samples_per_epoch would be {size:,}, more than the {MAX_SAMPLES_PER_EPOCH:,} (2^46) an epoch can hold"
        )
    return size


def _output_views(out, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first `size` elements of each of the three `out` arrays, checked for `fill_into`."""
    if not isinstance(out, tuple) or len(out) != 3:
        raise TypeError("out must be an Epoch (or a tuple) of three arrays: indices, labels, repeats")
    views = []
    for name, array, dtype in zip(("indices", "labels", "repeats"), out, (np.int64, np.int32, np.int32)):
        if not isinstance(array, np.ndarray) or array.dtype != dtype or array.ndim != 1:
            raise TypeError(f"out.{name} must be a 1-D {np.dtype(dtype).name} array")
        if not array.flags.c_contiguous or not array.flags.writeable:
            raise ValueError(f"out.{name} must be C-contiguous and writeable")
        if array.shape[0] < size:
            raise ValueError(f"out.{name} has {array.shape[0]} elements, {size} are needed")
        views.append(array[:size])
    return tuple(views)


class BalancedIndexSampler:
    """Class-balanced (or any target distribution) index stream over a labelled dataset.

    Every epoch draws an exact number of samples from each class (``quotas``) and arranges
    them at random; with ``batch_size`` every batch is stratified. The stream is a pure
    function of ``(seed, epoch, position)``: the same on every machine, for any thread count,
    and any position can be reached directly.

    Parameters
    ----------
    labels : array_like of int, 1-D
        Class of every sample, in [0, num_classes). Any integer dtype; not copied when
        C-contiguous.
    num_classes : int, optional
        Defaults to ``max(labels) + 1``.
    target : str, float, sequence, array or dict
        Class distribution to draw: ``"balanced"`` (equal), ``"instance"`` (the data's own
        frequencies), a power q (p_c proportional to count_c**q; 0.5 is square-root sampling),
        or per-class weights (sequence/array of num_classes, or dict {class: weight} with
        missing classes at 0).
    samples_per_epoch : {"max", "min", "n"} or int
        ``"max"``: the smallest epoch in which every class is drawn at least as often as it has
        samples (balanced: num_classes * largest class). ``"min"``: the largest epoch in which
        no class repeats a sample (balanced: num_classes * smallest class). ``"n"``: the
        dataset size. An int: that many. Rounded up to a multiple of ``batch_size *
        num_shards`` ("min" rounds down) so that every shard gets whole batches.
    replacement : bool
        False: each class is a pool consumed in a fresh random order per pass; pools carry
        over epochs, so an undersampled class cycles through all its samples over successive
        epochs. True: independent uniform draws within the class.
    batch_size : int, optional
        Stratified batches: every batch holds floor or ceil of ``batch_size * p_c`` samples of
        class c, and after every prefix of an epoch's batches each class count is within 1 of
        its exact share; classes of equal quota take their slots in turn, in an order drawn
        afresh every epoch. Order inside a batch is random. Without it, the epoch is stratified in
        stretches of about 16k samples (each holds floor or ceil of its share of every class)
        and in random order inside each stretch.
    seed : int
        Non-negative; the whole stream is determined by it.
    num_shards, shard_index : int
        This sampler yields shard ``shard_index`` of ``num_shards`` disjoint shards: batches
        (or, unbatched, positions) ``shard_index, shard_index + num_shards, ...`` of the global
        epoch. The shards' union is the epoch; each shard's batches are stratified.

    Examples
    --------
    >>> import numpy as np, fast_balance
    >>> labels = np.array([0] * 90 + [1] * 10)
    >>> sampler = fast_balance.BalancedIndexSampler(labels, batch_size=20, seed=1)
    >>> epoch = sampler.epoch(0)
    >>> np.bincount(epoch.labels[:20]).tolist()
    [10, 10]
    >>> len(sampler), int(epoch.repeats.max()) > 0
    (180, True)
    """

    def __init__(
        self,
        labels,
        *,
        num_classes: int | None = None,
        target: Target = "balanced",
        samples_per_epoch: SamplesPerEpoch = "max",
        replacement: bool = False,
        batch_size: int | None = None,
        seed: int = 0,
        num_shards: int = 1,
        shard_index: int = 0,
    ) -> None:
        array, inferred = normalize_labels(labels)
        if num_classes is None:
            num_classes = inferred
        num_classes = _check_int("num_classes", num_classes, 1)
        if inferred > num_classes:
            position = int(np.argmax(array >= num_classes))
            raise ValueError(
                f"labels must be < num_classes ({num_classes}); label {int(array[position])} at position {position}"
            )
        if batch_size is not None:
            batch_size = _check_int("batch_size", batch_size, 1)
        seed = _check_int("seed", seed, 0)
        if seed >= 1 << 64:
            raise ValueError(f"seed must be < 2**64, got {seed}")
        num_shards = _check_int("num_shards", num_shards, 1)
        shard_index = _check_int("shard_index", shard_index, 0)
        if shard_index >= num_shards:
            raise ValueError(f"shard_index must be < num_shards ({num_shards}), got {shard_index}")
        if not isinstance(replacement, (bool, np.bool_)):
            raise TypeError(f"replacement must be a bool, got {replacement!r}")

        counts = np.bincount(array.astype(np.int64, copy=False), minlength=num_classes)
        weights = target_weights(target, counts)
        unit = (batch_size or 1) * num_shards
        size = _epoch_size(samples_per_epoch, counts, weights, unit)

        self._core = _core.Sampler(
            array, num_classes, weights, seed, size, batch_size or 0, bool(replacement), num_shards, shard_index
        )
        self._outputs = _core.OutputPool()
        self._target = target
        self._weights = weights
        self._num_classes = num_classes
        self._samples_per_epoch = size
        self._batch_size = batch_size
        self._replacement = bool(replacement)
        self._seed = seed
        self._num_shards = num_shards
        self._shard_index = shard_index
        self._epoch = 0
        self._position = 0
        digest = hashlib.blake2b(digest_size=8)
        digest.update(np.ascontiguousarray(array, dtype="<i8").tobytes())
        digest.update(np.ascontiguousarray(weights, dtype="<u8").tobytes())
        digest.update(repr((num_classes, size, batch_size, bool(replacement), seed, num_shards)).encode())
        self._fingerprint = digest.hexdigest()

    # -- description -------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return self._num_classes

    @property
    def class_counts(self) -> np.ndarray:
        """Samples of each class in the dataset (int64, length num_classes)."""
        return self._core.class_counts

    @property
    def class_probabilities(self) -> np.ndarray:
        """The target distribution p_c (float64, sums to 1)."""
        weights = self._weights.astype(np.float64)
        return weights / weights.sum()

    @property
    def quotas(self) -> np.ndarray:
        """Draws of each class in every epoch over all shards (int64; sums to samples_per_epoch)."""
        return self._core.quotas

    @property
    def samples_per_epoch(self) -> int:
        """Samples in one epoch over all shards."""
        return self._samples_per_epoch

    @property
    def batch_size(self) -> int | None:
        return self._batch_size

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def num_shards(self) -> int:
        return self._num_shards

    @property
    def shard_index(self) -> int:
        return self._shard_index

    @property
    def fingerprint(self) -> str:
        """Identifies the stream: the same for samplers built with the same labels and options."""
        return self._fingerprint

    @property
    def num_batches(self) -> int:
        """Batches per epoch in this shard (requires batch_size)."""
        if self._batch_size is None:
            raise ValueError("num_batches needs batch_size")
        return len(self) // self._batch_size

    def __len__(self) -> int:
        """Samples per epoch in this shard."""
        return self._samples_per_epoch // self._num_shards

    def __repr__(self) -> str:
        return (
            f"BalancedIndexSampler(num_classes={self._num_classes}, target={self._target!r}, "
            f"samples_per_epoch={self._samples_per_epoch}, batch_size={self._batch_size}, "
            f"replacement={self._replacement}, seed={self._seed}, shard={self._shard_index}/{self._num_shards}, "
            f"epoch={self._epoch}, position={self._position})"
        )

    # -- the stream ----------------------------------------------------------------------------
    def epoch(self, epoch: int, start: int = 0, stop: int | None = None, out: Epoch | None = None) -> Epoch:
        """This shard's positions ``[start, stop)`` of epoch ``epoch``.

        Costs one pass over the epoch's schedule plus the output, whatever ``start`` is, and
        never depends on earlier epochs having been generated.

        Parameters
        ----------
        out : Epoch, optional
            Arrays to write into instead of new ones (int64, int32, int32, C-contiguous,
            writeable, at least ``stop - start`` long), e.g. the previous epoch's. Without it
            the arrays are new, but their memory is that of earlier results once every array and
            view of those has been dropped: the sampler keeps the largest such memory for reuse
            (fresh memory of a large epoch costs the kernel a page fault per 4 KiB).

        Returns
        -------
        Epoch
            ``(indices int64, labels int32, repeats int32)`` NumPy arrays not shared with any
            array you hold, or the leading ``stop - start`` elements of ``out``.

        Examples
        --------
        >>> buffers = sampler.epoch(0)
        >>> for e in range(1, 10):
        ...     buffers = sampler.epoch(e, out=buffers)
        """
        epoch = _check_int("epoch", epoch, 0)
        length = len(self)
        stop = length if stop is None else _check_int("stop", stop, 0)
        start = _check_int("start", start, 0)
        if not start <= stop <= length:
            raise ValueError(f"need 0 <= start <= stop <= {length}, got start={start}, stop={stop}")
        views = self._outputs.take(stop - start) if out is None else _output_views(out, stop - start)
        self._core.fill_into(epoch, start, stop, *views)
        return Epoch(*views)

    def set_epoch(self, epoch: int) -> None:
        """Makes iteration start at the beginning of ``epoch``."""
        self._epoch = _check_int("epoch", epoch, 0)
        self._position = 0

    @property
    def current_epoch(self) -> int:
        """The epoch that iteration reads."""
        return self._epoch

    @property
    def position(self) -> int:
        """Samples of the current epoch already yielded by iteration."""
        return self._position

    def __iter__(self) -> Iterator:
        """Yields the rest of the current epoch, then moves to the next epoch.

        Yields sample indices (int) without ``batch_size``, and int64 arrays of one batch's
        indices with it.
        """
        length = len(self)
        step = self._batch_size or 1
        while self._position < length:
            stop = min(length, self._position + max(_ITER_CHUNK // step, 1) * step)
            indices = self._core.fill(self._epoch, self._position, stop)[0]
            if self._batch_size is None:
                for value in indices.tolist():
                    self._position += 1
                    yield value
            else:
                for begin in range(0, indices.size, step):
                    self._position += min(step, indices.size - begin)
                    yield indices[begin : begin + step]
        self._epoch += 1
        self._position = 0

    def state_dict(self) -> dict:
        """``{"seed", "epoch", "position"}``: everything needed to resume iteration exactly."""
        return {"seed": self._seed, "epoch": self._epoch, "position": self._position}

    def load_state_dict(self, state: dict) -> None:
        """Resumes iteration at a state from `state_dict` (of a sampler built the same way)."""
        missing = {"seed", "epoch", "position"} - set(state)
        if missing:
            raise KeyError(f"state is missing {sorted(missing)}")
        if int(state["seed"]) != self._seed:
            raise ValueError(f"state is for seed {state['seed']}, this sampler has seed {self._seed}")
        epoch = _check_int("epoch", state["epoch"], 0)
        position = _check_int("position", state["position"], 0)
        if position > len(self):
            raise ValueError(f"position {position} is beyond the epoch's {len(self)} samples")
        self._epoch, self._position = epoch, position


__all__ = ["BalancedIndexSampler", "Epoch", "target_probabilities"]
