"""Targets, integer weights and loss class weights."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

import fast_balance
from fast_balance.synthetic import long_tailed_labels
from fast_balance.weights import target_weights


@pytest.mark.parametrize(
    "labels", [[0, 0, 0, 1], long_tailed_labels(7, 500, 50.0, seed=2), np.array([3, 3, 5, 9, 9, 9])]
)
def test_balanced_class_weights_equal_scikit_learn(labels):
    labels = np.asarray(labels)
    classes = np.unique(labels)
    expected = compute_class_weight("balanced", classes=classes, y=labels)
    got = fast_balance.class_weights(labels)
    assert list(got) == classes.tolist()
    assert np.allclose([got[c] for c in classes], expected)


def test_effective_number_weights_favour_rare_classes_and_average_one():
    labels = long_tailed_labels(5, 1000, 100.0, seed=1)
    weights = fast_balance.class_weights(labels, mode="effective_number", beta=0.99)
    values = np.array([weights[c] for c in range(5)])
    counts = np.bincount(labels)
    expected = (1 - 0.99) / (1 - 0.99**counts)
    assert np.allclose(values, expected / expected.sum() * 5)
    assert np.all(np.diff(values) > 0)  # counts fall with the class index


def test_class_weights_errors():
    with pytest.raises(ValueError, match="mode"):
        fast_balance.class_weights([0, 1], mode="inverse")
    with pytest.raises(ValueError, match="beta"):
        fast_balance.class_weights([0, 1], mode="effective_number", beta=1.0)
    with pytest.raises(ValueError, match="num_classes"):
        fast_balance.class_weights([0, 5], num_classes=3)


def test_integer_targets_stay_exact_and_floats_are_scaled():
    counts = np.array([10, 3, 7])
    assert target_weights("balanced", counts).tolist() == [1, 1, 1]
    assert target_weights("instance", counts).tolist() == [10, 3, 7]
    assert target_weights([2, 0, 4], counts).tolist() == [2, 0, 4]
    scaled = target_weights(0.5, counts).astype(float)
    assert np.allclose(scaled / scaled.sum(), np.sqrt(counts) / np.sqrt(counts).sum(), rtol=1e-12)
    tiny = target_weights([1.0, 1e-20, 0.5], counts)
    assert tiny[1] == 1 and tiny[2] == tiny[0] // 2  # tiny positive weights stay positive
