"""fast_balance.StreamRebalancer: the streaming core through its NumPy-only Python API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from stream_reference import StreamModel

from fast_balance import StreamRebalancer


def shuffled_stream(counts, seed=0):
    labels = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(seed).shuffle(labels)
    return [f"{c}:{i}".encode() for i, c in enumerate(labels)], labels


def present_from_start(labels):
    """The labels with each class's first record moved to the front (in class order)."""
    labels = labels.copy()
    for c in range(labels.max() + 1):
        first = c + int(np.flatnonzero(labels[c:] == c)[0])
        labels[[c, first]] = labels[[first, c]]
    return labels


def run(stream, payloads, labels, chunk):
    out, out_labels, out_repeats = [], [], []
    for begin in range(0, len(payloads), chunk):
        final = begin + chunk >= len(payloads)
        p, y, r = stream.push(payloads[begin : begin + chunk], labels[begin : begin + chunk], final=final)
        out += p
        out_labels.append(y)
        out_repeats.append(r)
    return out, np.concatenate(out_labels), np.concatenate(out_repeats)


def run_python(code: str, memory_limit: int | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter (a crash must not take the test session with it),
    with its address space limited to ``memory_limit`` bytes if given."""
    if memory_limit is not None:
        code = f"import resource\nresource.setrlimit(resource.RLIMIT_AS, ({memory_limit}, {memory_limit}))\n" + code
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_prefix_is_within_one_of_the_exact_share(seed):
    """While every class has records, after every emission each class has floor or ceil of its share."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(1, 6, size=7)
    payloads, labels = shuffled_stream(rng.integers(20, 400, size=7), seed=seed)
    labels = present_from_start(labels)
    stream = StreamRebalancer(7, target=weights.astype(float), capacity_per_class=1000, seed=seed)
    _, out_labels, _ = run(stream, payloads, labels, 64)
    counts = np.cumsum(np.eye(7, dtype=np.int64)[out_labels], axis=0)  # counts after each prefix
    shares = np.arange(1, out_labels.size + 1)[:, None] * weights / weights.sum()
    assert np.all(counts >= np.floor(shares)) and np.all(counts <= np.ceil(shares))


@pytest.mark.parametrize("seed", range(6))
def test_output_is_the_documented_rule(seed):
    """The core against a pure-Python model of the rule in rebalance.hpp (random weights, capacities, chunks)."""
    rng = np.random.default_rng(seed)
    num_classes = int(rng.integers(1, 9))
    weights = rng.integers(0, 5, size=num_classes)
    weights[rng.integers(num_classes)] += 1
    payloads, labels = shuffled_stream(rng.integers(0, 60, size=num_classes), seed=seed)
    capacity, chunk = int(rng.integers(1, 8)), int(rng.integers(1, 40))
    stream = StreamRebalancer(num_classes, target=weights, capacity_per_class=capacity, seed=seed)
    model = StreamModel(weights, capacity, seed)
    for begin in range(0, max(len(payloads), 1), chunk):
        end = min(len(payloads), begin + chunk)
        final = end == len(payloads)
        out, out_labels, repeats = stream.push(payloads[begin:end], labels[begin:end], final=final)
        assert list(zip(out, out_labels.tolist(), repeats.tolist())) == model.push(
            payloads[begin:end], labels[begin:end], final
        )
    assert stream.finished and model.finished
    assert {k: stream.stats[k] for k in model.stats} == model.stats


def test_a_late_class_starts_at_the_current_slot_without_a_burst():
    # Class 1's first record comes after 200 of class 0; class 0's FIFO (capacity 4) fills first,
    # so class 1 is skipped meanwhile and then starts where the stream is.
    labels = np.array([0] * 200 + [1, 0] * 50)
    payloads = [f"{c}:{i}".encode() for i, c in enumerate(labels)]
    stream = StreamRebalancer(2, capacity_per_class=4)
    _, out_labels, _ = run(stream, payloads, labels, 300)
    first = int(np.flatnonzero(out_labels == 1)[0])
    assert first > 100  # class 0 was served alone meanwhile
    after = out_labels[first:]
    # From its start, class 1 takes every other turn: never two in a row, never two behind.
    assert not np.any((after[1:] == 1) & (after[:-1] == 1))
    counts = np.cumsum(after == 1)
    assert np.all(np.abs(counts - np.arange(1, after.size + 1) / 2) <= 1)


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
    _out, out_labels, _ = run(stream, payloads, labels, 64)
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


CLASS_STATE_PROBE = """
import ctypes
import json
import numpy as np
from fast_balance import StreamRebalancer

def rss():
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # glibc
    if trim is not None:
        trim(0)  # what was freed (the target's float copies) goes back first
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * {page}

target = "balanced" if {uniform} else np.random.default_rng(0).integers(1, 4, {classes}).astype(float)
before = rss()
stream = StreamRebalancer({classes}, target=target, capacity_per_class=1024)
built = rss()
stream.push([b"x" * 100] * 1000, np.arange(1000) % 10)
print(json.dumps([built - before, rss() - before]))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS is read from /proc")
@pytest.mark.parametrize("uniform", [True, False])
def test_classes_without_records_cost_at_most_16_bytes(uniform):
    classes = 2_000_000
    probe = CLASS_STATE_PROBE.format(page=os.sysconf("SC_PAGE_SIZE"), classes=classes, uniform=uniform)
    result = run_python(probe, memory_limit=4 << 30)
    assert result.returncode == 0, result.stderr[-2000:]
    built, used = json.loads(result.stdout)
    slack = 4 << 20  # allocator and interpreter noise
    assert built <= 16 * classes + slack
    # Ten classes with records: their buffers, not every class's.
    assert used - built <= 1 << 20


TOO_LARGE_PROBE = """
import fast_balance._memory
from fast_balance import StreamRebalancer
fast_balance._memory.physical_memory = lambda: 1 << 30
for num_classes in (2**31, 100_000_000):
    try:
        StreamRebalancer(num_classes)
    except ValueError as error:
        print(error)
"""


def test_numbers_of_classes_beyond_the_limit_or_the_memory_fail_before_allocating():
    # In a fresh interpreter with 2 GiB of address space, posing as a machine with 1 GiB: were a
    # check missing, an allocation would fail there instead of exhausting the machine.
    result = run_python(TOO_LARGE_PROBE, memory_limit=2 << 30)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "num_classes must be <= 2,147,483,647, got 2,147,483,648" in result.stdout
    assert "num_classes=100,000,000 (16 bytes of class state each) needs about 1.5 GiB" in result.stdout
    assert "more than this machine's 1.0 GiB" in result.stdout


def test_a_pass_costs_o_log_c_per_record():
    # 10^5 classes, a pass over 20,000 records: a scan over all classes per turn makes some 10^9
    # class visits, O(log C) turns some 10^6 heap steps. Tolerance: 10 s.
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 100_000, size=20_000)
    payloads = [b"%d" % i for i in range(labels.size)]
    stream = StreamRebalancer(100_000, capacity_per_class=16)
    started = time.perf_counter()
    run(stream, payloads, labels, 256)
    assert time.perf_counter() - started < 10.0
    assert stream.finished and stream.stats["fresh"] == labels.size


CALLER_BUFFER_PROBE = """
import threading
import numpy as np
import fast_balance
from fast_balance import StreamRebalancer, _core

labels = np.zeros(100_000, dtype=np.int64)
payloads = [b"x"] * labels.size
stop = threading.Event()

def scribble():  # another thread keeps flipping the last label between valid and far out of range
    while not stop.is_set():
        labels[-1] = 1 << 40
        labels[-1] = 0

writer = threading.Thread(target=scribble)
writer.start()
rejected = 0
try:
    for round in range(20):
        public = StreamRebalancer(2, capacity_per_class=1 << 20)
        core = _core.Rebalancer(np.ones(2, dtype=np.uint64), 1 << 20, 0)
        for push in (lambda: public.push(payloads, labels), lambda: core.push(payloads, labels, False)):
            try:
                push()
            except ValueError:
                rejected += 1
finally:
    stop.set()
    writer.join()
print("survived", rejected)
"""


def test_push_does_not_read_the_callers_labels_after_checking_them():
    result = run_python(CALLER_BUFFER_PROBE)
    assert result.returncode == 0, f"exit status {result.returncode}: {result.stderr[-2000:]}"
    assert result.stdout.startswith("survived")


THREADS_PROBE = """
import json
import threading
import numpy as np
from fast_balance import StreamRebalancer, _core

THREADS, PUSHES, CHUNK, CLASSES, CAPACITY = 4, 150, 100, 50, 64
results = {}
for name, make in [("StreamRebalancer", lambda: StreamRebalancer(CLASSES, capacity_per_class=CAPACITY, seed=3)),
                   ("_core.Rebalancer", lambda: _core.Rebalancer(np.ones(CLASSES, dtype=np.uint64), CAPACITY, 3))]:
    stream = make()
    outputs = [[] for _ in range(THREADS + 1)]
    sent = []

    def worker(k):
        rng = np.random.default_rng(k)
        for push in range(PUSHES):
            labels = rng.integers(0, CLASSES, CHUNK)
            payloads = [f"{c}:{k}:{push}:{i}".encode() for i, c in enumerate(labels)]
            sent.extend(payloads)
            outputs[k].append(stream.push(payloads, labels, False))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outputs[THREADS].append(stream.push([], np.array([], dtype=np.int64), True))
    out = [(p, int(y), int(r)) for chunks in outputs for (ps, ys, rs) in chunks for p, y, r in zip(ps, ys, rs)]
    stats = stream.stats
    results[name] = dict(
        sent=len(sent),
        read=stats["read"], fresh=stats["fresh"], emitted=stats["emitted"], replays=stats["replays"],
        outputs=len(out), finished=bool(stream.finished),
        fresh_are_sent=sorted(p for p, _, r in out if r == 0) == sorted(sent),
        labels_kept=all(p.split(b":")[0] == str(y).encode() for p, y, _ in out),
        peak_held_bytes=stats["peak_held_bytes"], longest=max(len(p) for p in sent),
    )
try:  # the peak RSS of this process (ru_maxrss would count the parent's RSS at fork)
    with open("/proc/self/status") as status:
        results["peak_rss_bytes"] = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))
except OSError:
    results["peak_rss_bytes"] = None
print(json.dumps(results))
"""


def test_pushes_from_several_threads_are_serialised():
    # Unserialised pushes corrupt the core (its memory runs away until bad_alloc), so the probe
    # runs with 3 GiB of address space: a regression cannot take the machine with it.
    result = run_python(THREADS_PROBE, memory_limit=3 << 30)
    assert result.returncode == 0, f"exit status {result.returncode}: {result.stderr[-2000:]}"
    results = json.loads(result.stdout)
    for name in ("StreamRebalancer", "_core.Rebalancer"):
        r = results[name]
        assert r["finished"] and r["read"] == r["fresh"] == r["sent"] == 4 * 150 * 100, name
        assert r["fresh_are_sent"] and r["labels_kept"], name  # every record accounted for, once fresh
        assert r["outputs"] == r["emitted"] == r["fresh"] + r["replays"], name
        assert r["peak_held_bytes"] <= 2 * 50 * 64 * r["longest"], name
    assert results["peak_rss_bytes"] is None or results["peak_rss_bytes"] < 1 << 30


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
        ({"capacity_per_class": 0}, ValueError, "capacity_per_class must be >= 1, got 0"),
        (
            {"capacity_per_class": 2**63},
            ValueError,
            "capacity_per_class must be <= 9,223,372,036,854,775,807, got 9,223",
        ),
        ({"capacity_per_class": 2.5}, TypeError, "capacity_per_class must be an integer, got float 2.5"),
        ({"capacity_per_class": True}, TypeError, "capacity_per_class must be an integer, got bool True"),
        ({"seed": 2**64}, ValueError, "seed must be < 2\\*\\*64, got 18446744073709551616"),
        ({"seed": -1}, ValueError, "seed must be >= 0, got -1"),
        ({"seed": "0"}, TypeError, "seed must be an integer, got str '0'"),
        ({"on_error": "ignore"}, ValueError, "on_error must be one of 'raise', 'skip'; got 'ignore'"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        StreamRebalancer(2, **kwargs)


@pytest.mark.parametrize(
    ("num_classes", "error", "match"),
    [
        (0, ValueError, "num_classes must be >= 1, got 0"),
        (3.0, TypeError, "num_classes must be an integer, got float 3.0"),
    ],
)
def test_bad_num_classes(num_classes, error, match):
    with pytest.raises(error, match=match):
        StreamRebalancer(num_classes)


@pytest.mark.parametrize("seed", [0, 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1, np.uint64(2**64 - 1)])
def test_every_64_bit_seed_works(seed):
    stream = StreamRebalancer(2, capacity_per_class=2, seed=seed)
    out, _, repeats = stream.push([b"a", b"b", b"c", b"d", b"z"], [0, 0, 0, 0, 1], final=True)
    assert stream.finished and sorted(p for p, r in zip(out, repeats) if r == 0) == [b"a", b"b", b"c", b"d", b"z"]


def test_mismatched_push_and_push_after_the_end():
    stream = StreamRebalancer(2)
    with pytest.raises(ValueError, match="as long as payloads"):
        stream.push([b"a"], [0, 1])
    with pytest.raises(TypeError, match="integers"):
        stream.push([b"a"], [0.5])
    with pytest.raises(TypeError, match="final must be a bool, got str 'yes'"):
        stream.push([b"a"], [0], final="yes")
    stream.push([b"a"], [0], final=True)
    with pytest.raises(RuntimeError, match="already ended"):
        stream.push([b"b"], [1])


def test_extreme_weight_ratios_are_refused_before_emitting_without_bound():
    # 1 : 1e-12 scaled to integers is 2^40 : 1: one push emitted about 2^40 replays.
    with pytest.raises(ValueError, match=r"target: class 0 weighs 1.1e\+12 times class 1, more than the 1,048,576"):
        StreamRebalancer(2, target=[1.0, 1e-12])
    with pytest.raises(ValueError, match="class 2 weighs"):
        StreamRebalancer(3, target={1: 1.0, 2: 2.0**21})
    StreamRebalancer(2, target=[2.0**20, 1.0])  # the limit itself is allowed
    _, labels, _ = StreamRebalancer(2, target=[64.0, 1.0]).push([b"a", b"b"], [0, 1], final=True)
    assert np.bincount(labels).tolist() == [64, 1]
