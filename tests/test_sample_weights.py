"""BalancedIndexSampler(sample_weights=...): equal weights change nothing; unequal ones follow the
reference model exactly, keep quotas, give floor or ceil counts per sample, carry over epochs."""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys

import numpy as np
import pytest
import reference
import weighted_reference as model
from scipy import stats

from fast_balance import BalancedIndexSampler
from fast_balance.synthetic import long_tailed_labels
from fast_balance.weights import target_weights


def weights_for(labels: np.ndarray, seed: int = 0, uniform_class: int | None = None) -> np.ndarray:
    """Exponential weights, a few zeros, and optionally one class of equal weights."""
    rng = np.random.default_rng(seed)
    weights = rng.exponential(1.0, labels.size)
    weights[rng.random(labels.size) < 0.05] = 0.0
    if uniform_class is not None:
        weights[labels == uniform_class] = 2.0
    for c in np.unique(labels):  # every class keeps a positive weight
        members = np.flatnonzero(labels == c)
        weights[members[0]] = max(weights[members[0]], 0.5)
    return weights


def digest(epoch) -> str:
    return hashlib.sha256(epoch.indices.tobytes() + epoch.labels.tobytes() + epoch.repeats.tobytes()).hexdigest()


# -- equal weights are today's stream ------------------------------------------------------------


@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize("batch_size", [None, 16])
@pytest.mark.parametrize("target", ["balanced", 0.5])
def test_equal_weights_change_nothing(tail_labels, replacement, batch_size, target):
    options = dict(target=target, replacement=replacement, batch_size=batch_size, seed=3)
    plain = BalancedIndexSampler(tail_labels, **options)
    for value in (1.0, 0.37, 5):
        weighted = BalancedIndexSampler(tail_labels, sample_weights=np.full(tail_labels.size, value), **options)
        assert weighted.fingerprint == plain.fingerprint
        for epoch in (0, 3):
            assert digest(weighted.epoch(epoch)) == digest(plain.epoch(epoch))
    # Equal within each class, different between classes: still every class as before.
    per_class = BalancedIndexSampler(tail_labels, sample_weights=tail_labels + 1.0, **options)
    assert digest(per_class.epoch(1)) == digest(plain.epoch(1))


# -- exact agreement with the reference model ---------------------------------------------------


@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize(
    "target, samples_per_epoch", [("balanced", "max"), ("instance", "n"), (0.5, 777), ([1, 0, 2, 5], 40_000)]
)
def test_unbatched_epochs_equal_reference(defect_labels, target, samples_per_epoch, replacement):
    weights = weights_for(defect_labels, seed=1, uniform_class=2)
    sampler = BalancedIndexSampler(defect_labels, target=target, samples_per_epoch=samples_per_epoch,
                                   replacement=replacement, seed=42, sample_weights=weights)
    integer_targets = [int(w) for w in target_weights(target, sampler.class_counts)]
    for epoch in (0, 1, 7):
        got = sampler.epoch(epoch)
        (indices, repeats), slots = model.unbatched_epoch(
            defect_labels.tolist(), 4, integer_targets, sampler.samples_per_epoch, epoch, 42, replacement,
            weights.tolist(),
        )
        assert got.labels.tolist() == slots
        assert got.indices.tolist() == indices
        assert got.repeats.tolist() == repeats


@pytest.mark.parametrize("replacement", [False, True])
def test_batched_draws_equal_reference_given_the_classes(defect_labels, replacement):
    weights = weights_for(defect_labels, seed=2)
    sampler = BalancedIndexSampler(defect_labels, batch_size=16, replacement=replacement, seed=5,
                                   sample_weights=weights)
    quotas = reference.apportion(sampler.samples_per_epoch, [1, 1, 1, 1])
    for epoch in (0, 3):
        got = sampler.epoch(epoch)
        indices, repeats = model.draws_for_slots(defect_labels.tolist(), 4, quotas, got.labels.tolist(), epoch, 5,
                                                 replacement, weights.tolist())
        assert got.indices.tolist() == indices
        assert got.repeats.tolist() == repeats


# -- counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [None, 32])
@pytest.mark.parametrize("samples_per_epoch", ["max", "min", 5000])
def test_quotas_hold_and_every_sample_comes_floor_or_ceil(tail_labels, batch_size, samples_per_epoch):
    weights = weights_for(tail_labels, seed=3)
    sampler = BalancedIndexSampler(tail_labels, samples_per_epoch=samples_per_epoch, batch_size=batch_size, seed=4,
                                   sample_weights=weights)
    expected = sampler.expected_counts
    assert np.bincount(tail_labels, weights=expected) == pytest.approx(sampler.quotas)
    for epoch in range(3):
        e = sampler.epoch(epoch)
        assert np.bincount(e.labels, minlength=10).tolist() == sampler.quotas.tolist()
        assert np.array_equal(tail_labels[e.indices], e.labels)
        counts = np.bincount(e.indices, minlength=tail_labels.size)
        assert np.all((counts >= np.floor(expected - 1e-9)) & (counts <= np.ceil(expected + 1e-9)))
        assert np.all(counts[weights == 0] == 0)


def test_an_undersampled_class_is_covered_at_the_rate_of_its_weights(tail_labels):
    # "min": the majority class (1,000 samples) gets 10 draws per epoch, its samples weighing 3, 1
    # or 1/3: expected 0.03, 0.01 and 0.0033 times per epoch; over 60 epochs each comes within 3 of
    # its share, and the groups' means follow the weights.
    weights = np.ones(tail_labels.size)
    majority = np.flatnonzero(tail_labels == 0)
    weights[majority[:100]] = 3.0
    weights[majority[100:400]] = 1 / 3
    sampler = BalancedIndexSampler(tail_labels, samples_per_epoch="min", seed=6, sample_weights=weights)
    expected = sampler.expected_counts[majority]
    total = np.zeros(majority.size)
    epochs = 60
    for epoch in range(epochs):
        e = sampler.epoch(epoch)
        total += np.bincount(e.indices, minlength=tail_labels.size)[majority]
    assert np.all(np.abs(total - epochs * expected) < 3)
    means = [total[:100].mean(), total[400:].mean(), total[100:400].mean()]
    assert means == pytest.approx([60 * 0.03, 60 * 0.01, 60 * 0.01 / 3], rel=0.1)


def test_copies_are_never_side_by_side_within_a_class():
    # A class of 11 samples, one weighing 5: a third of its 400 draws. With a single class every
    # slot is that class, so adjacent draws are adjacent slots.
    labels = np.zeros(11, dtype=np.int64)
    sampler = BalancedIndexSampler(labels, samples_per_epoch=400, seed=1,
                                   sample_weights=[5.0] + [1.0] * 10)
    for epoch in range(10):
        indices = sampler.epoch(epoch).indices
        assert not np.any(indices[1:] == indices[:-1])


@pytest.mark.parametrize("replacement", [False, True])
def test_repeats_count_earlier_emissions(tail_labels, replacement):
    sampler = BalancedIndexSampler(tail_labels, replacement=replacement, batch_size=20, seed=6,
                                   sample_weights=weights_for(tail_labels))
    e = sampler.epoch(3)
    assert e.repeats.tolist() == model.with_repeats(e.indices.tolist())


def test_draws_with_replacement_follow_the_weights_within_a_class_chi_square(defect_labels):
    # Fixed seed; fails only for p < 1e-3.
    weights = np.where(np.arange(defect_labels.size) % 3 == 0, 4.0, 1.0)
    sampler = BalancedIndexSampler(defect_labels, replacement=True, samples_per_epoch=40_000, seed=21,
                                   sample_weights=weights)
    e = sampler.epoch(0)
    for c in range(4):
        members = np.flatnonzero(defect_labels == c)
        drawn = np.bincount(e.indices[e.labels == c], minlength=defect_labels.size)[members]
        assert stats.chisquare(drawn, drawn.sum() * weights[members] / weights[members].sum()).pvalue > 1e-3


# -- determinism, slices, shards, pickling --------------------------------------------------------


@pytest.mark.parametrize("batch_size", [None, 25])
@pytest.mark.parametrize("replacement", [False, True])
def test_slices_and_shards_equal_the_whole_epoch(tail_labels, batch_size, replacement):
    weights = weights_for(tail_labels, seed=7)
    options = dict(batch_size=batch_size, replacement=replacement, seed=4, sample_weights=weights,
                   samples_per_epoch=2 * 25 * 200)
    sampler = BalancedIndexSampler(tail_labels, **options)
    whole = sampler.epoch(2)
    cuts = [0, 1, 333, 5000, 9999, len(sampler)]
    for field in range(3):
        parts = [sampler.epoch(2, a, b)[field] for a, b in zip(cuts, cuts[1:])]
        assert np.array_equal(np.concatenate(parts), whole[field])
    unit = batch_size or 1
    rebuilt = np.empty_like(whole.indices)
    for shard in range(2):
        part = BalancedIndexSampler(tail_labels, **options, num_shards=2, shard_index=shard).epoch(2)
        rebuilt[np.arange(len(sampler)).reshape(-1, unit)[shard::2].ravel()] = part.indices
    assert np.array_equal(rebuilt, whole.indices)


def test_same_stream_in_another_process_and_after_pickling(tail_labels):
    weights = weights_for(tail_labels, seed=8)
    sampler = BalancedIndexSampler(tail_labels, batch_size=32, seed=77, sample_weights=weights)
    code = (
        "import sys, hashlib, numpy as np, pickle; s = pickle.loads(sys.stdin.buffer.read()); e = s.epoch(3);"
        "print(hashlib.sha256(e.indices.tobytes() + e.labels.tobytes() + e.repeats.tobytes()).hexdigest())"
    )
    payload = pickle.dumps(sampler)
    out = subprocess.run([sys.executable, "-c", code], input=payload, capture_output=True, check=True)
    assert out.stdout.decode().strip() == digest(sampler.epoch(3))
    copy = pickle.loads(payload)
    assert copy.fingerprint == sampler.fingerprint


def test_fingerprints_tell_weights_apart(defect_labels):
    weights = weights_for(defect_labels)
    base = BalancedIndexSampler(defect_labels, sample_weights=weights, seed=1)
    assert BalancedIndexSampler(defect_labels, seed=1).fingerprint != base.fingerprint
    changed = weights.copy()
    changed[5] += 1.0
    assert BalancedIndexSampler(defect_labels, sample_weights=changed, seed=1).fingerprint != base.fingerprint
    assert BalancedIndexSampler(defect_labels, sample_weights=weights * 4, seed=1).fingerprint == base.fingerprint


def test_sample_weights_pass_through_target_and_many_classes():
    labels = long_tailed_labels(200, 300, 50.0, seed=3)
    weights = weights_for(labels, seed=9)
    sampler = BalancedIndexSampler(labels, target=0.5, batch_size=64, seed=2, sample_weights=weights)
    e = sampler.epoch(1)
    counts = np.bincount(e.indices, minlength=labels.size)
    expected = sampler.expected_counts
    assert np.all((counts >= np.floor(expected - 1e-9)) & (counts <= np.ceil(expected + 1e-9)))
    per_batch = np.stack([np.bincount(row, minlength=200) for row in e.labels.reshape(-1, 64)])
    low = sampler.quotas // sampler.num_batches
    assert np.all((per_batch == low) | (per_batch == low + 1))
