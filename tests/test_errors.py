"""Bad input: a clear error naming what is wrong, never a crash or a wrong stream."""

from __future__ import annotations

import numpy as np
import pytest

from fast_balance import BalancedIndexSampler, _core

LABELS = np.array([0, 1, 1, 2, 2, 2])


@pytest.mark.parametrize(
    "labels, error, message",
    [
        (np.zeros((2, 3), dtype=int), ValueError, "1-D"),
        (np.array([0.0, 1.0]), TypeError, "integer dtype, got float64"),
        (np.array([True, False]), TypeError, "integer dtype, got bool"),
        (np.array(["a", "b"]), TypeError, "integer dtype"),
        (np.array([], dtype=int), ValueError, "empty"),
        ([], ValueError, "empty"),
        (np.array([0, 3, -2]), ValueError, "label -2 at position 2"),
    ],
)
def test_bad_labels(labels, error, message):
    with pytest.raises(error, match=message):
        BalancedIndexSampler(labels)


def test_label_not_below_num_classes():
    with pytest.raises(ValueError, match=r"< num_classes \(2\); label 2 at position 3"):
        BalancedIndexSampler(LABELS, num_classes=2)


def test_empty_classes_that_the_target_asks_for_are_listed():
    labels = np.array([0, 0, 2, 5])
    with pytest.raises(ValueError, match="4 classes with no samples: 1, 3, 4, 6"):
        BalancedIndexSampler(labels, num_classes=7)
    with pytest.raises(ValueError, match="classes with no samples: 1"):
        BalancedIndexSampler(labels, target=-1.0)
    # Targets that give empty classes no weight are fine.
    assert BalancedIndexSampler(labels, num_classes=7, target="instance").quotas.tolist() == [2, 0, 1, 0, 0, 1, 0]
    assert BalancedIndexSampler(labels, target={0: 1, 2: 1, 5: 1}).quotas[[1, 3, 4]].sum() == 0


@pytest.mark.parametrize(
    "target, error, message",
    [
        ("uniform", ValueError, "unknown name 'uniform'"),
        ([1, 2], ValueError, "got 2 weights for 3 classes"),
        ([1, -1, 1], ValueError, ">= 0"),
        ([1, np.nan, 1], ValueError, "finite"),
        ([1, np.inf, 1], ValueError, "finite"),
        ([0, 0, 0], ValueError, "all zero"),
        ([[1, 2, 3]], ValueError, "1-D"),
        ({0: 1, 7: 1}, ValueError, "class 7 is outside"),
        ({0: "x"}, TypeError, "must be a number"),
        (float("nan"), ValueError, "finite"),
        (True, TypeError, "bool"),
        (object(), TypeError, "cannot read"),
    ],
)
def test_bad_targets(target, error, message):
    with pytest.raises(error, match=message):
        BalancedIndexSampler(LABELS, target=target)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"samples_per_epoch": 0}, ValueError, "samples_per_epoch must be >= 1"),
        ({"samples_per_epoch": -5}, ValueError, "samples_per_epoch must be >= 1"),
        ({"samples_per_epoch": "all"}, ValueError, "samples_per_epoch must be one of"),
        ({"samples_per_epoch": 2.5}, TypeError, "samples_per_epoch must be an integer"),
        ({"samples_per_epoch": (1 << 46) + 1}, ValueError, "more than the 70,368,744,177,664 \\(2\\^46\\)"),
        ({"target": [1, 1, 10**15]}, ValueError, "samples_per_epoch would be"),
        ({"samples_per_epoch": 3 << 32}, ValueError, "class 0 would repeat a sample 2\\^31 - 1 or more times"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"batch_size": 4.0}, TypeError, "batch_size must be an integer"),
        ({"num_shards": 0}, ValueError, "num_shards must be >= 1"),
        ({"num_shards": 2, "shard_index": 2}, ValueError, "shard_index must be < num_shards"),
        ({"shard_index": -1}, ValueError, "shard_index must be >= 0"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"seed": 1 << 64}, ValueError, "seed must be < 2"),
        ({"num_classes": 0}, ValueError, "num_classes must be >= 1"),
        ({"replacement": "yes"}, TypeError, "replacement must be a bool"),
    ],
)
def test_bad_options(kwargs, error, message):
    with pytest.raises(error, match=message):
        BalancedIndexSampler(LABELS, **kwargs)


def test_bad_epoch_slices_and_states():
    sampler = BalancedIndexSampler(LABELS, seed=1)
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        sampler.epoch(-1)
    with pytest.raises(ValueError, match="start <= stop"):
        sampler.epoch(0, 5, 2)
    with pytest.raises(ValueError, match="stop <= 9"):
        sampler.epoch(0, 0, 10)
    with pytest.raises(ValueError, match="seed 2"):
        sampler.load_state_dict({"seed": 2, "epoch": 0, "position": 0})
    with pytest.raises(KeyError, match="position"):
        sampler.load_state_dict({"seed": 1, "epoch": 0})
    with pytest.raises(ValueError, match="beyond"):
        sampler.load_state_dict({"seed": 1, "epoch": 0, "position": 10})
    with pytest.raises(ValueError, match="num_batches needs batch_size"):
        sampler.num_batches


def test_core_checks_its_own_preconditions():
    # Reached only by bypassing the Python layer: the core still refuses, with ValueError.
    weights = np.ones(3, dtype=np.uint64)
    with pytest.raises(ValueError, match="outside \\[0, 2\\)"):
        _core.Sampler(LABELS, 2, weights[:2], 0, 6, 0, False, 1, 0)
    with pytest.raises(ValueError, match="weights has 2 entries for 3 classes"):
        _core.Sampler(LABELS, 3, weights[:2], 0, 6, 0, False, 1, 0)
    with pytest.raises(ValueError, match="multiple of batch_size"):
        _core.Sampler(LABELS, 3, weights, 0, 7, 2, False, 1, 0)
    with pytest.raises(ValueError, match="no samples have positive weight: 3"):
        _core.Sampler(LABELS, 4, np.ones(4, dtype=np.uint64), 0, 8, 0, False, 1, 0)
    with pytest.raises(ValueError, match="weights sum to zero"):
        _core.Sampler(LABELS, 3, np.zeros(3, dtype=np.uint64), 0, 6, 0, False, 1, 0)
    with pytest.raises(TypeError, match="integer dtype"):
        _core.Sampler(np.array([0.5]), 1, weights[:1], 0, 1, 0, False, 1, 0)
    sampler = _core.Sampler(LABELS, 3, weights, 0, 6, 0, False, 1, 0)
    with pytest.raises(ValueError, match="outside the shard's epoch"):
        sampler.fill(0, 0, 7)
