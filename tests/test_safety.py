"""No input from any thread reaches undefined behaviour; memory follows the data, not the arguments.

Cases that would crash or exhaust memory on a regression run in a fresh interpreter, some with a
bounded address space, so that a failure is a failed test rather than a dead test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fast_balance import BalancedIndexSampler


def run_python(code: str, address_space: int | None = None, timeout: float = 120) -> str:
    """Runs ``code`` in a new interpreter (optionally with RLIMIT_AS); returns its stdout."""
    prelude = ""
    if address_space is not None:
        prelude = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({address_space}, {address_space}))\n"
    result = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-3000:]}"
    return result.stdout


def test_labels_written_by_another_thread_while_a_sampler_is_built():
    # The reproducer: a thread flips a label out of range and back while samplers are
    # built from the array. Each build sees one consistent copy: it succeeds or names the label.
    out = run_python("""
        import threading, numpy as np, fast_balance
        a = np.zeros(4_000_000, np.int64); a[1::2] = 1
        stop = False
        def flip():
            while not stop:
                a[-10] = 1 << 40
                a[-10] = 1
        thread = threading.Thread(target=flip); thread.start()
        built = refused = 0
        try:
            for _ in range(40):
                try:
                    s = fast_balance.BalancedIndexSampler(a, num_classes=2)
                    assert s.class_counts.sum() == a.size
                    built += 1
                except ValueError as error:
                    assert "label 1099511627776 at position 3999990" in str(error), error
                    refused += 1
        finally:
            stop = True; thread.join()
        print(built + refused)
    """)
    assert out.split() == ["40"]


def test_output_labels_written_by_another_thread_during_a_batched_fill():
    # A batched epoch keeps each place's staged draw in its output label until it is written; a
    # thread scribbling there must get an error or a wrong value, never an access out of bounds.
    out = run_python("""
        import threading, numpy as np, fast_balance
        labels = np.repeat(np.arange(300), 40)
        s = fast_balance.BalancedIndexSampler(labels, batch_size=64, seed=1)
        out = s.epoch(0)
        stop = False
        def scribble():
            rng = np.random.default_rng(0)
            while not stop:
                out.labels[rng.integers(0, out.labels.size, 64)] = rng.integers(-2**31, 2**31 - 1, 64)
        thread = threading.Thread(target=scribble); thread.start()
        errors = 0
        try:
            for e in range(30):
                try:
                    s.epoch(e, out=out)
                except RuntimeError as error:
                    assert "changed while the epoch was written" in str(error)
                    errors += 1
        finally:
            stop = True; thread.join()
        print("done")
    """)
    assert out.split() == ["done"]


def test_memory_follows_the_data_not_the_number_of_classes():
    # 3 samples among 10**8 class ids: building and drawing cost kilobytes, not 12 GB.
    out = run_python("""
        import time, fast_balance
        start = time.perf_counter()
        s = fast_balance.BalancedIndexSampler([0, 1, 2], num_classes=10**8, target={0: 1, 1: 1, 2: 1})
        e = s.epoch(0)
        print(sorted(e.labels.tolist()), time.perf_counter() - start)
    """, address_space=1 << 30)
    labels, seconds = out.rsplit(maxsplit=1)
    assert labels == "[0, 1, 2]" and float(seconds) < 2.0


def test_a_slice_costs_memory_of_the_slice_not_of_the_epoch():
    # An unbatched slice of a 2^28-slot epoch once needed 1 GB of scratch; a batched slice of an
    # epoch of 2^31 - 2 batches allocated 3 entries per batch (24 GiB) before any check.
    out = run_python("""
        import numpy as np, fast_balance
        unbatched = fast_balance.BalancedIndexSampler(np.arange(8) % 2, samples_per_epoch=2**28, seed=1)
        head = unbatched.epoch(0, 0, 64)
        tail = unbatched.epoch(0, 2**28 - 64, 2**28)
        batched = fast_balance.BalancedIndexSampler(np.arange(8) % 2, batch_size=2, samples_per_epoch=2**32 - 4)
        first = batched.epoch(0, 0, 64)
        assert np.array_equal((np.arange(8) % 2)[head.indices], head.labels) and tail.indices.size == 64
        print(np.bincount(first.labels).tolist())  # batched: every batch of 2 is one of each class
    """, address_space=768 << 20)
    assert out.split() == ["[32,", "32]"]


def test_repeats_cannot_overflow_with_replacement():
    with pytest.raises(ValueError, match="more than 2\\^31 - 1 times per epoch with replacement"):
        BalancedIndexSampler(np.arange(200) % 2, replacement=True, samples_per_epoch=2**33)


def test_slices_of_a_large_unbatched_epoch_equal_the_whole():
    # Slices are filled a window of buckets at a time: check windows, bucket edges and shards.
    labels = np.random.default_rng(5).permutation(np.repeat(np.arange(50), np.linspace(2000, 20, 50).astype(int)))
    sampler = BalancedIndexSampler(labels, target=0.5, samples_per_epoch=3_000_000, seed=4)
    whole = sampler.epoch(1)
    for start, stop in ((0, 1), (16383, 16390), (1_048_000, 2_100_000), (2_999_990, 3_000_000)):
        part = sampler.epoch(1, start, stop)
        assert all(np.array_equal(a, b[start:stop]) for a, b in zip(part, whole))
    for shard in range(3):
        part = BalancedIndexSampler(labels, target=0.5, samples_per_epoch=3_000_000, seed=4, num_shards=3,
                                    shard_index=shard).epoch(1)
        assert all(np.array_equal(a, b[shard::3]) for a, b in zip(part, whole))


def test_a_label_written_by_another_thread_is_named_as_read():
    # A label past num_classes was looked for again after the check had seen it; by then another
    # thread had written it back, and the message named a valid label ("label 0 at position 0").
    out = run_python("""
        import sys, threading, numpy as np, fast_balance
        sys.setswitchinterval(1e-6)
        a = np.zeros(4_000_000, np.int64); a[1::2] = 1
        stop = False
        def flip():
            while not stop:
                for value in (5, 1):  # the thread may be switched out holding either value
                    a[-10] = value
        thread = threading.Thread(target=flip); thread.start()
        messages = set()
        try:
            for _ in range(200):
                try:
                    fast_balance.BalancedIndexSampler(a, num_classes=2)
                except ValueError as error:
                    messages.add(str(error).split(";")[-1].strip())
        finally:
            stop = True; thread.join()
        print(sorted(messages))
    """)
    assert all("label 5 at position 3999990" in message for message in eval(out)), out


def test_batch_size_times_num_shards_past_64_bits_is_refused_by_the_core():
    # Past the Python checks: 2^26 * 2^38 wrapped to 0 and the core divided by it (SIGFPE).
    out = run_python("""
        import numpy as np
        from fast_balance import _core
        index = _core.ClassIndex(np.array([0, 1, 1, 2, 2, 2]), 3)
        for shards in (2**37, 2**38):
            try:
                _core.Sampler(index, np.ones(3, np.uint64), 0, 6, 2**26, False, shards, 0)
            except ValueError as error:
                print(error)
    """)
    assert out.splitlines() == ["samples_per_epoch must be a multiple of batch_size * num_shards"] * 2
