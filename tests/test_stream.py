"""fast_balance.StreamRebalancer: the streaming core through its NumPy-only Python API."""

from __future__ import annotations

import numpy as np
import pytest

from fast_balance import StreamRebalancer


def shuffled_stream(counts, seed=0):
    labels = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(seed).shuffle(labels)
    return [f"{c}:{i}".encode() for i, c in enumerate(labels)], labels


def run(stream, payloads, labels, chunk):
    out, out_labels, out_repeats = [], [], []
    for begin in range(0, len(payloads), chunk):
        final = begin + chunk >= len(payloads)
        p, y, r = stream.push(payloads[begin : begin + chunk], labels[begin : begin + chunk], final=final)
        out += p
        out_labels.append(y)
        out_repeats.append(r)
    return out, np.concatenate(out_labels), np.concatenate(out_repeats)


def test_balanced_output_reads_each_record_once_and_marks_replays():
    payloads, labels = shuffled_stream([1000, 100, 20])  # 50:1, as rejection_resample's worst case
    stream = StreamRebalancer(3, capacity_per_class=64, seed=1)
    out, out_labels, repeats = run(stream, payloads, labels, 100)
    counts = np.bincount(out_labels, minlength=3)
    assert counts.max() / counts.min() <= 1.05
    stats = stream.stats
    assert stream.finished and stats["read"] == 1120 and stats["fresh"] == 1120 and stats["skipped"] == 0
    assert stats["read"] / stats["emitted"] <= 1.1  # rejection_resample reads ~20 per emitted here
    assert set(out) == set(payloads)  # every record read comes out
    assert all(payload.startswith(f"{label}:".encode()) for payload, label in zip(out, out_labels))
    assert np.sum(repeats == 0) == 1120 and stats["replays"] == np.sum(repeats > 0)
    # Class 2 (20 records) fits its reservoir, so none is replaced: each record's emissions are
    # numbered 0, 1, 2, ... in output order, and it is replayed about 1000 / 20 times.
    seen = {}
    for payload, label, repeat in zip(out, out_labels, repeats):
        if label == 2:
            assert repeat == seen.get(payload, -1) + 1
            seen[payload] = repeat
    assert len(seen) == 20 and 30 <= np.mean(list(seen.values())) <= 70


def test_output_depends_only_on_seed_and_input_order():
    payloads, labels = shuffled_stream([300, 30, 9, 60], seed=4)
    whole = run(StreamRebalancer(4, capacity_per_class=8, seed=3), payloads, labels, 10_000)
    for chunk in (1, 7, 256):
        again = run(StreamRebalancer(4, capacity_per_class=8, seed=3), payloads, labels, chunk)
        assert again[0] == whole[0] and np.array_equal(again[2], whole[2])
    other = run(StreamRebalancer(4, capacity_per_class=8, seed=4), payloads, labels, 10_000)
    assert other[0] != whole[0]


def test_weights_and_weight_zero_classes():
    payloads, labels = shuffled_stream([400, 50, 50])
    stream = StreamRebalancer(3, target={0: 2.0, 1: 1.0}, capacity_per_class=32)
    out, out_labels, _ = run(stream, payloads, labels, 64)
    counts = np.bincount(out_labels, minlength=3)
    assert counts[2] == 0 and stream.stats["unweighted"] == 50
    assert abs(counts[0] / counts[1] - 2.0) < 0.02


def test_memory_is_bounded_by_the_capacities():
    payloads, labels = shuffled_stream([5000, 200])
    stream = StreamRebalancer(2, capacity_per_class=10)
    run(stream, payloads, labels, 500)
    longest = max(len(p) for p in payloads)
    assert stream.stats["peak_held_bytes"] <= 2 * 2 * 10 * longest
    assert stream.stats["replaced"] > 0 and stream.stats["fresh"] == 5200


def test_bad_labels_raise_with_position_or_are_skipped():
    stream = StreamRebalancer(2, capacity_per_class=4)
    stream.push([b"a", b"b"], [0, 1])
    with pytest.raises(ValueError, match="label 2 of the record at stream position 3 is outside"):
        stream.push([b"c", b"d"], [0, 2])
    skipping = StreamRebalancer(2, capacity_per_class=4, on_error="skip")
    out, _, _ = skipping.push([b"a", b"x", b"b", b"y"], [0, -1, 1, 7], final=True)
    assert sorted(set(out)) == [b"a", b"b"] and skipping.stats["skipped"] == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"target": "instance"}, ValueError, "needs the class counts"),
        ({"target": 0.5}, ValueError, "power target"),
        ({"target": [1.0, float("nan")]}, ValueError, "finite"),
        ({"target": [0.0, 0.0]}, ValueError, "zero"),
        ({"capacity_per_class": 0}, ValueError, "capacity_per_class"),
        ({"on_error": "ignore"}, ValueError, "on_error"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        StreamRebalancer(2, **kwargs)


def test_mismatched_push_and_push_after_the_end():
    stream = StreamRebalancer(2)
    with pytest.raises(ValueError, match="as long as payloads"):
        stream.push([b"a"], [0, 1])
    with pytest.raises(TypeError, match="integers"):
        stream.push([b"a"], [0.5])
    stream.push([b"a"], [0], final=True)
    with pytest.raises(RuntimeError, match="already ended"):
        stream.push([b"b"], [1])
