"""Multi-label input: the set of classes of each sample, and repeat factor sampling (LVIS).

A *label set* is the classes one sample holds (an image with a cat and a dog: ``{3, 7}``). The
sets of a data set are kept as CSR arrays (`LabelSets`): ``indices[indptr[i]:indptr[i + 1]]`` are
sample i's classes, sorted and without duplicates. `as_label_sets` reads every common form: a list
of lists, ``(indptr, indices)``, a dense multi-hot matrix, or a SciPy sparse matrix.

Repeat factor sampling (Gupta, Dollár and Girshick, LVIS, 2019) oversamples the images that hold
rare classes: with f(c) the fraction of images containing class c and a threshold t,
r(c) = max(1, sqrt(t / f(c))) and r(i) = max over the classes c of image i of r(c).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._checks import check_int, finite_float, is_int, is_number
from ._plan_base import check_layout
from .labels import MAX_CLASSES

if TYPE_CHECKING:
    from .weighted_sampler import WeightedIndexSampler

#: Samples and class memberships are counted in int64, class ids in int32.
MAX_SAMPLES = (1 << 31) - 1


@dataclass(frozen=True)
class LabelSets:
    """The label set of every sample, as CSR arrays (made by `as_label_sets`).

    ``indices[indptr[i]:indptr[i + 1]]`` holds sample i's classes, ascending, each once.

    Examples
    --------
    >>> sets = as_label_sets([[2, 0], [], [1, 2, 2]])
    >>> sets.indptr.tolist(), sets.indices.tolist(), sets.num_classes
    ([0, 2, 2, 4], [0, 2, 1, 2], 3)
    >>> len(sets), sets[2].tolist()
    (3, [1, 2])
    """

    indptr: np.ndarray  # int64, num_samples + 1
    indices: np.ndarray  # int32 class ids
    num_classes: int

    @property
    def num_samples(self) -> int:
        """Number of samples (rows)."""
        return int(self.indptr.shape[0] - 1)

    def __len__(self) -> int:
        return self.num_samples

    @property
    def sizes(self) -> np.ndarray:
        """Number of classes of each sample (int64)."""
        return np.diff(self.indptr)

    def __getitem__(self, sample: int) -> np.ndarray:
        """Sample ``sample``'s classes (int32)."""
        i = check_int("sample", sample, minimum=-self.num_samples, maximum=self.num_samples - 1) % self.num_samples
        row: np.ndarray = self.indices[self.indptr[i] : self.indptr[i + 1]]
        return row

    def class_counts(self) -> np.ndarray:
        """Samples containing each class (int64, num_classes entries)."""
        return np.bincount(self.indices, minlength=self.num_classes).astype(np.int64)

    def multi_hot(self, dtype: Any = np.float32) -> np.ndarray:
        """The dense ``[num_samples, num_classes]`` matrix, 1 where a sample holds a class."""
        out = np.zeros((self.num_samples, self.num_classes), dtype=dtype)
        out[np.repeat(np.arange(self.num_samples), self.sizes), self.indices] = 1
        return out


def as_label_sets(label_sets: object, num_classes: int | None = None, name: str = "label_sets") -> LabelSets:
    """The label set of every sample, checked, from any of the common forms.

    Parameters
    ----------
    label_sets
        One of: a sequence of per-sample sequences of class ids (``[[0, 3], [1], []]``); CSR arrays
        as a tuple ``(indptr, indices)`` of NumPy arrays; a dense 2-D multi-hot array
        ``[num_samples, num_classes]`` (non-zero means present); a SciPy sparse matrix or array
        of that shape; or a `LabelSets`.
    num_classes : int, optional
        Number of class ids; by default the largest id + 1 (or the matrix's width).
    name : str
        The argument's name in error messages.

    Returns
    -------
    LabelSets
        Each sample's classes sorted, duplicates dropped; empty sets kept.

    Examples
    --------
    >>> as_label_sets(np.array([[1, 0, 1], [0, 0, 0]])).indices.tolist()
    [0, 2]
    >>> as_label_sets((np.array([0, 1, 3]), np.array([4, 1, 0]))).num_classes
    5
    >>> as_label_sets([[0, 1], [-1]])
    Traceback (most recent call last):
    ValueError: label_sets: class ids must be >= 0, got -1 in the set of sample 1
    """
    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, minimum=1, maximum=MAX_CLASSES)
    if isinstance(label_sets, LabelSets):
        return _checked(label_sets.indptr, label_sets.indices, num_classes or label_sets.num_classes, name)
    if hasattr(label_sets, "tocsr") and hasattr(label_sets, "shape"):  # SciPy sparse, any format
        return _from_sparse(label_sets, num_classes, name)
    if isinstance(label_sets, np.ndarray) and label_sets.ndim == 2:
        return _from_dense(label_sets, num_classes, name)
    if isinstance(label_sets, np.ndarray) and label_sets.ndim != 1:
        raise ValueError(f"{name}: a multi-hot array must be 2-D [samples, classes], got shape {label_sets.shape}")
    if (
        isinstance(label_sets, tuple)
        and len(label_sets) == 2
        and all(isinstance(part, np.ndarray) and part.ndim == 1 for part in label_sets)
    ):
        indptr, indices = label_sets
        return _checked(_integers(indptr, f"{name} indptr"), _integers(indices, f"{name} indices"), num_classes, name)
    if isinstance(label_sets, (str, bytes)) or not isinstance(label_sets, Iterable):
        raise TypeError(
            f"{name} must be a sequence of per-sample class sets, (indptr, indices), or a multi-hot matrix; "
            f"got {type(label_sets).__name__}"
        )
    return _from_sequences(list(label_sets), num_classes, name)


def _integers(values: np.ndarray, name: str) -> np.ndarray:
    if values.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {values.dtype}")
    if values.dtype.kind == "u" and values.size and int(values.max()) >= 1 << 63:
        raise ValueError(f"{name}: value {int(values.max())} is too large")
    return values.astype(np.int64)


def _from_sequences(rows: list[Any], num_classes: int | None, name: str) -> LabelSets:
    if len(rows) > MAX_SAMPLES:
        raise ValueError(f"{name}: {len(rows):,} samples, more than the {MAX_SAMPLES:,} supported")
    sizes = np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, Iterable):
            kind = type(row).__name__
            raise TypeError(f"{name}: the set of sample {i} must be a sequence of class ids, got {kind} {row!r}")
        if not isinstance(row, (list, tuple, np.ndarray, set, frozenset, range)):
            rows[i] = row = list(row)
        sizes[i] = len(row)
    flat = list(itertools.chain.from_iterable(rows))
    for position, value in enumerate(flat):
        if not is_int(value):
            sample = int(np.searchsorted(np.cumsum(sizes), position, side="right"))
            raise TypeError(
                f"{name}: class ids must be integers, got {type(value).__name__} {value!r} "
                f"in the set of sample {sample}"
            )
    try:
        indices = np.array(flat, dtype=np.int64)
    except OverflowError:
        indices = np.array([min(int(v), 1 << 62) for v in flat], dtype=np.int64)
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(sizes, out=indptr[1:])
    return _checked(indptr, indices, num_classes, name)


def _from_dense(matrix: np.ndarray, num_classes: int | None, name: str) -> LabelSets:
    if matrix.dtype.kind not in "biuf":
        raise TypeError(f"{name}: a multi-hot matrix must be numeric or bool, got dtype {matrix.dtype}")
    if matrix.dtype.kind == "f" and not np.all(np.isfinite(matrix)):
        row, column = np.argwhere(~np.isfinite(matrix))[0]
        raise ValueError(f"{name}: multi-hot entry [{row}, {column}] is {matrix[row, column]}")
    if num_classes is not None and matrix.shape[1] != num_classes:
        raise ValueError(f"{name}: a multi-hot matrix of {matrix.shape[1]} columns for num_classes={num_classes}")
    rows, columns = np.nonzero(matrix)
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=matrix.shape[0]), out=indptr[1:])
    return _checked(indptr, columns.astype(np.int64), matrix.shape[1] or None, name)


def _from_sparse(matrix: Any, num_classes: int | None, name: str) -> LabelSets:
    csr = matrix.tocsr()
    csr.eliminate_zeros()
    if num_classes is not None and csr.shape[1] != num_classes:
        raise ValueError(f"{name}: a multi-hot matrix of {csr.shape[1]} columns for num_classes={num_classes}")
    if csr.dtype.kind == "f" and not np.all(np.isfinite(csr.data)):
        raise ValueError(f"{name}: the sparse multi-hot matrix holds non-finite entries")
    indptr = np.asarray(csr.indptr, dtype=np.int64)
    return _checked(indptr, np.asarray(csr.indices, dtype=np.int64), csr.shape[1] or None, name)


def _checked(indptr: np.ndarray, indices: np.ndarray, num_classes: int | None, name: str) -> LabelSets:
    """CSR arrays validated, each row sorted and de-duplicated."""
    if indptr.shape[0] < 1 or indptr[0] != 0:
        raise ValueError(f"{name}: indptr must start with 0, got {indptr[:1].tolist()}")
    if np.any(np.diff(indptr) < 0):
        i = int(np.argmax(np.diff(indptr) < 0))
        raise ValueError(f"{name}: indptr must not decrease, got {int(indptr[i])} then {int(indptr[i + 1])}")
    if indptr[-1] != indices.shape[0]:
        raise ValueError(f"{name}: indptr ends at {int(indptr[-1])} but there are {indices.shape[0]} indices")
    if indptr.shape[0] - 1 > MAX_SAMPLES:
        raise ValueError(f"{name}: {indptr.shape[0] - 1:,} samples, more than the {MAX_SAMPLES:,} supported")
    rows = np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int64), np.diff(indptr))
    if indices.size and int(indices.min()) < 0:
        position = int(np.argmin(indices))
        raise ValueError(
            f"{name}: class ids must be >= 0, got {int(indices[position])} in the set of sample {rows[position]}"
        )
    largest = int(indices.max()) if indices.size else -1
    if num_classes is None:
        if largest >= MAX_CLASSES:
            position = int(np.argmax(indices))
            raise ValueError(
                f"{name}: class ids must be < {MAX_CLASSES:,}, got {largest} in the set of sample {rows[position]}"
            )
        num_classes = max(largest + 1, 1)
    elif largest >= num_classes:
        position = int(np.argmax(indices >= num_classes))
        raise ValueError(
            f"{name}: class ids must be < num_classes ({num_classes}), got {int(indices[position])} "
            f"in the set of sample {rows[position]}"
        )
    order = np.lexsort((indices, rows))
    rows, indices = rows[order], indices[order]
    keep = np.ones(indices.shape[0], dtype=bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (indices[1:] != indices[:-1])
    sizes = np.bincount(rows[keep], minlength=indptr.shape[0] - 1)
    clean = np.zeros(indptr.shape[0], dtype=np.int64)
    np.cumsum(sizes, out=clean[1:])
    return LabelSets(clean, indices[keep].astype(np.int32), int(num_classes))


def class_frequencies(label_sets: object, num_classes: int | None = None) -> np.ndarray:
    """f(c): the fraction of samples whose set contains class c (float64, num_classes entries).

    Examples
    --------
    >>> class_frequencies([[0, 1], [0], [0, 2], [0]]).tolist()
    [1.0, 0.25, 0.25]
    """
    sets = as_label_sets(label_sets, num_classes)
    if sets.num_samples == 0:
        raise ValueError("label_sets: no samples")
    frequencies: np.ndarray = sets.class_counts() / sets.num_samples
    return frequencies


def repeat_factors(label_sets: object, threshold: float = 1e-3, *, num_classes: int | None = None) -> np.ndarray:
    """LVIS repeat factors r(i) = max over the classes c of sample i of max(1, sqrt(t / f(c))).

    f(c) is the fraction of samples containing class c and t the ``threshold``: classes in at
    least a fraction t of the samples are not oversampled, rarer ones by sqrt(t / f(c)). A sample
    with an empty set gets 1 (as Detectron2's ``repeat_factors_from_category_frequency``).
    `repeat_factor_sampler` samples by them, each image floor or ceil of r(i) times per epoch.

    Parameters
    ----------
    label_sets
        Any form `as_label_sets` reads.
    threshold : float in (0, 1]
        t; LVIS uses 1e-3.
    num_classes : int, optional

    Returns
    -------
    float64 [num_samples], each >= 1

    Examples
    --------
    >>> sets = [[0]] * 98 + [[0, 1], [1]]        # class 1 is in 2 of 100 images
    >>> r = repeat_factors(sets, threshold=0.08)
    >>> float(r[0]), float(r[98]), float(r[99])   # sqrt(0.08 / 0.02) = 2
    (1.0, 2.0, 2.0)
    """
    if not is_number(threshold):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__} {threshold!r}")
    t = finite_float(threshold)
    if t is None or not 0 < t <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    sets = as_label_sets(label_sets, num_classes)
    frequencies = class_frequencies(sets)
    with np.errstate(divide="ignore"):
        per_class = np.maximum(1.0, np.sqrt(t / frequencies))  # inf for absent classes: never looked up
    factors = np.ones(sets.num_samples, dtype=np.float64)
    nonempty = sets.sizes > 0
    if sets.indices.size:
        factors[nonempty] = np.maximum.reduceat(per_class[sets.indices], sets.indptr[:-1][nonempty])
    return factors


def repeat_factor_weights(factors: npt.ArrayLike, unit: int = 1) -> tuple[np.ndarray, int]:
    """Integer sample weights and an epoch length under which every sample's expected count is
    within ``[floor(r_i), r_i]``, so that `WeightedIndexSampler`'s systematic rounding gives each
    floor or ceil of its factor, exactly.

    The epoch holds ``sum floor(r_i)`` plus the whole part of the fractions' sum (rounded down to
    a multiple of ``unit``, batch_size * num_shards, where that keeps it at or above
    ``sum floor(r_i)``); the fractional parts share what is left in proportion. Weights are the
    counts in fixed point, so that they sum to exactly the epoch length times the scale: a factor
    of exactly 1 is drawn exactly once per epoch.

    Examples
    --------
    >>> weights, size = repeat_factor_weights([1.0, 2.0, 1.5, 1.5])
    >>> size, (weights / weights.sum() * size).tolist()
    (6, [1.0, 2.0, 1.5, 1.5])
    """
    counts = np.asarray(factors, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0 or not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("factors must be a non-empty 1-D array of finite counts >= 0")
    unit = check_int("unit", unit, minimum=1)
    whole = np.floor(counts)
    fractions = counts - whole
    floors = int(whole.sum())
    extra = int(np.floor(fractions.sum() + 1e-9))
    total = floors + extra
    if total % unit and (total - total % unit) >= floors:
        total -= total % unit
    extra = total - floors
    if total == 0:
        raise ValueError("factors sum to less than 1: an epoch would hold no sample")
    scale = 1 << max(0, min(20, 62 - max(total * 2, 1).bit_length()))  # keeps the weights' sum below 2^62
    units = np.zeros(counts.size, dtype=np.uint64)
    if extra:
        raw = fractions * (extra * scale / fractions.sum())
        units = np.floor(raw).astype(np.uint64)
        short = extra * scale - int(units.sum())
        if short > 0:  # the largest remainders take the units rounding left over
            units[np.argsort(units - raw, kind="stable")[:short]] += np.uint64(1)
    weights = whole.astype(np.uint64) * np.uint64(scale) + units
    return weights, total


def repeat_factor_sampler(
    label_sets: object, threshold: float = 1e-3, *, num_classes: int | None = None, **options: Any
) -> WeightedIndexSampler:
    """Repeat factor sampling (LVIS): a `WeightedIndexSampler` in which image i comes floor or
    ceil of r(i) times every epoch, exactly, different every epoch and reproducible.

    ``options`` are `WeightedIndexSampler`'s (``batch_size``, ``seed``, ``replacement``, shards);
    ``samples_per_epoch`` is set by `repeat_factor_weights`. An epoch is whole batches of every
    shard: where no multiple of ``batch_size * num_shards`` lies between ``sum floor(r_i)`` and
    the epoch `repeat_factor_weights` gives, the sampler rounds it up, and the extra draws (fewer
    than that product) raise every image's expected count alike, so an image may then come once
    more than ceil(r(i)).

    Examples
    --------
    >>> sets = [[0]] * 98 + [[0, 1], [1]]
    >>> sampler = repeat_factor_sampler(sets, threshold=0.08, seed=0)
    >>> counts = np.bincount(sampler.epoch(0).indices, minlength=100)
    >>> counts[:98].tolist() == [1] * 98, counts[98:].tolist()
    (True, [2, 2])
    """
    from .weighted_sampler import WeightedIndexSampler

    if "samples_per_epoch" in options:
        raise TypeError("repeat_factor_sampler sets samples_per_epoch itself (from the factors)")
    layout = check_layout(options.get("batch_size"), options.get("replacement", False), options.get("seed", 0),
                          options.get("num_shards", 1), options.get("shard_index", 0))
    factors = repeat_factors(label_sets, threshold, num_classes=num_classes)
    weights, size = repeat_factor_weights(factors, unit=(layout.batch_size or 1) * layout.num_shards)
    return WeightedIndexSampler(weights, samples_per_epoch=size, **options)


__all__ = [
    "LabelSets",
    "as_label_sets",
    "class_frequencies",
    "repeat_factor_sampler",
    "repeat_factor_weights",
    "repeat_factors",
]
