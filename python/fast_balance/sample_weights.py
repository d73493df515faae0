"""Sample weights: checked once, with errors that name the argument, the value and its position."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def normalize_sample_weights(weights: object, size: int | None, name: str = "sample_weights") -> np.ndarray:
    """``weights`` as a 1-D C-contiguous float64 array, checked: one per sample, finite, >= 0, not all zero.

    ``size`` is the number of samples the weights must match (None: any positive number). The
    length is checked before anything of that length is allocated: integer weights are converted to
    float64 only once they are known to fit.

    Examples
    --------
    >>> normalize_sample_weights([1, 2, 0.5], 3).tolist()
    [1.0, 2.0, 0.5]
    >>> normalize_sample_weights([1.0, -2.0], 2)
    Traceback (most recent call last):
    ValueError: sample_weights must be >= 0; -2.0 at position 1
    """
    if isinstance(weights, Iterator):
        raise TypeError(
            f"{name} must be an array or a sequence of numbers, got a {type(weights).__name__}; "
            "materialise it first (list(...))"
        )
    array = np.asarray(weights)
    if array.dtype == object:
        raise TypeError(f"{name} must be numbers, got dtype object (mixed or non-numeric values)")
    if array.dtype == np.bool_ or array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must have a float or integer dtype, got {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if size is not None and array.shape[0] != size:
        raise ValueError(f"{name} has {array.shape[0]:,} entries for {size:,} samples; give one weight per sample")
    values = np.ascontiguousarray(array, dtype=np.float64)
    # The first offender and its position from one read, so that another thread writing the array
    # meanwhile cannot make the message name a position that does not hold the value (the core
    # reads the weights once more, into its own copy, and checks that copy).
    finite = np.isfinite(values)
    if not finite.all():
        position = int(np.argmin(finite))
        raise ValueError(f"{name} must be finite; {float(values[position])!r} at position {position}")
    low_at = int(np.argmin(values))
    if values[low_at] < 0:
        raise ValueError(f"{name} must be >= 0; {float(values[low_at])!r} at position {low_at}")
    if not values.any():
        raise ValueError(f"{name} are all zero; at least one sample needs a positive weight")
    return values
