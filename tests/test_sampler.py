"""BalancedIndexSampler: exact semantics, statistics, determinism, resume, shards."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from collections import Counter

import numpy as np
import pytest
import reference
from scipy import stats
from weighted_reference import with_repeats

from fast_balance import BalancedIndexSampler, _core
from fast_balance.synthetic import long_tailed_labels
from fast_balance.weights import target_weights


def whole_epoch_reference(labels, sampler, epoch):
    weights = [int(w) for w in target_weights(sampler._target, sampler.class_counts)]
    return reference.unbatched_epoch(
        labels.tolist(), sampler.num_classes, weights, sampler.samples_per_epoch, epoch, sampler.seed,
        sampler._replacement,
    )


def assert_epoch_equals_reference(labels, sampler, epoch):
    got = sampler.epoch(epoch)
    indices, slots, repeats = whole_epoch_reference(labels, sampler, epoch)
    assert got.labels.tolist() == slots
    assert got.indices.tolist() == indices
    assert got.repeats.tolist() == repeats


# -- exact agreement with the reference model ---------------------------------------------------

@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize(
    "target, samples_per_epoch",
    [("balanced", "max"), ("balanced", "min"), ("instance", "n"), (0.5, 777), ([1, 0, 2, 5], "max")],
)
def test_unbatched_epochs_equal_reference(defect_labels, target, samples_per_epoch, replacement):
    sampler = BalancedIndexSampler(
        defect_labels, target=target, samples_per_epoch=samples_per_epoch, replacement=replacement, seed=42
    )
    for epoch in (0, 1, 7):
        assert_epoch_equals_reference(defect_labels, sampler, epoch)


@pytest.mark.parametrize("replacement", [False, True])
def test_classes_without_draws_take_no_part_in_the_arrangement(replacement):
    # Ids 0, 3, 4 and 7 of 10 present, id 4 with weight 0; two buckets, so phases matter: only the
    # classes with draws take one, and absent ids change nothing.
    labels = np.random.default_rng(2).permutation(np.repeat([0, 3, 4, 7], [9000, 300, 50, 20]))
    target = {0: 1.0, 3: 1.0, 7: 2.0}
    sampler = BalancedIndexSampler(labels, num_classes=10, target=target, samples_per_epoch=40000, seed=8,
                                   replacement=replacement)
    assert sampler.samples_per_epoch >> 14 == 2 and sampler.quotas[[1, 2, 4, 5, 6, 8, 9]].sum() == 0
    for epoch in (0, 3):
        assert_epoch_equals_reference(labels, sampler, epoch)
    more_ids = BalancedIndexSampler(labels, num_classes=1000, target=target, samples_per_epoch=40000, seed=8,
                                    replacement=replacement)
    assert all(np.array_equal(a, b) for a, b in zip(sampler.epoch(2), more_ids.epoch(2)))


def test_large_epoch_uses_bucketed_arrangement_exactly():
    # 40,000 slots spread over two buckets: the fast arrangement path against the reference.
    labels = long_tailed_labels(5, 8000, 20.0, seed=5)
    sampler = BalancedIndexSampler(labels, seed=9)
    assert sampler.samples_per_epoch == 40000
    assert_epoch_equals_reference(labels, sampler, 2)


def test_large_epoch_with_classes_smaller_and_larger_than_the_bucket_count_equals_reference():
    # Four buckets; class 0 is in every bucket, the 29,999 single-sample classes in one each. Class
    # 0's 40,000 members are more than the core shuffles without prefetching (2^15).
    labels = np.concatenate([np.zeros(40000, np.int64), np.arange(1, 30000)])
    sampler = BalancedIndexSampler(labels, target="instance", samples_per_epoch="n", seed=4)
    assert_epoch_equals_reference(labels, sampler, 1)


def test_epoch_with_many_classes_in_every_bucket_equals_reference():
    # Two buckets; 43 classes with 500 draws in each are filled in two blocks, bucket by bucket,
    # around two single-draw classes (20 and 44) filled one at a time.
    counts = np.full(45, 500)
    counts[[20, 44]] = 1
    labels = np.repeat(np.arange(45), counts)
    weights = np.where(counts == 1, 1, 1000)
    sampler = BalancedIndexSampler(labels, target=weights, samples_per_epoch=43 * 1000 + 2, seed=6)
    assert sampler.samples_per_epoch >> 14 == 2
    for epoch in (0, 3):
        assert_epoch_equals_reference(labels, sampler, epoch)


@pytest.mark.parametrize("replacement", [False, True])
def test_epoch_with_at_most_one_draw_per_class_in_a_bucket_equals_reference(replacement):
    # Two buckets and no class with two draws in one: the core stages each draw packed in one word.
    # Classes 0-9,999 have a draw in both buckets (filled bucket by bucket), the rest one draw;
    # class sizes 1, 3 and 2 give repeats and pools that carry over epochs.
    counts = np.concatenate([np.tile([1, 3], 5000), np.full(15000, 2)])
    labels = np.random.default_rng(8).permutation(np.repeat(np.arange(25000), counts))
    weights = np.where(np.arange(25000) < 10000, 2, 1)
    sampler = BalancedIndexSampler(labels, target=weights, samples_per_epoch=35000, seed=11, replacement=replacement)
    assert sampler.samples_per_epoch >> 14 == 2 and round(sampler.class_probabilities.max() * 35000) == 2
    for epoch in (0, 1, 4):
        assert_epoch_equals_reference(labels, sampler, epoch)


@pytest.mark.parametrize("replacement", [False, True])
def test_epoch_with_a_few_draws_per_class_in_a_bucket_equals_reference(replacement):
    # Two buckets, classes with 3 to 7 draws: groups of 1 to 4 draws per bucket, staged packed.
    counts = np.tile([1, 2, 5, 9], 1750)
    labels = np.random.default_rng(3).permutation(np.repeat(np.arange(7000), counts))
    weights = np.tile([3, 4, 5, 7], 1750)
    sampler = BalancedIndexSampler(labels, target=weights, samples_per_epoch=int(weights.sum()), seed=13,
                                   replacement=replacement)
    assert sampler.samples_per_epoch >> 14 == 2
    for epoch in (0, 2):
        assert_epoch_equals_reference(labels, sampler, epoch)


def test_epoch_with_more_block_classes_than_one_block_holds_equals_reference():
    # Two buckets; 4,100 classes with 4 draws in each: more than the 4,096 classes of one block.
    labels = np.repeat(np.arange(4100), 3)
    sampler = BalancedIndexSampler(labels, samples_per_epoch=4100 * 8, seed=12)
    assert sampler.samples_per_epoch >> 14 == 2
    assert_epoch_equals_reference(labels, sampler, 1)


def test_epoch_with_over_a_thousand_buckets_equals_reference_bucket_by_bucket():
    # 1,024 buckets: classes enter each bucket in (phase, class) order. Too large to model whole, so
    # single buckets are checked against the reference and the draws against the slot-by-slot path.
    labels = np.concatenate([np.zeros(20000, np.int64), np.arange(1, 20001)])
    sampler = BalancedIndexSampler(labels, target="instance", samples_per_epoch=1024 * 16384 + 7, seed=3)
    got = sampler.epoch(1)
    quotas = reference.apportion(sampler.samples_per_epoch, [20000] + [1] * 20000)
    assert reference.bucket_count(quotas) == reference.PHASE_ORDER_BUCKETS
    key = reference.stream_key(3, reference.EPOCH_ORDER, 1, 0)
    for b in (0, 1, 600, 1023):
        start, classes = reference.bucket_slots(quotas, key, b)
        assert got.labels[start:start + len(classes)].tolist() == classes
    cuts = [0, 5_000_000, 5_000_100, len(sampler)]
    for field in range(3):
        parts = [sampler.epoch(1, a, b)[field] for a, b in zip(cuts, cuts[1:])]
        assert np.array_equal(np.concatenate(parts), got[field])


@pytest.mark.parametrize("replacement", [False, True])
def test_batched_draws_equal_reference_given_the_classes(defect_labels, replacement):
    sampler = BalancedIndexSampler(defect_labels, batch_size=16, replacement=replacement, seed=5)
    weights = [int(w) for w in target_weights("balanced", sampler.class_counts)]
    quotas = reference.apportion(sampler.samples_per_epoch, weights)
    assert sampler.quotas.tolist() == quotas
    for epoch in (0, 3):
        got = sampler.epoch(epoch)
        indices, repeats = reference.draws_for_slots(
            defect_labels.tolist(), 4, quotas, got.labels.tolist(), epoch, 5, replacement
        )
        assert got.indices.tolist() == indices
        assert got.repeats.tolist() == repeats


def head_and_tail_labels():
    """Two large classes and a long tail of 300: batched epochs of 60,000 slots in batches of 16
    give the large classes several slots in every batch (their staged draws handed out in the
    order of their places) and the tail fewer (several windows of draws per epoch)."""
    counts = [30000, 12000, *np.linspace(300, 8, 300).astype(int).tolist()]
    labels = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(9).shuffle(labels)
    return labels


@pytest.mark.parametrize("target", ["instance", "balanced"])
@pytest.mark.parametrize("replacement", [False, True])
def test_batched_epochs_of_several_windows_equal_reference(target, replacement):
    labels = head_and_tail_labels()
    options = dict(target=target, samples_per_epoch=60000, batch_size=16, replacement=replacement, seed=6)
    sampler = BalancedIndexSampler(labels, **options)
    several_per_batch = sampler.quotas > sampler.num_batches
    assert several_per_batch.sum() == (2 if target == "instance" else 0)
    weights = [int(w) for w in target_weights(target, sampler.class_counts)]
    quotas = reference.apportion(sampler.samples_per_epoch, weights)
    got = sampler.epoch(2)
    indices, repeats = reference.draws_for_slots(
        labels.tolist(), sampler.num_classes, quotas, got.labels.tolist(), 2, 6, replacement
    )
    assert got.indices.tolist() == indices
    assert got.repeats.tolist() == repeats
    per_batch = np.stack([np.bincount(row, minlength=sampler.num_classes) for row in got.labels.reshape(-1, 16)])
    low = sampler.quotas // sampler.num_batches
    assert np.all((per_batch == low) | (per_batch == low + 1))
    cuts = [0, 7, 19000, 19001, 41000, 60000]
    for field in range(3):
        pieces = [sampler.epoch(2, a, b)[field] for a, b in zip(cuts, cuts[1:])]
        assert np.array_equal(np.concatenate(pieces), got[field])
    rebuilt = np.empty_like(got.indices)
    for shard in range(3):
        part = BalancedIndexSampler(labels, **options, num_shards=3, shard_index=shard).epoch(2)
        rebuilt[np.arange(60000).reshape(-1, 16)[shard::3].ravel()] = part.indices
    assert np.array_equal(rebuilt, got.indices)


def test_labels_are_the_datasets_labels(tail_labels):
    sampler = BalancedIndexSampler(tail_labels, target=0.5, batch_size=32, seed=3)
    epoch = sampler.epoch(1)
    assert np.array_equal(tail_labels[epoch.indices], epoch.labels)
    assert epoch.indices.dtype == np.int64 and epoch.labels.dtype == np.int32 and epoch.repeats.dtype == np.int32


# -- targets and epoch sizes -------------------------------------------------------------------


def test_balanced_max_draws_every_class_as_often_as_the_largest(tail_labels):
    sampler = BalancedIndexSampler(tail_labels)
    assert sampler.samples_per_epoch == 10 * 1000
    assert sampler.quotas.tolist() == [1000] * 10
    assert np.bincount(sampler.epoch(0).labels).tolist() == [1000] * 10


def test_samples_per_epoch_modes(tail_labels):
    counts = np.bincount(tail_labels)
    assert BalancedIndexSampler(tail_labels, samples_per_epoch="min").samples_per_epoch == 10 * counts.min()
    assert BalancedIndexSampler(tail_labels, samples_per_epoch="n").samples_per_epoch == tail_labels.size
    assert BalancedIndexSampler(tail_labels, samples_per_epoch=1234).samples_per_epoch == 1234
    # Rounded to whole batches per shard: up for "max" and ints, down for "min".
    assert BalancedIndexSampler(tail_labels, samples_per_epoch=1234, batch_size=64).samples_per_epoch == 1280
    sharded_min = BalancedIndexSampler(tail_labels, samples_per_epoch="min", batch_size=16, num_shards=2)
    assert sharded_min.samples_per_epoch == 96  # 10 * 10 rounded down to 32
    tiny_min = BalancedIndexSampler(tail_labels, samples_per_epoch="min", batch_size=64, num_shards=2)
    assert tiny_min.samples_per_epoch == 128  # at least one batch per shard
    instance = BalancedIndexSampler(tail_labels, target="instance")
    assert instance.samples_per_epoch == tail_labels.size
    assert instance.quotas.tolist() == counts.tolist()


def test_min_mode_never_repeats_and_max_mode_covers_everything(tail_labels):
    low = BalancedIndexSampler(tail_labels, samples_per_epoch="min", seed=1)
    assert low.epoch(0).repeats.max() == 0
    high = BalancedIndexSampler(tail_labels, samples_per_epoch="max", seed=1)
    assert set(high.epoch(4).indices.tolist()) == set(range(tail_labels.size))


@pytest.mark.parametrize("target", ["instance", 0.5, 0.0, -0.5, {0: 2.0, 3: 1.0}, np.linspace(1, 2, 10)])
def test_quotas_follow_the_target(tail_labels, target):
    sampler = BalancedIndexSampler(tail_labels, target=target, samples_per_epoch=20000)
    counts = np.bincount(tail_labels).astype(float)
    if isinstance(target, str):
        expected = counts
    elif isinstance(target, float):
        expected = counts**target
    elif isinstance(target, dict):
        expected = np.zeros(10)
        for c, w in target.items():
            expected[c] = w
    else:
        expected = target
    p = expected / expected.sum()
    assert np.allclose(sampler.class_probabilities, p)
    # Largest remainders: every quota is floor or ceil of its exact share, and they sum exactly.
    assert np.all(np.abs(sampler.quotas - 20000 * p) < 1)
    assert sampler.quotas.sum() == 20000


def test_undersampled_majority_cycles_through_all_samples(tail_labels):
    sampler = BalancedIndexSampler(tail_labels, samples_per_epoch="min", seed=8)
    majority = np.flatnonzero(tail_labels == 0)
    per_epoch = int(sampler.quotas[0])
    seen = []
    for epoch in range(-(-majority.size // per_epoch)):
        e = sampler.epoch(epoch)
        seen.extend(e.indices[e.labels == 0].tolist())
    assert set(seen) == set(majority.tolist())
    assert len(set(seen[: majority.size])) == majority.size  # the first full pass has no repeat


# -- statistics ----------------------------------------------------------------------------------


def test_pool_passes_cover_each_class_exactly_once(tail_labels):
    sampler = BalancedIndexSampler(tail_labels, batch_size=50, seed=13)
    counts = np.bincount(tail_labels)
    streams = {c: [] for c in range(10)}
    for epoch in range(3):
        e = sampler.epoch(epoch)
        for c in range(10):
            streams[c].extend(e.indices[e.labels == c].tolist())
    members = {c: set(np.flatnonzero(tail_labels == c).tolist()) for c in range(10)}
    for c, stream in streams.items():
        n = counts[c]
        for begin in range(0, len(stream) - n + 1, n):
            assert set(stream[begin : begin + n]) == members[c]


def test_stratified_batches_are_exact_and_low_discrepancy(tail_labels):
    batch = 64
    for target in ("balanced", 0.5, "instance"):
        sampler = BalancedIndexSampler(tail_labels, target=target, batch_size=batch, seed=2)
        quotas = sampler.quotas
        num_batches = sampler.num_batches
        labels = sampler.epoch(5).labels.reshape(num_batches, batch)
        counts = np.stack([np.bincount(row, minlength=10) for row in labels])
        low = quotas // num_batches
        assert np.all((counts == low) | (counts == low + 1)), target
        prefix = np.cumsum(counts, axis=0)
        exact = np.outer(np.arange(1, num_batches + 1), quotas) / num_batches
        assert np.max(np.abs(prefix - exact)) < 1, target
        assert prefix[-1].tolist() == quotas.tolist()


def test_more_classes_than_batch_slots_rotate():
    labels = long_tailed_labels(100, 50, 10.0, seed=4)
    sampler = BalancedIndexSampler(labels, batch_size=8, seed=1)
    e = sampler.epoch(0)
    per_batch = e.labels.reshape(-1, 8)
    assert all(len(set(row.tolist())) == 8 for row in per_batch)  # 8 different classes each batch
    # Over any 25 consecutive batches (200 slots) every class appears twice, within 1.
    for start in range(0, per_batch.shape[0] - 25, 7):
        window = np.bincount(per_batch[start : start + 25].ravel(), minlength=100)
        assert window.min() >= 1 and window.max() <= 3


def test_class_frequencies_in_windows_fit_the_target_chi_square(tail_labels):
    # Inside a bucket the order is uniformly random: a window's class counts are a fair sample.
    sampler = BalancedIndexSampler(tail_labels, target=0.5, seed=17)
    e = sampler.epoch(0)
    p = sampler.class_probabilities
    p_values = []
    assert len(e.labels) >= 4000
    for start in range(0, 4000, 1000):
        observed = np.bincount(e.labels[start : start + 1000], minlength=10)
        p_values.append(stats.chisquare(observed, observed.sum() * p).pvalue)
    assert min(p_values) > 1e-3, p_values


def test_replacement_draws_are_uniform_within_a_class_chi_square(defect_labels):
    sampler = BalancedIndexSampler(defect_labels, replacement=True, samples_per_epoch=40000, seed=21)
    e = sampler.epoch(0)
    minority = np.flatnonzero(defect_labels == 3)
    drawn = Counter(e.indices[e.labels == 3].tolist())
    observed = np.array([drawn[i] for i in minority])
    assert stats.chisquare(observed).pvalue > 1e-3
    assert set(drawn) == set(minority.tolist())


def test_consecutive_epochs_are_different_arrangements(tail_labels):
    sampler = BalancedIndexSampler(tail_labels, seed=1)
    a, b = sampler.epoch(0).labels, sampler.epoch(1).labels
    assert not np.array_equal(a, b)
    # Position and class are independent: the first and second halves have the same class mix.
    halves = np.stack([np.bincount(a[:5000], minlength=10), np.bincount(a[5000:], minlength=10)])
    assert stats.chi2_contingency(halves).pvalue > 1e-3


# -- repeats -------------------------------------------------------------------------------------


@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize("batch_size", [None, 20])
def test_repeats_count_earlier_emissions(tail_labels, replacement, batch_size):
    sampler = BalancedIndexSampler(tail_labels, replacement=replacement, batch_size=batch_size, seed=6)
    for epoch in (0, 3):
        e = sampler.epoch(epoch)
        assert e.repeats.tolist() == with_repeats(e.indices.tolist())
    # The smallest class (10 samples) is drawn 1000 times: repeats 0..99.
    minority = e.repeats[e.labels == 9]
    assert (minority == 0).sum() <= 10 and minority.max() >= 90


# -- determinism, slices, resume, shards ---------------------------------------------------------


def digest(sampler, epoch):
    e = sampler.epoch(epoch)
    return hashlib.sha256(e.indices.tobytes() + e.labels.tobytes() + e.repeats.tobytes()).hexdigest()


def test_same_stream_in_another_process(tail_labels):
    sampler = BalancedIndexSampler(tail_labels, batch_size=32, seed=77)
    code = (
        "import sys, numpy as np, hashlib; sys.path.insert(0, sys.argv[1]);"
        "from fast_balance.synthetic import long_tailed_labels; from fast_balance import BalancedIndexSampler;"
        "s = BalancedIndexSampler(long_tailed_labels(10, 1000, 100.0, seed=1), batch_size=32, seed=77);"
        "e = s.epoch(3);"
        "print(hashlib.sha256(e.indices.tobytes() + e.labels.tobytes() + e.repeats.tobytes()).hexdigest())"
    )
    tests_dir = str(__import__("pathlib").Path(__file__).parent)
    out = subprocess.run([sys.executable, "-c", code, tests_dir], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest(sampler, 3)


def test_same_stream_from_concurrent_threads(tail_labels):
    sampler = BalancedIndexSampler(tail_labels, seed=5)
    expected = [digest(sampler, e) for e in range(4)]
    results = {}

    def work(e):
        results[e] = digest(sampler, e)

    threads = [threading.Thread(target=work, args=(e,)) for e in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[e] for e in range(4)] == expected


def test_different_seeds_differ(tail_labels):
    assert digest(BalancedIndexSampler(tail_labels, seed=1), 0) != digest(BalancedIndexSampler(tail_labels, seed=2), 0)


@pytest.mark.parametrize("batch_size", [None, 25])
@pytest.mark.parametrize("replacement", [False, True])
def test_slices_equal_the_whole_epoch(tail_labels, batch_size, replacement):
    sampler = BalancedIndexSampler(tail_labels, batch_size=batch_size, replacement=replacement, seed=4)
    whole = sampler.epoch(2)
    cuts = [0, 1, 333, 5000, 9999, len(sampler)]
    for field in range(3):
        parts = [sampler.epoch(2, a, b)[field] for a, b in zip(cuts, cuts[1:])]
        assert np.array_equal(np.concatenate(parts), whole[field])


@pytest.mark.parametrize("batch_size", [None, 10])
def test_iterator_resumes_from_its_state_exactly(tail_labels, batch_size):
    def make():
        return BalancedIndexSampler(tail_labels, batch_size=batch_size, samples_per_epoch=500, seed=12)

    stream = [np.asarray(x).tolist() for x in make().iterator(epochs=3)]
    first = make().iterator()
    consumed = [np.asarray(next(first)).tolist() for _ in range(37)]
    state = first.state_dict()
    assert state == {"fingerprint": make().fingerprint, "epoch": 0, "position": 37 * (batch_size or 1)}
    resumed = make().iterator(epochs=3)
    resumed.load_state_dict(state)
    rest = [np.asarray(x).tolist() for x in resumed]
    assert consumed + rest == stream
    assert resumed.epoch == 3 and resumed.position == 0


def test_a_state_at_the_end_of_an_epoch_resumes_the_next_epoch(defect_labels):
    sampler = BalancedIndexSampler(defect_labels, batch_size=8, samples_per_epoch=64, seed=1)
    stream = sampler.iterator()
    for _ in range(8):
        next(stream)
    state = stream.state_dict()
    assert (state["epoch"], state["position"]) == (0, 64)
    resumed = sampler.iterator()
    resumed.load_state_dict(state)
    assert (resumed.epoch, resumed.position) == (1, 0)
    assert np.array_equal(next(resumed), sampler.epoch(1).indices[:8])


def test_epochs_count_from_the_epoch_given_even_at_its_end(defect_labels):
    # A state just after an epoch's last batch is (e, len): iterator(e, len, epochs=k) is the rest
    # of epoch e (nothing) and k - 1 more epochs, as documented; it went on for k more, one epoch
    # past the end of a run resumed at an epoch boundary.
    sampler = BalancedIndexSampler(defect_labels, batch_size=8, samples_per_epoch=64, seed=1)
    rest = list(sampler.iterator(0, 64, epochs=2))
    assert len(rest) == 8 and np.array_equal(np.concatenate(rest), sampler.epoch(1).indices)
    assert list(sampler.iterator(3, 64, epochs=1)) == []
    resumed = sampler.iterator(epochs=2)
    resumed.load_state_dict({"fingerprint": sampler.fingerprint, "epoch": 0, "position": 64})
    assert len(list(resumed)) == 8 and (resumed.epoch, resumed.position) == (2, 0)


def test_the_sampler_is_a_plan_and_each_iterator_its_own_cursor(defect_labels):
    sampler = BalancedIndexSampler(defect_labels, batch_size=8, samples_per_epoch=64, seed=1)
    first = np.concatenate(list(sampler))
    again = np.concatenate(list(sampler))
    assert np.array_equal(first, sampler.epoch(0).indices) and np.array_equal(again, first)
    a, b = iter(sampler), iter(sampler)
    next(a)
    assert np.array_equal(next(b), sampler.epoch(0).indices[:8])  # b is not moved by a
    assert np.array_equal(np.concatenate(list(sampler.iterator(1, epochs=1))), sampler.epoch(1).indices)
    assert not hasattr(sampler, "state_dict") and not hasattr(sampler, "set_epoch")


@pytest.mark.parametrize("batch_size", [None, 4])
def test_threads_sharing_an_iterator_get_every_item_exactly_once(tail_labels, batch_size):
    sampler = BalancedIndexSampler(tail_labels, batch_size=batch_size, samples_per_epoch=4000, seed=2)
    shared = sampler.iterator(epochs=2)
    taken: list[list] = [[] for _ in range(4)]

    def work(out):
        for item in shared:
            out.append(np.asarray(item).tolist())

    threads = [threading.Thread(target=work, args=(out,)) for out in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    items = [item for out in taken for item in out]
    expected = [np.asarray(x).tolist() for x in sampler.iterator(epochs=2)]
    assert len(items) == len(expected) == 2 * 4000 // (batch_size or 1)
    assert sorted(map(str, items)) == sorted(map(str, expected))
    assert shared.epoch == 2 and shared.position == 0


def test_states_are_checked_not_coerced(defect_labels):
    sampler = BalancedIndexSampler(defect_labels, batch_size=8, samples_per_epoch=64, seed=1)
    good = sampler.iterator().state_dict()
    stream = sampler.iterator()
    for key, value, error, message in [
        ("epoch", 7.9, TypeError, "must be an integer, got float 7.9"),
        ("epoch", "7", TypeError, "must be an integer, got str '7'"),
        ("epoch", True, TypeError, "must be an integer, got bool"),
        ("epoch", -1, ValueError, ">= 0"),
        ("position", 4, ValueError, "not a whole number of batches of 8"),
        ("position", 72, ValueError, "<= 64"),
        ("fingerprint", "0" * 16, ValueError, "another sampler"),
    ]:
        with pytest.raises(error, match=message):
            stream.load_state_dict({**good, key: value})
    with pytest.raises(KeyError, match="position"):
        stream.load_state_dict({"fingerprint": good["fingerprint"], "epoch": 0})
    other_seed = BalancedIndexSampler(defect_labels, batch_size=8, samples_per_epoch=64, seed=2).iterator()
    other_labels = BalancedIndexSampler(defect_labels[::-1], batch_size=8, samples_per_epoch=64, seed=1).iterator()
    other_shard = BalancedIndexSampler(defect_labels, batch_size=8, samples_per_epoch=64, seed=1, num_shards=2)
    for other in (other_seed, other_labels, other_shard.iterator()):
        with pytest.raises(ValueError, match="another sampler"):
            other.load_state_dict(good)


def test_fingerprints_tell_samplers_apart(defect_labels):
    base = dict(batch_size=8, seed=1)
    same = BalancedIndexSampler(defect_labels.astype(np.int8), **base).fingerprint
    assert BalancedIndexSampler(defect_labels, **base).fingerprint == same
    for change in (
        {"seed": 2},
        {"batch_size": 16},
        {"target": 0.5},
        {"replacement": True},
        {"samples_per_epoch": 1024},
        {"target": "instance"},
    ):
        assert BalancedIndexSampler(defect_labels, **{**base, **change}).fingerprint != same, change


def _pickled_epoch_digest(payload: bytes) -> str:
    import pickle

    sampler = pickle.loads(payload)
    e = sampler.epoch(3)
    return hashlib.sha256(e.indices.tobytes() + e.labels.tobytes() + e.repeats.tobytes()).hexdigest()


def test_samplers_pickle_to_the_same_stream_in_a_spawned_process(tail_labels):
    import multiprocessing
    import pickle

    sampler = BalancedIndexSampler(tail_labels, target=0.5, batch_size=16, seed=2**64 - 1, num_shards=2, shard_index=1)
    payload = pickle.dumps(sampler)
    copy = pickle.loads(payload)
    assert copy.fingerprint == sampler.fingerprint and digest(copy, 3) == digest(sampler, 3)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply_async(_pickled_epoch_digest, (payload,)).get(timeout=120) == digest(sampler, 3)


@pytest.mark.parametrize("batch_size", [None, 16])
@pytest.mark.parametrize("num_shards", [2, 3])
def test_shards_are_disjoint_and_their_union_is_the_epoch(tail_labels, batch_size, num_shards):
    size = 16 * 3 * 100
    whole = BalancedIndexSampler(tail_labels, batch_size=batch_size, samples_per_epoch=size, seed=3).epoch(1)
    unit = batch_size or 1
    rebuilt = np.empty_like(whole.indices)
    rebuilt_repeats = np.empty_like(whole.repeats)
    for shard in range(num_shards):
        sampler = BalancedIndexSampler(
            tail_labels, batch_size=batch_size, samples_per_epoch=size, seed=3, num_shards=num_shards, shard_index=shard
        )
        assert len(sampler) == size // num_shards
        part = sampler.epoch(1)
        positions = np.arange(size).reshape(-1, unit)[shard::num_shards].ravel()
        rebuilt[positions] = part.indices
        rebuilt_repeats[positions] = part.repeats
        if batch_size:  # every shard's batches are stratified on their own
            counts = np.stack([np.bincount(b, minlength=10) for b in part.labels.reshape(-1, batch_size)])
            assert counts.min() >= batch_size // 10 and counts.max() <= -(-batch_size // 10)
    assert np.array_equal(rebuilt, whole.indices)
    assert np.array_equal(rebuilt_repeats, whole.repeats)


def test_labels_any_integer_dtype_zero_copy_or_strided():
    base = long_tailed_labels(5, 100, 10.0, seed=2)
    expected = digest(BalancedIndexSampler(base, seed=1), 0)
    for dtype in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.uint64):
        assert digest(BalancedIndexSampler(base.astype(dtype), seed=1), 0) == expected
    strided = np.repeat(base, 2)[::2]
    assert not strided.flags.c_contiguous
    assert digest(BalancedIndexSampler(strided, seed=1), 0) == expected
    assert digest(BalancedIndexSampler(base.tolist(), seed=1), 0) == expected


def test_epoch_into_reused_buffers_equals_fresh_arrays():
    labels = np.repeat(np.arange(4), [50, 20, 7, 3])
    sampler = BalancedIndexSampler(labels, batch_size=8, seed=2)
    buffers = sampler.epoch(0)
    for e in (1, 2):
        into = sampler.epoch(e, out=buffers)
        fresh = sampler.epoch(e)
        assert all(np.shares_memory(a, b) for a, b in zip(into, buffers))
        assert all(np.array_equal(a, b) for a, b in zip(into, fresh))
    part = sampler.epoch(3, 16, 40, out=buffers)
    assert len(part.indices) == 24 and np.array_equal(part.labels, sampler.epoch(3, 16, 40).labels)


def test_fresh_epochs_never_share_memory_with_arrays_still_held():
    labels = np.repeat(np.arange(4), [500, 200, 70, 30])
    sampler = BalancedIndexSampler(labels, seed=5)
    expected = [tuple(a.copy() for a in sampler.epoch(e)) for e in range(4)]
    kept = sampler.epoch(0).repeats[10:]  # a view holds all of epoch 0's memory
    sampler.epoch(1)  # dropped at once: its memory may serve the next epoch
    for e in (2, 3):
        current = sampler.epoch(e)
        assert not np.shares_memory(current.repeats, kept)
        assert all(np.array_equal(a, b) for a, b in zip(current, expected[e]))
        del current  # its memory may serve the next epoch
    assert np.array_equal(kept, expected[0][2][10:])


def test_output_pool_reuses_dropped_memory_for_requests_of_similar_size():
    # 64 MiB per take: glibc maps allocations that large afresh (zeroed), so old contents can
    # only come back through the pool.
    size = 4 << 20
    pool = _core.OutputPool()
    first = pool.take(size)
    for array in first:
        array[:] = 7
    del first, array
    small = pool.take(10)  # much smaller: must not take (and pin) the large memory
    second = pool.take(size)
    assert all(np.all(array == 7) for array in second)
    assert small[0].size == 10


def test_epoch_into_rejects_unusable_buffers():
    sampler = BalancedIndexSampler(np.repeat(np.arange(2), [6, 2]), seed=0)
    good = sampler.epoch(0)
    with pytest.raises(TypeError, match="out.indices must be a 1-D int64"):
        sampler.epoch(1, out=(good.indices.astype(np.int32), good.labels, good.repeats))
    with pytest.raises(ValueError, match="out.labels has 3 elements, 12 are needed"):
        sampler.epoch(1, out=(good.indices, good.labels[:3].copy(), good.repeats))
    strided = np.zeros(2 * good.repeats.size, dtype=np.int32)[::2]
    with pytest.raises(ValueError, match="C-contiguous and writeable"):
        sampler.epoch(1, out=(good.indices, good.labels, strided))
    frozen = good.repeats.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="C-contiguous and writeable"):
        sampler.epoch(1, out=(good.indices, good.labels, frozen))
    with pytest.raises(TypeError, match="three arrays"):
        sampler.epoch(1, out=[good.indices])
    with pytest.raises(TypeError):  # the binding never writes into a converted copy
        sampler._core.fill_into(1, 0, 12, good.indices.astype(np.int32), good.labels, good.repeats)
