"""BalancedIndexSampler: exact, reproducible class-balanced index streams, as a pure plan."""

from __future__ import annotations

import hashlib
import threading
import types
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Union

import numpy as np
import numpy.typing as npt

from . import _core
from ._checks import check_int
from ._memory import check_fits
from ._plan_base import MAX_SAMPLES_PER_EPOCH, PlanBase, check_layout
from .iterator import SamplerIterator
from .labels import MAX_CLASSES, normalize_labels
from .sample_weights import normalize_sample_weights
from .weights import Target, check_weights, integer_weights, present_class_weights

SamplesPerEpoch = Union[str, int]

if TYPE_CHECKING:
    from typing import TypeGuard
SAMPLES_PER_EPOCH_NAMES = ("max", "min", "n")

#: The core's limits: slots of an epoch (the bucket arithmetic's), samples of a batch, and
#: batches of an epoch (the batch schedule counts them in int32).
MAX_BATCHES = (1 << 31) - 1
# A class's draws are numbered over all epochs (epoch * quota + k) below this.
_DRAW_LIMIT = 1 << 62


class Epoch(NamedTuple):
    """One epoch (or a slice of it), position by position."""

    indices: np.ndarray  #: int64 sample indices into the dataset
    labels: np.ndarray  #: int32 class of each sample
    repeats: np.ndarray  #: int32 times the same index was emitted earlier in the epoch (0 = first view)


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


OUTPUT_FIELDS = (("indices", np.int64), ("labels", np.int32), ("repeats", np.int32))


def output_views(
    out: object, size: int, fields: tuple[tuple[str, type], ...] = OUTPUT_FIELDS, kind: str = "an Epoch"
) -> tuple[np.ndarray, ...]:
    """The first ``size`` elements of each ``out`` array (one per field), checked for ``fill_into``."""
    names = tuple(name for name, _ in fields)
    if not isinstance(out, tuple) or len(out) != len(fields):
        count = {2: "two", 3: "three"}.get(len(fields), str(len(fields)))
        raise TypeError(f"out must be {kind} (or a tuple) of {count} arrays: {', '.join(names)}")
    views = []
    for (name, dtype), array in zip(fields, out):
        if not isinstance(array, np.ndarray) or array.dtype != dtype or array.ndim != 1:
            raise TypeError(f"out.{name} must be a 1-D {np.dtype(dtype).name} array")
        if not array.flags.c_contiguous or not array.flags.writeable:
            raise ValueError(f"out.{name} must be C-contiguous and writeable")
        if array.shape[0] < size:
            raise ValueError(f"out.{name} has {array.shape[0]} elements, {size} are needed")
        views.append(array[:size])
    for a in range(len(views)):
        for b in range(a + 1, len(views)):
            if size and np.shares_memory(views[a], views[b]):
                raise ValueError(f"out.{names[a]} and out.{names[b]} share memory; give separate arrays")
    return tuple(views)


class BalancedIndexSampler(PlanBase):
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
    target : str, float, sequence, array, dict, Blend or callable
        Class distribution to draw: ``"balanced"`` (equal), ``"instance"`` (the data's own
        frequencies), a power q (p_c proportional to count_c**q; 0.5 is square-root sampling),
        per-class weights (sequence/array of num_classes, or dict {class: weight} with
        missing classes at 0), a `fast_balance.schedules.Blend` of two of these, or a schedule:
        a function of the epoch returning one of these (`fast_balance.schedules`). Under a
        schedule, epoch e draws ``target(e)``'s quotas and each class's pool continues where the
        earlier epochs left it; any epoch is still reached directly (its draw origin is the sum
        of the earlier quotas, computed without generating those epochs).
    samples_per_epoch : {"max", "min", "n"}, int or None
        None (the default): ``"max"``, or ``"n"`` under a schedule, whose epochs all have the
        same length (``"max"`` and ``"min"`` depend on the target, so a schedule refuses them).
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
    sample_weights : array_like of float, optional
        A non-negative weight per sample (hard examples up, noisy labels down). Quotas still come
        from ``target``; inside a class, a sample's expected count per epoch is proportional to
        its weight. Without replacement every sample comes floor or ceil of its expected count
        each epoch, the fractions carry over epochs (a sample expected 0.25 times comes about
        every fourth epoch) and its copies are spread through the epoch. With replacement, draws
        are independent, in proportion to the weights. A class whose samples all weigh the same
        draws exactly as without weights. See the guide, ``docs/guide/weights.md``.

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

    With sample weights, the first sample of class 1 is expected three times as often as the
    others of its class, and every sample comes floor or ceil of its expected count:

    >>> weights = np.where(np.arange(100) == 90, 3.0, 1.0)
    >>> weighted = fast_balance.BalancedIndexSampler(labels, sample_weights=weights, seed=1)
    >>> expected = weighted.expected_counts
    >>> expected[90:93].tolist()
    [22.5, 7.5, 7.5]
    >>> counts = np.bincount(weighted.epoch(0).indices, minlength=100)
    >>> bool(np.all((np.floor(expected) <= counts) & (counts <= np.ceil(expected))))
    True
    """

    def __init__(
        self,
        labels: npt.ArrayLike,
        *,
        num_classes: int | None = None,
        target: Target | Callable[[int], Target] = "balanced",
        samples_per_epoch: SamplesPerEpoch | None = None,
        replacement: bool = False,
        batch_size: int | None = None,
        seed: int = 0,
        num_shards: int = 1,
        shard_index: int = 0,
        sample_weights: npt.ArrayLike | None = None,
    ) -> None:
        if num_classes is not None:
            num_classes = check_int("num_classes", num_classes, minimum=1, maximum=MAX_CLASSES)
        array, inferred = normalize_labels(labels, num_classes=num_classes)
        schedule = target if is_schedule(target) else None
        if samples_per_epoch is None:
            samples_per_epoch = "max" if schedule is None else "n"
        elif schedule is not None and samples_per_epoch in ("max", "min"):
            raise ValueError(
                f"samples_per_epoch={samples_per_epoch!r} depends on the target, which a schedule changes every "
                "epoch; give 'n' (the default under a schedule) or an integer: the epoch length stays fixed"
            )
        values = None if sample_weights is None else normalize_sample_weights(sample_weights, array.size)
        if num_classes is None:
            num_classes = inferred
        layout = check_layout(batch_size, replacement, seed, num_shards, shard_index)
        batch_size, replacement, seed, num_shards, shard_index = layout

        # The core copies the labels (4 bytes each) and groups them (8 bytes each); counting them
        # densely costs 8 bytes per id up to the largest label, used only when that is near N.
        dense_ids = inferred if inferred < 2 * array.size + 1024 else 0
        # Sample weights: a copy (8 bytes each), their integers (4) and the weighted classes' lines (8).
        needed = 12 * array.size + 8 * dense_ids + (20 * array.size if values is not None else 0)
        check_fits(needed, f"a sampler of {array.size:,} labels")
        index = _core.ClassIndex(array, num_classes)
        classes, counts = index.classes, index.counts
        if schedule is not None:
            target_now = _scheduled_target(schedule, 0)
            float_weights = _checked_weights(target_now, classes, counts, num_classes, 0)
        else:
            fixed: Target = target  # type: ignore[assignment]  # not a schedule: checked above
            float_weights = present_class_weights(fixed, classes, counts, num_classes)
            check_weights(float_weights, "target", classes)
        weights = integer_weights(float_weights)
        core_weights = None
        if values is not None:
            _check_weighted_classes(values, array, classes, float_weights)
            core_weights = _core.SampleWeights(values, index)
        unit = (batch_size or 1) * num_shards
        size = _epoch_size(samples_per_epoch, counts, weights, unit)
        if batch_size is not None and size // batch_size > MAX_BATCHES:
            raise ValueError(
                f"an epoch of {size:,} samples in batches of {batch_size} has {size // batch_size:,} batches, "
                f"more than the {MAX_BATCHES:,} (2^31 - 1) an epoch can hold"
            )
        self._core = _core.Sampler(
            index, weights, seed, size, batch_size or 0, replacement, num_shards, shard_index, core_weights
        )
        self._sample_weights = core_weights
        self._index = index
        self._outputs = _core.OutputPool()
        self._classes = classes
        self._counts = counts
        self._target = target
        self._weights = weights
        self._num_classes = num_classes
        self._set_layout(layout, size)
        self._options = dict(num_classes=num_classes, target=target, samples_per_epoch=samples_per_epoch,
                             replacement=replacement, batch_size=batch_size, seed=seed, num_shards=num_shards,
                             shard_index=shard_index)
        self._max_epoch = (_DRAW_LIMIT - 1) // max(int(self._core.quotas.max()), 1)
        self._fingerprint = f"{self._core.fingerprint:016x}"
        self._schedule = schedule
        if schedule is not None:
            identity = f"{self._fingerprint}:{schedule_identity(schedule)}".encode()
            self._fingerprint = hashlib.blake2b(identity, digest_size=8).hexdigest()
            self._plans: OrderedDict[bytes, Any] = OrderedDict()
            self._origins: dict[int, np.ndarray] = {0: np.zeros(classes.size, dtype=np.int64)}
            self._schedule_lock = threading.Lock()

    # -- pickling: a sampler is rebuilt from its labels and options ------------------------------
    def __reduce__(self) -> tuple[Any, tuple[np.ndarray, dict[str, Any]]]:
        options = dict(self._options)
        if self._sample_weights is not None:  # the integers the core draws by give the same stream
            options["sample_weights"] = self._sample_weights.integers()
        return (_rebuild, (self._index.labels(), options))

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
    def expected_counts(self) -> np.ndarray:
        """Each sample's expected count in an epoch over all shards (float64, sums to samples_per_epoch).

        ``quota_c * w_i / W_c`` for sample i of class c (``W_c`` its class's total weight), or
        ``quota_c / count_c`` without sample weights; from the integer weights the core draws by.
        """
        labels = self._index.labels().astype(np.int64)
        quotas = self.quotas.astype(np.float64)
        if self._sample_weights is None:
            weights = np.ones(labels.size)
        else:
            weights = self._sample_weights.integers().astype(np.float64)
        totals = np.bincount(labels, weights=weights, minlength=self._num_classes)
        expected: np.ndarray = quotas[labels] * weights / np.where(totals > 0, totals, 1.0)[labels]
        return expected

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
        epoch, start, stop = self._checked_slice(epoch, start, stop, 16 if out is None else None)
        if out is None:
            indices, labels, repeats = self._outputs.take(stop - start)
        else:
            indices, labels, repeats = output_views(out, stop - start)
        self._core_at(epoch).fill_into(epoch, start, stop, indices, labels, repeats)
        return Epoch(indices, labels, repeats)

    # -- target schedules ----------------------------------------------------------------------
    def _weights_at(self, epoch: int) -> np.ndarray:
        target = _scheduled_target(self._schedule, epoch)  # type: ignore[arg-type]
        return integer_weights(_checked_weights(target, self._classes, self._counts, self._num_classes, epoch))

    def _origin_at(self, epoch: int) -> np.ndarray:
        """Each present class's draws before ``epoch``: the sum of its quotas over the earlier epochs."""
        with self._schedule_lock:
            known = max(e for e in self._origins if e <= epoch)
            origin = self._origins[known].copy()
        for e in range(known, epoch):
            origin += _core.apportion(self._samples_per_epoch, self._weights_at(e))
            if (e + 1) % _ORIGIN_EVERY == 0:
                with self._schedule_lock:
                    self._origins[e + 1] = origin.copy()
        return origin

    def _core_at(self, epoch: int) -> Any:
        """The core plan that epoch ``epoch`` is drawn from: under a schedule, one for the epoch's
        target whose draws continue where the earlier epochs' ended."""
        if self._schedule is None or epoch == 0:
            return self._core
        weights = self._weights_at(epoch)
        quotas = _core.apportion(self._samples_per_epoch, weights)
        shifts = self._origin_at(epoch) - np.int64(epoch) * quotas
        key = weights.tobytes() + shifts.tobytes()
        with self._schedule_lock:
            core = self._plans.get(key)
            if core is not None:
                self._plans.move_to_end(key)
                return core
        core = _core.Sampler(self._index, weights, self._seed, self._samples_per_epoch, self._batch_size or 0,
                             self._replacement, self._num_shards, self._shard_index, self._sample_weights, shifts)
        with self._schedule_lock:
            self._plans[key] = core
            while len(self._plans) > _PLANS_KEPT:
                self._plans.popitem(last=False)
        return core

    def quotas_at(self, epoch: int) -> np.ndarray:
        """Samples of each class id in epoch ``epoch`` (int64, length num_classes): `quotas`
        unless the target is a schedule.

        Examples
        --------
        >>> from fast_balance.schedules import TwoStage
        >>> s = fast_balance.BalancedIndexSampler([0] * 9 + [1], target=TwoStage("instance", "balanced", 2))
        >>> s.quotas_at(1).tolist(), s.quotas_at(2).tolist()
        ([9, 1], [5, 5])
        """
        epoch = check_int("epoch", epoch, minimum=0, maximum=self._max_epoch)
        return self._per_id(self._core_at(epoch).quotas, np.int64)

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


#: Under a schedule: how many epochs apart the draw origins are remembered, and how many per-epoch
#: plans are kept (a schedule constant over a stretch of epochs reuses one).
_ORIGIN_EVERY = 16
_PLANS_KEPT = 8


def is_schedule(target: object) -> TypeGuard[Callable[[int], Target]]:
    """Whether ``target`` is a target schedule (a callable of the epoch) rather than a target."""
    return callable(target) and not isinstance(target, (str, Mapping, np.ndarray, type))


def schedule_identity(schedule: Callable[[int], Target]) -> str:
    """What identifies a schedule across processes, for the sampler's fingerprint: a function's
    qualified name, else its repr (the schedules of `fast_balance.schedules` are dataclasses)."""
    if isinstance(schedule, (types.FunctionType, types.BuiltinFunctionType)):
        return f"{schedule.__module__}.{schedule.__qualname__}"
    return repr(schedule)


def _scheduled_target(schedule: Callable[[int], Target], epoch: int) -> Target:
    try:
        return schedule(epoch)
    except Exception as error:
        raise ValueError(f"target schedule failed at epoch {epoch}: {type(error).__name__}: {error}") from error


def _checked_weights(
    target: Target, classes: np.ndarray, counts: np.ndarray, num_classes: int, epoch: int
) -> np.ndarray:
    """The float class weights of a scheduled target, errors naming the epoch."""
    if is_schedule(target):
        raise TypeError(f"target schedule returned a callable at epoch {epoch}; it must return a target")
    try:
        weights = present_class_weights(target, classes, counts, num_classes)
        check_weights(weights, "target", classes)
    except (TypeError, ValueError) as error:
        raise type(error)(f"target schedule at epoch {epoch}: {error}") from error
    return weights


def _check_weighted_classes(values: np.ndarray, labels: np.ndarray, classes: np.ndarray, target: np.ndarray) -> None:
    """ValueError naming the classes that the target draws from but whose sample weights are all zero."""
    totals = np.bincount(labels.astype(np.int64, copy=False), weights=values)[classes]
    empty = classes[(totals == 0) & (target > 0)]
    if empty.size:
        shown = ", ".join(map(str, empty[:20].tolist())) + (" ..." if empty.size > 20 else "")
        raise ValueError(
            f"sample_weights are all zero in {empty.size:,} classes that the target draws from: {shown}. "
            "Give them a positive weight somewhere, or weight 0 in the target."
        )


def _rebuild(labels: np.ndarray, options: dict[str, Any]) -> BalancedIndexSampler:
    return BalancedIndexSampler(labels, **options)


__all__ = ["BalancedIndexSampler", "Epoch", "SamplerIterator"]
