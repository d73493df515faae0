"""Shared data for the benchmarks: long-tailed label sets (imbalance ratio 100) by size."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from fast_balance.synthetic import long_tailed_counts

RATIO = 100.0


@functools.lru_cache(maxsize=4)
def long_tailed(num_samples: int, num_classes: int) -> np.ndarray:
    """Shuffled int32 labels, class sizes falling geometrically by RATIO, about num_samples in all."""
    profile = long_tailed_counts(num_classes, 10**9, RATIO).astype(np.float64) / 10**9
    largest = int(round(num_samples / profile.sum()))
    counts = long_tailed_counts(num_classes, largest, RATIO)
    labels = np.repeat(np.arange(num_classes, dtype=np.int32), counts)
    np.random.default_rng(0).shuffle(labels)
    return labels


@pytest.fixture
def labels_for():
    return long_tailed
