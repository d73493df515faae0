"""Repeat factor sampling as Detectron2 does it, re-implemented with NumPy for the benchmark.

Detectron2's ``RepeatFactorTrainingSampler`` rounds each image's factor r(i) stochastically and
independently every epoch (floor(r) copies, one more with probability frac(r)), then shuffles the
copies; the epoch's length varies with the draws.
"""

from __future__ import annotations

import numpy as np


def long_tailed_label_sets(num_images: int, num_classes: int, seed: int = 0, exponent: float = 1.2) -> list[list[int]]:
    """Multi-label sets of 1-10 classes per image; class c is drawn with probability ~ (c + 1)^-exponent."""
    rng = np.random.default_rng(seed)
    p = np.arange(1, num_classes + 1, dtype=np.float64) ** -exponent
    p /= p.sum()
    sizes = rng.integers(1, 11, size=num_images)
    flat = rng.choice(num_classes, size=int(sizes.sum()), p=p)
    return [row.tolist() for row in np.split(flat, np.cumsum(sizes)[:-1])]


def detectron2_epoch(factors: np.ndarray, epoch_seed: int) -> np.ndarray:
    """One epoch of Detectron2's sampler: stochastic rounding per image, then a random order."""
    rng = np.random.default_rng(epoch_seed)
    whole = np.floor(factors)
    copies = (whole + (rng.random(factors.shape[0]) < factors - whole)).astype(np.int64)
    indices = np.repeat(np.arange(factors.shape[0]), copies)
    return indices[rng.permutation(indices.shape[0])]
