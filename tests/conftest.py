"""Generated label sets shared by the tests."""

from __future__ import annotations

import numpy as np
import pytest

from fast_balance.synthetic import long_tailed_labels


@pytest.fixture
def defect_labels() -> np.ndarray:
    """The blog post's case: hundreds of normal parts, a few dozen of each defect."""
    counts = [400, 40, 25, 12]
    labels = np.repeat(np.arange(4), counts)
    np.random.default_rng(3).shuffle(labels)
    return labels


@pytest.fixture
def tail_labels() -> np.ndarray:
    """10 classes, 1000 down to 10 samples."""
    return long_tailed_labels(10, 1000, 100.0, seed=1)
