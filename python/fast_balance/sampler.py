"""BalancedIndexSampler: exact, reproducible class-balanced index streams, as a pure plan."""

from __future__ import annotations

import os
from typing import Any, NamedTuple, Union

import numpy as np
import numpy.typing as npt

from . import _core
from ._checks import check_bool, check_int, check_seed
from .iterator import SamplerIterator
from .labels import MAX_CLASSES, normalize_labels
from .weights import Target, check_weights, integer_weights, present_class_weights

SamplesPerEpoch = Union[str, int]
SAMPLES_PER_EPOCH_NAMES = ("max", "min", "n")

#: The core's limits: slots of an epoch (the bucket arithmetic's), samples of a batch, and
#: batches of an epoch (the batch schedule counts them in int32).
MAX_SAMPLES_PER_EPOCH = 1 << 46
MAX_BATCH_SIZE = 1 << 26
MAX_BATCHES = (1 << 31) - 1
# A class's draws are numbered over all epochs (epoch * quota + k) below this.
_DRAW_LIMIT = 1 << 62


class Epoch(NamedTuple):
    """One epoch (or a slice of it), position by position."""

    indices: np.ndarray  #: int64 sample indices into the dataset
    labels: np.ndarray  #: int32 class of each sample
    repeats: np.ndarray  #: int32 times the same index was emitted earlier in the epoch (0 = first view)


def physical_memory() -> int:
    """Bytes of memory of this machine (64 GiB where the platform does not say)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 64 << 30


def _gib(size: int) -> str:
    return f"{size / 2**30:,.1f} GiB"


def _epoch_size(samples_per_epoch: SamplesPerEpoch, counts: np.ndarray, weights: np.ndarray, unit: int) -> int:
    """Samples in one epoch over all shards, a multiple of ``unit`` (batch_size * num_shards)."""
    active = weights > 0
    n, w = counts[active], weights[active]
    total_weight = int(w.astype(object).sum())
    if isinstance(samples_per_epoch, str):
        if samples_per_epoch not in SAMPLES_PER_EPOCH_NAMES:
            raise ValueError(
                f"samples_per_epoch must be one of {SAMPLES_PER_EPOCH_NAMES} or a positive integer, "
                f"got {samples_per_epoch!r}"
            )
        if samples_per_epoch == "n":
            size = int(counts.sum())
        else:
            # Exact integer arithmetic on the few classes that can be the extreme one.
            ratio = n / w.astype(np.float64)
            extreme = ratio.max() if samples_per_epoch == "max" else ratio.min()
            near = np.flatnonzero(np.isclose(ratio, extreme, rtol=1e-9, atol=0))
            if samples_per_epoch == "max":  # smallest epoch in which every class gets at least its count
                size = max(-(-int(n[c]) * total_weight // int(w[c])) for c in near)
            else:  # largest epoch in which no class gets more than its count
                size = min(int(n[c]) * total_weight // int(w[c]) for c in near)
                return max(unit, size // unit * unit)
    else:
        size = check_int("samples_per_epoch", samples_per_epoch, minimum=1)
    rounded = -(-size // unit) * unit
    if rounded > MAX_SAMPLES_PER_EPOCH:
        how = f" (rounded up to a multiple of batch_size * num_shards = {unit:,})" if rounded != size else ""
        raise ValueError(
            f"samples_per_epoch would be {rounded:,}{how}, more than the {MAX_SAMPLES_PER_EPOCH:,} (2^46) an epoch "
            "can hold"
        )
    return rounded


def _output_views(out: object, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``size`` elements of each of the three ``out`` arrays, checked for ``fill_into``."""
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
    names = ("indices", "labels", "repeats")
    for a in range(3):
        for b in range(a + 1, 3):
            if size and np.shares_memory(views[a], views[b]):
                raise ValueError(f"out.{names[a]} and out.{names[b]} share memory; give three separate arrays")
    return views[0], views[1], views[2]


class BalancedIndexSampler:
    """Class-balanced (or any target distribution) index stream over a labelled dataset.

    Every epoch draws an exact number of samples from each class (``quotas``) and arranges
    them at random; with ``batch_size`` every batch is stratified. The sampler is a pure plan:
    ``epoch(e, start, stop)`` is a function of ``(seed, e, position)`` only, the same on every
    machine and for any thread count, and reaches any slice without generating earlier epochs.
    Positions belong to consumers: `iterator` gives a cursor (`SamplerIterator`) with its own
    position and checkpoint. A sampler is safe to share between threads and to pickle.

    Parameters
    ----------
    labels : array_like of int, 1-D
        Class of every sample, in [0, num_classes). Any integer dtype or byte order.
    num_classes : int, optional
        Defaults to ``max(labels) + 1``. Classes without samples cost no memory.
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
        In [0, 2**64); the whole stream is determined by it.
    num_shards : int
        The number of disjoint shards the global epoch is split into.
    shard_index : int
        The shard this sampler yields: batches (or, unbatched, positions) ``shard_index,
        shard_index + num_shards, ...`` of the global epoch. The shards' union is the epoch; each
        shard's batches are stratified.

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
        labels: npt.ArrayLike,
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
        if num_classes is not None:
            num_classes = check_int("num_classes", num_classes, minimum=1, maximum=MAX_CLASSES)
        array, inferred = normalize_labels(labels, num_classes=num_classes)
        if num_classes is None:
            num_classes = inferred
        if batch_size is not None:
            batch_size = check_int("batch_size", batch_size, minimum=1, maximum=MAX_BATCH_SIZE)
        seed = check_seed(seed)
        num_shards = check_int("num_shards", num_shards, minimum=1, maximum=MAX_SAMPLES_PER_EPOCH)
        shard_index = check_int("shard_index", shard_index, minimum=0)
        if shard_index >= num_shards:
            raise ValueError(f"shard_index must be < num_shards ({num_shards}), got {shard_index}")
        replacement = check_bool("replacement", replacement)

        # The core copies the labels (4 bytes each) and groups them (8 bytes each); counting them
        # densely costs 8 bytes per id up to the largest label, used only when that is near N.
        dense_ids = inferred if inferred < 2 * array.size + 1024 else 0
        needed = 12 * array.size + 8 * dense_ids
        if needed > physical_memory():
            raise ValueError(
                f"a sampler of {array.size:,} labels needs about {_gib(needed)}, more than this machine's "
                f"{_gib(physical_memory())}"
            )
        index = _core.ClassIndex(array, num_classes)
        classes, counts = index.classes, index.counts
        float_weights = present_class_weights(target, classes, counts, num_classes)
        check_weights(float_weights, "target", classes)
        weights = integer_weights(float_weights)
        unit = (batch_size or 1) * num_shards
        size = _epoch_size(samples_per_epoch, counts, weights, unit)
        if batch_size is not None and size // batch_size > MAX_BATCHES:
            raise ValueError(
                f"an epoch of {size:,} samples in batches of {batch_size} has {size // batch_size:,} batches, "
                f"more than the {MAX_BATCHES:,} (2^31 - 1) an epoch can hold"
            )
        self._core = _core.Sampler(index, weights, seed, size, batch_size or 0, replacement, num_shards, shard_index)
        self._index = index
        self._outputs = _core.OutputPool()
        self._classes = classes
        self._counts = counts
        self._target = target
        self._weights = weights
        self._num_classes = num_classes
        self._samples_per_epoch = size
        self._batch_size = batch_size
        self._replacement = replacement
        self._seed = seed
        self._num_shards = num_shards
        self._shard_index = shard_index
        self._options = dict(num_classes=num_classes, target=target, samples_per_epoch=samples_per_epoch,
                             replacement=replacement, batch_size=batch_size, seed=seed, num_shards=num_shards,
                             shard_index=shard_index)
        self._max_epoch = (_DRAW_LIMIT - 1) // max(int(self._core.quotas.max()), 1)
        self._fingerprint = f"{self._core.fingerprint:016x}"

    # -- pickling: a sampler is rebuilt from its labels and options ------------------------------
    def __reduce__(self) -> tuple[Any, tuple[np.ndarray, dict[str, Any]]]:
        return (_rebuild, (self._index.labels(), self._options))

    # -- description -------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        """Number of class ids."""
        return self._num_classes

    def _per_id(self, values: np.ndarray, dtype: type) -> np.ndarray:
        """``values`` of the present classes spread over every class id (num_classes entries)."""
        out: np.ndarray = np.zeros(self._num_classes, dtype=dtype)
        out[self._classes] = values
        return out

    @property
    def classes(self) -> np.ndarray:
        """Ids of the classes present in the labels, ascending (int64)."""
        return self._classes.copy()

    @property
    def class_counts(self) -> np.ndarray:
        """Samples of each class id (int64, length num_classes)."""
        return self._per_id(self._counts, np.int64)

    @property
    def class_probabilities(self) -> np.ndarray:
        """The target distribution p_c of each class id (float64, sums to 1)."""
        weights = self._per_id(self._weights.astype(np.float64), np.float64)
        probabilities: np.ndarray = weights / weights.sum()
        return probabilities

    @property
    def quotas(self) -> np.ndarray:
        """Draws of each class id in every epoch over all shards (int64; sums to samples_per_epoch)."""
        return self._per_id(self._core.quotas, np.int64)

    @property
    def samples_per_epoch(self) -> int:
        """Samples in one epoch over all shards."""
        return self._samples_per_epoch

    @property
    def batch_size(self) -> int | None:
        return self._batch_size

    @property
    def replacement(self) -> bool:
        return self._replacement

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
        """Identifies the stream: equal for samplers built with the same labels and options."""
        return self._fingerprint

    @property
    def max_epoch(self) -> int:
        """The largest epoch number the stream reaches (its draws are numbered in 62 bits)."""
        return self._max_epoch

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
            f"replacement={self._replacement}, seed={self._seed}, shard={self._shard_index}/{self._num_shards})"
        )

    # -- the stream ----------------------------------------------------------------------------
    def epoch(self, epoch: int, start: int = 0, stop: int | None = None, out: Epoch | None = None) -> Epoch:
        """This shard's positions ``[start, stop)`` of epoch ``epoch``.

        Never depends on earlier epochs having been generated.

        Parameters
        ----------
        out : Epoch, optional
            Three separate arrays to write into instead of new ones (int64, int32, int32,
            C-contiguous, writeable, at least ``stop - start`` long), e.g. the previous epoch's.
            Without it the arrays are new, but their memory is that of earlier results once every
            array and view of those has been dropped: the sampler keeps the largest such memory
            for reuse (fresh memory of a large epoch costs the kernel a page fault per 4 KiB).

        Returns
        -------
        Epoch
            ``(indices int64, labels int32, repeats int32)`` NumPy arrays not shared with any
            array you hold, or the leading ``stop - start`` elements of ``out``.

        Examples
        --------
        >>> sampler = fast_balance.BalancedIndexSampler([0, 0, 0, 1], seed=0)
        >>> buffers = sampler.epoch(0)
        >>> for e in range(1, 10):
        ...     buffers = sampler.epoch(e, out=buffers)
        >>> np.array_equal(buffers.indices, sampler.epoch(9).indices)
        True
        """
        epoch = check_int("epoch", epoch, minimum=0, maximum=self._max_epoch)
        length = len(self)
        stop = length if stop is None else check_int("stop", stop, minimum=0)
        start = check_int("start", start, minimum=0)
        if not start <= stop <= length:
            raise ValueError(f"need 0 <= start <= stop <= {length}, got start={start}, stop={stop}")
        if out is None:
            size = 16 * (stop - start)
            if size > physical_memory():
                raise ValueError(
                    f"epoch({epoch}, {start}, {stop}) would return {stop - start:,} samples ({_gib(size)}), more "
                    f"than this machine's {_gib(physical_memory())}; ask for slices with start and stop"
                )
            views = self._outputs.take(stop - start)
        else:
            views = _output_views(out, stop - start)
        self._core.fill_into(epoch, start, stop, *views)
        return Epoch(*views)

    def iterator(self, epoch: int = 0, position: int = 0, epochs: int | None = None) -> SamplerIterator:
        """A cursor over the stream from ``(epoch, position)``: `SamplerIterator`.

        It yields the rest of that epoch, then the following ones (``epochs`` in all, counting the
        first; None: without end), and checkpoints with ``state_dict()`` / ``load_state_dict()``.
        """
        return SamplerIterator(self, epoch, position, epochs)

    def __iter__(self) -> SamplerIterator:
        """Epoch 0, once (sample indices, or one array per batch). For another epoch, or a
        checkpointed position, use ``iterator(epoch)``."""
        return SamplerIterator(self, 0, 0, epochs=1)


def _rebuild(labels: np.ndarray, options: dict[str, Any]) -> BalancedIndexSampler:
    return BalancedIndexSampler(labels, **options)


__all__ = ["BalancedIndexSampler", "Epoch", "SamplerIterator"]
