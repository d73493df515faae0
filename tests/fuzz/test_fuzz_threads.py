"""(c) Several threads on one object: one sampler iterator, one StreamRebalancer, one sampler, a
label array written while a sampler is built from it. No crash, no item delivered twice or lost,
and every result one that a sequential run gives.

The interleavings are the scheduler's, so an example is not replayed exactly; what is checked
holds for every interleaving.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter

import numpy as np
from fuzz_support import counted, examples
from hypothesis import given, settings
from hypothesis import strategies as st

from fast_balance import BalancedIndexSampler, StreamRebalancer, _core

# Threads switch every 5 microseconds instead of 5 ms, so that short examples interleave.
SWITCH_INTERVAL = 5e-6


def run_threads(work, count: int) -> list:
    """Runs ``work(k)`` in ``count`` threads at once; returns their results, re-raising the first error."""
    results: list = [None] * count
    errors: list = []
    start = threading.Barrier(count)

    def body(k):
        try:
            start.wait()
            results[k] = work(k)
        except BaseException as error:  # handed to the main thread
            errors.append(error)

    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        threads = [threading.Thread(target=body, args=(k,)) for k in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
            assert not thread.is_alive(), "a thread hangs"
    finally:
        sys.setswitchinterval(previous)
    if errors:
        raise errors[0]
    return results


@st.composite
def small_samplers(draw):
    counts = draw(st.lists(st.integers(1, 60), min_size=1, max_size=6))
    labels = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(draw(st.integers(0, 2**32))).shuffle(labels)
    options = dict(batch_size=draw(st.one_of(st.none(), st.integers(1, 16))), seed=draw(st.integers(0, 2**64 - 1)),
                   samples_per_epoch=draw(st.one_of(st.just("max"), st.integers(1, 3000))),
                   replacement=draw(st.booleans()))
    return labels, options


@settings(max_examples=examples(0.25))
@given(case=small_samplers(), threads=st.integers(2, 6), epochs=st.integers(1, 3), save_every=st.integers(0, 7))
@counted
def test_threads_sharing_one_iterator_get_every_item_once(case, threads, epochs, save_every):
    labels, options = case
    sampler = BalancedIndexSampler(labels, **options)
    shared = sampler.iterator(epochs=epochs)
    states: list[dict] = []

    def work(k):
        taken = []
        for n, item in enumerate(shared):
            taken.append(tuple(np.atleast_1d(item).tolist()))
            if save_every and n % save_every == 0:
                states.append(shared.state_dict())  # read while the others move the cursor
        return taken

    got = Counter(item for taken in run_threads(work, threads) for item in taken)
    expected = Counter(tuple(np.atleast_1d(item).tolist()) for item in sampler.iterator(epochs=epochs))
    assert got == expected  # every item exactly as often as a single reader gets it
    step = sampler.batch_size or 1
    for state in states:  # every state seen is a valid one, which a new iterator accepts
        assert state["position"] % step == 0 and 0 <= state["position"] <= len(sampler)
        sampler.iterator().load_state_dict(state)


@settings(max_examples=examples(0.25))
@given(case=small_samplers(), threads=st.integers(2, 5), epochs=st.lists(st.integers(0, 2**30), min_size=1, max_size=6))
@counted
def test_threads_sharing_one_sampler_get_the_sequential_epochs(case, threads, epochs):
    labels, options = case
    sampler = BalancedIndexSampler(labels, **options)
    want = {e: [a.tolist() for a in sampler.epoch(e)] for e in epochs}

    def work(k):
        out = {}
        for e in epochs[k % len(epochs):] + epochs[: k % len(epochs)]:
            reused = sampler.epoch(e + 1) if k % 2 else None  # fresh arrays and out= arrays alike
            out[e] = [a.tolist() for a in sampler.epoch(e, out=reused)]
        return out

    for out in run_threads(work, threads):
        assert out == want


@st.composite
def shared_streams(draw):
    num_classes = draw(st.integers(1, 6))
    weights = draw(st.lists(st.integers(0, 4), min_size=num_classes, max_size=num_classes).filter(any))
    chunks = draw(st.lists(st.lists(st.integers(-1, num_classes - 1), max_size=60), min_size=2, max_size=12))
    return num_classes, weights, chunks, draw(st.integers(1, 10)), draw(st.integers(0, 2**64 - 1))


@settings(max_examples=examples(0.25))
@given(case=shared_streams(), threads=st.integers(2, 5), public=st.booleans())
@counted
def test_threads_sharing_one_stream_rebalancer_lose_and_duplicate_nothing(case, threads, public):
    num_classes, weights, chunks, capacity, seed = case
    if public:
        stream = StreamRebalancer(num_classes, target=weights, capacity_per_class=capacity, seed=seed, on_error="skip")
    else:
        stream = _core.Rebalancer(np.array(weights, dtype=np.uint64), capacity, seed)
        chunks = [[max(label, 0) for label in chunk] for chunk in chunks]
    records = [[(f"{k}:{i}".encode(), label) for i, label in enumerate(chunk)] for k, chunk in enumerate(chunks)]

    def work(k):
        out = []
        for chunk in records[k::threads]:
            payloads, labels = [p for p, _ in chunk], np.array([c for _, c in chunk], dtype=np.int64)
            got = stream.push(payloads, labels, False)
            out += list(zip(got[0], got[1].tolist(), got[2].tolist()))
            out.append(("stats", stream.stats["emitted"], stream.finished))  # read while others push
        return out

    outputs = run_threads(work, threads)
    last = stream.push([], np.zeros(0, np.int64), True)
    emitted = [item for out in outputs for item in out if item[0] != "stats"]
    emitted += list(zip(last[0], last[1].tolist(), last[2].tolist()))
    sent = {p: c for chunk in records for p, c in chunk if c >= 0 and weights[c] > 0}
    fresh = [p for p, _, r in emitted if r == 0]
    assert sorted(fresh) == sorted(sent)  # every record read comes out once as a fresh emission
    assert all(sent.get(p) == c for p, c, _ in emitted)  # with its own label; replays of read records only
    stats = stream.stats
    assert stream.finished and stats["emitted"] == len(emitted) == stats["fresh"] + stats["replays"]


@settings(max_examples=examples(0.1))
@given(size=st.integers(1, 300_000), classes=st.integers(1, 5), dtype=st.sampled_from(["int64", "int32", "uint16"]),
       writers=st.integers(1, 3), public=st.booleans())
@counted
def test_labels_written_while_a_sampler_is_built(size, classes, dtype, writers, public):
    classes = min(classes, size)  # every class present: "balanced" refuses absent ones
    labels = (np.arange(size) % classes).astype(dtype)
    stop = threading.Event()
    bad = {"int64": 1 << 40, "int32": -5, "uint16": 60000}[dtype]

    def scribble(k):
        rng = np.random.default_rng(k)
        where = rng.integers(0, size, 64)
        while not stop.is_set():
            labels[where] = bad
            labels[where] = where % classes

    def build(k):
        built = 0
        try:
            for _ in range(8):
                try:
                    if public:
                        sampler = BalancedIndexSampler(labels, num_classes=classes)
                        counts, n = sampler.class_counts, len(labels)
                    else:
                        index = _core.ClassIndex(labels, classes)
                        counts, n = index.counts, index.num_samples
                except ValueError as error:
                    assert str(bad) in str(error) or "outside" in str(error) or ">= 0" in str(error), error
                    continue
                assert counts.sum() == n == size and counts.size <= classes
                built += 1
        finally:
            stop.set()
        return built

    run_threads(lambda k: build(k) if k == 0 else scribble(k), writers + 1)
