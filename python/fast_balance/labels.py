"""Labels: checked once, counted without memory of the size of the largest label."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

#: Class ids are int32 in the core's output.
MAX_CLASSES = (1 << 31) - 1


class ClassCounts(NamedTuple):
    """The classes present in a label set: sorted ids and their sample counts."""

    classes: np.ndarray  #: int64, sorted, each with at least one sample
    counts: np.ndarray  #: int64, samples of each
    num_classes: int  #: number of class ids (max label + 1 unless given)

    def dense(self) -> np.ndarray:
        """Counts for every class id in [0, num_classes) (int64; allocates num_classes entries)."""
        out = np.zeros(self.num_classes, dtype=np.int64)
        out[self.classes] = self.counts
        return out


def normalize_labels(labels: object, name: str = "labels") -> tuple[np.ndarray, int]:
    """``labels`` as a 1-D native-endian integer array (no copy when possible) and max + 1.

    Raises TypeError or ValueError naming what is wrong: not 1-D, not integers (bools are not
    labels), empty, negative, or above the core's int32 class ids.

    Examples
    --------
    >>> array, inferred = normalize_labels([0, 2, 2])
    >>> array.tolist(), inferred
    ([0, 2, 2], 3)
    >>> normalize_labels(c for c in [0, 1])
    Traceback (most recent call last):
    TypeError: labels must be an array or a sequence of ints, got a generator; materialise it first (list(...))
    """
    if isinstance(labels, Iterator):
        raise TypeError(
            f"{name} must be an array or a sequence of ints, got a {type(labels).__name__}; "
            "materialise it first (list(...))"
        )
    array = np.asarray(labels)
    if array.dtype == object:
        raise TypeError(f"{name} must have an integer dtype, got object (mixed or non-numeric values)")
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if array.dtype == np.bool_ or array.dtype.kind not in "iu":
        raise TypeError(f"{name} must have an integer dtype, got {array.dtype}")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    low, high = array.min(), array.max()
    if low < 0:
        position = int(np.argmax(array < 0))
        raise ValueError(f"{name} must be >= 0; label {int(low)} at position {position}")
    if high > MAX_CLASSES - 1:
        position = int(np.argmax(array > MAX_CLASSES - 1))
        raise ValueError(
            f"{name} must be < 2**31 - 1 (class ids are int32); label {int(high)} at position {position}"
        )
    return array, int(high) + 1


def count_classes(array: np.ndarray, num_classes: int) -> ClassCounts:
    """The classes present in ``array`` (checked by `normalize_labels`) and their counts.

    Counts with ``bincount`` when the largest label is within a few times the number of samples,
    else by sorting, so that memory follows the data, not the largest label.

    Examples
    --------
    >>> present = count_classes(np.array([5, 0, 5, 10**9]), 10**9 + 1)
    >>> present.classes.tolist(), present.counts.tolist()
    ([0, 5, 1000000000], [1, 2, 1])
    """
    if array.dtype == np.uint64:  # checked below 2**31: the same values as int64 (older NumPy will not cast)
        array = array.view(np.int64)
    high = int(array.max())
    if high < 2 * array.size + 1024:
        dense = np.bincount(array, minlength=high + 1)
        classes = np.flatnonzero(dense)
        return ClassCounts(classes.astype(np.int64), dense[classes].astype(np.int64), num_classes)
    classes, counts = np.unique(array, return_counts=True)
    return ClassCounts(classes.astype(np.int64), counts.astype(np.int64), num_classes)
