"""Targets that change over epochs: Blend, the published schedules, and samplers that follow them."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from fast_balance import BalancedIndexSampler
from fast_balance.schedules import Blend, PowerSchedule, ProgressivelyBalanced, TwoStage

COUNTS = [60, 24, 9, 3]


@pytest.fixture
def labels() -> np.ndarray:
    labels = np.repeat(np.arange(len(COUNTS)), COUNTS)
    np.random.default_rng(5).shuffle(labels)
    return labels


def draws_per_sample(sampler: BalancedIndexSampler, epochs: int) -> np.ndarray:
    return np.bincount(np.concatenate([sampler.epoch(e).indices for e in range(epochs)]), minlength=sum(COUNTS))


def test_two_stage_draws_the_first_target_until_the_switch_then_the_second(labels):
    scheduled = BalancedIndexSampler(labels, target=TwoStage("instance", "balanced", switch=3), seed=4)
    instance = BalancedIndexSampler(labels, target="instance", samples_per_epoch="n", seed=4)
    for e in range(3):  # before the switch the stream is the instance-balanced sampler's, exactly
        assert all(np.array_equal(a, b) for a, b in zip(scheduled.epoch(e), instance.epoch(e)))
    assert len(scheduled) == len(instance) == sum(COUNTS)
    for e in (3, 4, 9):
        assert np.bincount(scheduled.epoch(e).labels).tolist() == [24, 24, 24, 24]
        assert scheduled.quotas_at(e).tolist() == [24, 24, 24, 24]
    assert scheduled.quotas_at(0).tolist() == COUNTS


@pytest.mark.parametrize(
    "schedule", [TwoStage("instance", "balanced", switch=2), ProgressivelyBalanced(epochs=5), PowerSchedule(0.5)]
)
def test_pools_carry_over_epochs_of_changing_quotas(labels, schedule):
    # Every class's draws over epochs 0..E-1 continue its pool: each sample drawn floor or ceil of
    # (the class's draws so far) / (its size) times. Numbering each epoch's draws from e * quota
    # instead would restart pools mid-pass when quotas change, and this spread would exceed 1.
    sampler = BalancedIndexSampler(labels, target=schedule, seed=11)
    for epochs in (3, 7, 12):
        seen = draws_per_sample(sampler, epochs)
        for c in range(len(COUNTS)):
            members = seen[labels == c]
            assert members.max() - members.min() <= 1, (c, epochs, members)
            assert members.sum() == sum(int(sampler.quotas_at(e)[c]) for e in range(epochs))


def test_any_epoch_is_reached_directly_and_survives_pickling(labels):
    schedule = ProgressivelyBalanced(epochs=6, start="instance", end="balanced")
    walked = BalancedIndexSampler(labels, target=schedule, batch_size=8, seed=2)
    expected = [walked.epoch(e) for e in range(10)]
    fresh = BalancedIndexSampler(labels, target=schedule, batch_size=8, seed=2)
    for e in (9, 4, 7):  # out of order, without the earlier epochs
        assert all(np.array_equal(a, b) for a, b in zip(fresh.epoch(e), expected[e]))
    copy = pickle.loads(pickle.dumps(fresh))
    assert copy.fingerprint == fresh.fingerprint
    assert all(np.array_equal(a, b) for a, b in zip(copy.epoch(8), expected[8]))


def test_progressively_balanced_quotas_interpolate_linearly(labels):
    sampler = BalancedIndexSampler(labels, target=ProgressivelyBalanced(epochs=4), samples_per_epoch=960, seed=0)
    counts = np.array(COUNTS, dtype=np.float64)
    for t in range(7):
        a = min(t / 4, 1.0)
        share = (1 - a) * counts / counts.sum() + a * np.full(4, 0.25)
        assert np.abs(sampler.quotas_at(t) - 960 * share).max() <= 1.0, t


def test_power_schedule_goes_from_instance_towards_balanced(labels):
    sampler = BalancedIndexSampler(labels, target=PowerSchedule(0.5), seed=0)
    assert sampler.quotas_at(0).tolist() == COUNTS
    late = sampler.quotas_at(12)  # q = 0.5**12: nearly balanced
    assert late.max() - late.min() <= 1 and late.sum() == sum(COUNTS)


def test_shards_batches_and_resume_under_a_schedule(labels):
    schedule = TwoStage("instance", "balanced", switch=2)
    whole = BalancedIndexSampler(labels, target=schedule, batch_size=8, samples_per_epoch=96, seed=3)
    shards = [
        BalancedIndexSampler(labels, target=schedule, batch_size=8, samples_per_epoch=96, seed=3, num_shards=2,
                             shard_index=k)
        for k in range(2)
    ]
    for e in range(4):
        global_batches = whole.epoch(e).indices.reshape(-1, 8)
        for k, shard in enumerate(shards):
            assert np.array_equal(shard.epoch(e).indices.reshape(-1, 8), global_batches[k::2])
    for batch in whole.epoch(3).labels.reshape(-1, 8):
        assert np.bincount(batch, minlength=4).tolist() == [2, 2, 2, 2]
    stream = whole.iterator(epochs=4)
    straight = [next(stream) for _ in range(30)]
    resumed = whole.iterator(epochs=4)
    for _ in range(17):
        next(resumed)
    state = resumed.state_dict()
    again = whole.iterator()
    again.load_state_dict(state)
    assert all(np.array_equal(a, b) for a, b in zip([next(again) for _ in range(13)], straight[17:]))


def test_the_fingerprint_names_the_schedule(labels):
    a = BalancedIndexSampler(labels, target=TwoStage("instance", "balanced", 2))
    b = BalancedIndexSampler(labels, target=TwoStage("instance", "balanced", 3))
    fixed = BalancedIndexSampler(labels, target="instance", samples_per_epoch="n")
    assert a.fingerprint == BalancedIndexSampler(labels, target=TwoStage("instance", "balanced", 2)).fingerprint
    assert len({a.fingerprint, b.fingerprint, fixed.fingerprint}) == 3
    with pytest.raises(ValueError, match="state is of another sampler"):
        b.iterator().load_state_dict(a.iterator().state_dict())


def test_blend_end_points_are_the_targets_themselves(labels):
    for fraction, target in ((0.0, "instance"), (1.0, "balanced")):
        blended = BalancedIndexSampler(labels, target=Blend("instance", "balanced", fraction), seed=1)
        plain = BalancedIndexSampler(labels, target=target, seed=1)
        assert all(np.array_equal(x, y) for x, y in zip(blended.epoch(2), plain.epoch(2)))


def bad_at_three(epoch: int):
    return {0: 1.0, 1: -1.0} if epoch == 3 else "balanced"


def failing_at_two(epoch: int):
    if epoch == 2:
        raise KeyError("no target for epoch 2")
    return "balanced"


def test_bad_schedules_name_the_epoch(labels):
    sampler = BalancedIndexSampler(labels, target=bad_at_three)
    sampler.epoch(2)
    with pytest.raises(ValueError, match=r"target schedule at epoch 3: target: weights must be >= 0"):
        sampler.epoch(3)
    with pytest.raises(ValueError, match="target schedule at epoch 3"):
        sampler.epoch(5)  # its draw origin needs epoch 3's quotas
    with pytest.raises(ValueError, match=r"target schedule failed at epoch 2: KeyError"):
        BalancedIndexSampler(labels, target=failing_at_two).epoch(2)
    with pytest.raises(TypeError, match="returned a callable at epoch 0"):
        BalancedIndexSampler(labels, target=lambda epoch: bad_at_three)
    with pytest.raises(ValueError, match=r"samples_per_epoch='max' depends on the target"):
        BalancedIndexSampler(labels, target=TwoStage("instance", "balanced", 2), samples_per_epoch="max")
    with pytest.raises(ValueError, match=r"Blend: fraction must be a number in \[0, 1\], got 1.5"):
        Blend("instance", "balanced", 1.5)
    with pytest.raises(ValueError, match=r"lam must be a number in \(0, 1\], got 0"):
        PowerSchedule(0)
    with pytest.raises(ValueError, match="epochs must be >= 1, got 0"):
        ProgressivelyBalanced(epochs=0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PowerSchedule(10**400), r"lam must be a number in \(0, 1\]"),
        (lambda: Blend("instance", "balanced", 10**400), r"fraction must be a number in \[0, 1\]"),
        (lambda: PowerSchedule(0.5)(10**400), "epoch must be <= 9,223,372,036,854,775,807"),
        (lambda: ProgressivelyBalanced(4)(10**400), "epoch must be <= 9,223,372,036,854,775,807"),
    ],
    ids=["lam", "fraction", "power epoch", "progressive epoch"],
)
def test_ints_beyond_the_float_range_are_named_not_overflowed(make, message):
    # float(10**400) raises OverflowError; found by the fuzz suite (tests/fuzz/test_fuzz_weights.py).
    with pytest.raises(ValueError, match=message):
        make()

