"""Property tests (hypothesis) over random label sets, targets, batch sizes and raw core inputs."""

from __future__ import annotations

import numpy as np
import weighted_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stream_reference import StreamModel

from fast_balance import BalancedIndexSampler, WeightedIndexSampler, _core

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def sampler_cases(draw):
    counts = draw(st.lists(st.integers(1, 40), min_size=1, max_size=12))
    labels = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(draw(st.integers(0, 1000))).shuffle(labels)
    target = draw(
        st.one_of(
            st.sampled_from(["balanced", "instance"]),
            st.floats(-1.0, 2.0, allow_nan=False),
            st.lists(st.integers(0, 9), min_size=len(counts), max_size=len(counts)).filter(any),
        )
    )
    options = dict(
        target=target,
        samples_per_epoch=draw(st.one_of(st.sampled_from(["max", "min", "n"]), st.integers(1, 400))),
        batch_size=draw(st.one_of(st.none(), st.integers(1, 24))),
        replacement=draw(st.booleans()),
        seed=draw(st.integers(0, 2**64 - 1)),
    )
    return labels, options, draw(st.integers(0, 6))


@SETTINGS
@given(sampler_cases())
def test_every_epoch_keeps_the_contract(case):
    labels, options, epoch_number = case
    sampler = BalancedIndexSampler(labels, **options)
    e = sampler.epoch(epoch_number)
    size = len(sampler)
    assert e.indices.shape == e.labels.shape == e.repeats.shape == (size,)
    assert np.array_equal(labels[e.indices], e.labels)
    quotas = sampler.quotas
    assert np.bincount(e.labels, minlength=sampler.num_classes).tolist() == quotas.tolist()
    assert np.all(np.abs(quotas - size * sampler.class_probabilities) < 1)
    assert e.repeats.tolist() == weighted_reference.with_repeats(e.indices.tolist())
    if not options["replacement"]:  # pools: within one pass over a class, no sample comes twice
        counts = sampler.class_counts
        for c in np.flatnonzero(quotas):
            draws = e.indices[e.labels == c]
            passes = (epoch_number * quotas[c] + np.arange(draws.size)) // counts[c]
            for p in np.unique(passes):
                in_pass = draws[passes == p]
                assert np.unique(in_pass).size == in_pass.size
    batch = options["batch_size"]
    if batch:
        num_batches = size // batch
        per_batch = np.stack([np.bincount(row, minlength=sampler.num_classes) for row in e.labels.reshape(-1, batch)])
        low = quotas // num_batches
        assert np.all((per_batch == low) | (per_batch == low + 1))
        lag = np.cumsum(per_batch, axis=0) * num_batches - np.outer(np.arange(1, num_batches + 1), quotas)
        assert np.all(np.abs(lag) < num_batches)


@SETTINGS
@given(
    labels=st.lists(st.integers(-3, 12), min_size=0, max_size=30),
    dtype=st.sampled_from([np.int8, np.int32, np.int64, np.uint16, np.float32]),
    num_classes=st.integers(-2, 12),
    weights=st.lists(st.integers(0, 2**40), min_size=0, max_size=12),
    samples_per_epoch=st.integers(-5, 300),
    batch_size=st.integers(-2, 10),
    num_shards=st.integers(-1, 4),
    shard_index=st.integers(-1, 4),
    epoch=st.integers(-2, 2**20),
    window=st.tuples(st.integers(-3, 300), st.integers(-3, 300)),
)
def test_core_refuses_bad_input_without_crashing(
    labels, dtype, num_classes, weights, samples_per_epoch, batch_size, num_shards, shard_index, epoch, window
):
    # Straight into the core, past the Python checks: it must raise, never crash or hang.
    array = np.array(labels).astype(dtype)
    try:
        index = _core.ClassIndex(array, num_classes)
        sampler = _core.Sampler(
            index, np.array(weights, dtype=np.uint64), 7, samples_per_epoch, batch_size, False, num_shards, shard_index
        )
    except (ValueError, TypeError, OverflowError):
        return
    start, stop = window
    try:
        indices, out_labels, repeats = sampler.fill(epoch, start, stop)
    except (ValueError, TypeError, OverflowError):
        return
    assert np.all(array[indices] == out_labels)
    assert np.all(repeats >= 0)


@st.composite
def stream_cases(draw):
    num_classes = draw(st.integers(1, 8))
    labels = draw(st.lists(st.integers(0, num_classes - 1), max_size=300))
    weights = draw(st.lists(st.integers(0, 5), min_size=num_classes, max_size=num_classes).filter(any))
    return (num_classes, np.array(labels, dtype=np.int64), weights, draw(st.integers(1, 12)),
            draw(st.integers(0, 2**64 - 1)), draw(st.integers(1, 50)))


@SETTINGS
@given(stream_cases())
def test_stream_rebalancer_keeps_its_contract(case):
    num_classes, labels, weights, capacity, seed, chunk = case
    payloads = [f"{c}:{i}".encode() for i, c in enumerate(labels)]

    def run(chunk_size):
        stream = _core.Rebalancer(np.array(weights, dtype=np.uint64), capacity, seed)
        out, out_labels, out_repeats = [], [], []
        for begin in range(0, max(len(payloads), 1), chunk_size):
            end = min(len(payloads), begin + chunk_size)
            p, y, r = stream.push(payloads[begin:end], labels[begin:end], end == len(payloads))
            out += p
            out_labels += y.tolist()
            out_repeats += r.tolist()
        assert stream.finished
        return out, out_labels, out_repeats, stream.stats

    out, out_labels, repeats, stats = run(chunk)
    weighted = [payload for payload, label in zip(payloads, labels) if weights[label] > 0]
    # Everything read from a weighted class comes out, first with repeats 0; nothing else does.
    assert sorted(p for p, r in zip(out, repeats) if r == 0) == sorted(weighted)
    assert stats["fresh"] == stats["read"] == len(weighted) and stats["unweighted"] == len(payloads) - len(weighted)
    assert all(weights[label] > 0 for label in out_labels)
    assert all(payload.startswith(f"{label}:".encode()) for payload, label in zip(out, out_labels))
    assert stats["emitted"] == len(out) == stats["fresh"] + stats["replays"]
    longest = max((len(p) for p in payloads), default=0)
    assert stats["peak_held_bytes"] <= 2 * capacity * longest * num_classes
    assert stats["held_bytes"] >= 0
    # The output is the same however the input is chunked.
    assert run(len(payloads) + 1)[:3] == (out, out_labels, repeats)
    # It is the documented rule (the pure-Python model), and while no class had to be skipped
    # for lack of records, every prefix gives each class floor or ceil of its exact share.
    model = StreamModel(weights, capacity, seed)
    assert model.push(payloads, labels, True) == list(zip(out, out_labels, repeats))
    if not model.skipped:
        counts = np.zeros(num_classes, dtype=np.int64)
        total = sum(weights)
        for n, label in enumerate(out_labels, start=1):
            counts[label] += 1
            assert all(n * w // total <= k <= -(-n * w // total) for k, w in zip(counts, weights))


@st.composite
def weighted_cases(draw):
    weights = draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1e6), st.integers(1, 20).map(float)),
                            min_size=1, max_size=40).filter(any))
    options = dict(
        samples_per_epoch=draw(st.integers(1, 400)),
        batch_size=draw(st.one_of(st.none(), st.integers(1, 12))),
        replacement=draw(st.booleans()),
        seed=draw(st.integers(0, 2**64 - 1)),
    )
    return weights, options, draw(st.integers(0, 10**6)), draw(st.integers(0, 400))


@SETTINGS
@given(weighted_cases())
def test_weighted_epochs_keep_the_contract(case):
    weights, options, epoch_number, cut = case
    sampler = WeightedIndexSampler(weights, **options)
    e = sampler.epoch(epoch_number)
    size = len(sampler)
    assert e.indices.shape == e.repeats.shape == (size,)
    assert e.repeats.tolist() == weighted_reference.with_repeats(e.indices.tolist())
    assert all(weights[i] > 0 for i in set(e.indices.tolist()))
    if not options["replacement"]:
        expected = sampler.expected_counts
        counts = np.bincount(e.indices, minlength=len(weights))
        assert np.all((counts >= np.floor(expected - 1e-9)) & (counts <= np.ceil(expected + 1e-9)))
    indices, repeats = weighted_reference.weighted_sampler_epoch(
        weights, sampler.samples_per_epoch, epoch_number, options["seed"], options["replacement"])
    assert e.indices.tolist() == indices and e.repeats.tolist() == repeats
    cut = min(cut, size)
    assert np.array_equal(np.concatenate([sampler.epoch(epoch_number, 0, cut).indices,
                                          sampler.epoch(epoch_number, cut).indices]), e.indices)


@SETTINGS
@given(
    weights=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=20),
    samples_per_epoch=st.integers(-5, 300),
    batch_size=st.integers(-2, 10),
    replacement=st.booleans(),
    num_shards=st.integers(-1, 4),
    shard_index=st.integers(-1, 4),
    epoch=st.integers(-2, 2**62),
    window=st.tuples(st.integers(-3, 300), st.integers(-3, 300)),
)
def test_weighted_core_refuses_bad_input_without_crashing(
    weights, samples_per_epoch, batch_size, replacement, num_shards, shard_index, epoch, window
):
    # Straight into the core, past the Python checks: it must raise, never crash or hang.
    try:
        sampler = _core.WeightedSampler(np.array(weights, dtype=np.float64), 3, samples_per_epoch, batch_size,
                                        replacement, num_shards, shard_index)
    except (ValueError, TypeError, OverflowError):
        return
    start, stop = window
    try:
        indices, repeats = sampler.fill(epoch, start, stop)
    except (ValueError, TypeError, OverflowError):
        return
    assert np.all((indices >= 0) & (indices < len(weights))) and np.all(repeats >= 0)
