"""Generated data for demos, tests and benchmarks (no downloads)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._checks import check_int, is_number


def long_tailed_counts(num_classes: int, largest: int, ratio: float) -> np.ndarray:
    """Class sizes falling geometrically from ``largest`` to ``largest / ratio`` (at least 1 each)."""
    num_classes = check_int("num_classes", num_classes, minimum=1)
    largest = check_int("largest", largest, minimum=1)
    if not (is_number(ratio) and 1.0 <= float(ratio) < math.inf):
        raise ValueError(f"ratio (largest / smallest class) must be a finite number >= 1, got {ratio!r}")
    exponents = np.arange(num_classes) / max(num_classes - 1, 1)
    return np.maximum(1, np.round(largest * float(ratio) ** (-exponents))).astype(np.int64)


def long_tailed_labels(
    num_classes: int, largest: int, ratio: float, seed: int = 0, dtype: npt.DTypeLike = np.int32
) -> np.ndarray:
    """Shuffled labels with `long_tailed_counts` samples per class.

    Examples
    --------
    >>> np.bincount(long_tailed_labels(3, 100, 100.0)).tolist()
    [100, 10, 1]
    """
    labels = np.repeat(np.arange(num_classes), long_tailed_counts(num_classes, largest, ratio)).astype(dtype)
    np.random.default_rng(seed).shuffle(labels)
    return labels
