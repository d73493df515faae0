"""Labels: checked once, with errors that name the value and its position."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

#: Class ids are int32 in the core's output.
MAX_CLASSES = (1 << 31) - 1


def normalize_labels(labels: object, name: str = "labels", num_classes: int | None = None) -> tuple[np.ndarray, int]:
    """``labels`` as a 1-D native-endian integer array (no copy when possible) and max + 1.

    Raises TypeError or ValueError naming what is wrong: not 1-D, not integers (bools are not
    labels), empty, negative, above the core's int32 class ids, or not below ``num_classes``.

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
    if isinstance(labels, np.ma.MaskedArray) and np.ma.is_masked(labels):
        raise TypeError(f"{name} is a masked array with masked values; give the labels of the samples to use only")
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
    # Each extreme and its position from one read, so another thread writing the array meanwhile
    # cannot make the message name a position that does not hold the value (the core reads the
    # labels once more, into its own copy, and checks that copy).
    low_at, high_at = int(np.argmin(array)), int(np.argmax(array))
    low, high = array[low_at], array[high_at]
    if low < 0:
        raise ValueError(f"{name} must be >= 0; label {int(low)} at position {low_at}")
    if high > MAX_CLASSES - 1:
        raise ValueError(
            f"{name} must be < 2**31 - 1 (class ids are int32); label {int(high)} at position {high_at}"
        )
    if num_classes is not None and high >= num_classes:
        raise ValueError(f"{name} must be < num_classes ({num_classes}); label {int(high)} at position {high_at}")
    return array, int(high) + 1
