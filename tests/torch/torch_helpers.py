"""Pieces the torch tests hand to spawned processes (importable by name there)."""

from __future__ import annotations

import numpy as np

#: 4 classes, 96 down to 6 samples; "max" balanced epochs are 384 samples, 48 batches of 8.
COUNTS = (96, 40, 14, 6)
BATCH_SIZE = 8


def labels() -> np.ndarray:
    values = np.repeat(np.arange(len(COUNTS)), COUNTS)
    np.random.default_rng(5).shuffle(values)
    return values


def tag_repeats(item: int, repeats: int) -> tuple[int, int]:
    """A transform that only reports what it was given."""
    return item, repeats


def stratified(batch_labels, num_classes: int = len(COUNTS)) -> bool:
    """Every class floor or ceil of its share of the batch (balanced target)."""
    counts = np.bincount(np.asarray(batch_labels), minlength=num_classes)
    share = len(batch_labels) / num_classes
    return bool(np.all((counts >= np.floor(share)) & (counts <= np.ceil(share))))
