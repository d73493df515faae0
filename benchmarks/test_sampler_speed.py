"""Index samplers side by side: indices/s, set-up time and peak memory of one epoch.

Labels: long-tailed (largest class / smallest = 100), N = 1e6 and 1e7 samples, C = 10, 1,000 and
100,000 classes. Epochs are balanced with samples_per_epoch "max" (every class drawn as often as
the largest has samples), without replacement. Everything runs in one session, so the ratios are
comparable on a shared machine; each figure is the best round.

    python -m pytest benchmarks/test_sampler_speed.py --benchmark-only \
        --benchmark-json=benchmarks/sampler.json -p no:cacheprovider
    python benchmarks/report.py benchmarks/sampler.json

What is timed:

- fast_balance: ``sampler.epoch(e)``, a new ``e`` every round (epoch 0 first, untimed, as the
  workspace is allocated once per sampler), unbatched and with ``batch_size=64``; 10 rounds at
  N = 1e6 and 6 at 1e7 (the others: 5 and 3).
- NumPy: `sampler_baselines.NumpyBalancedSampler.epoch`, the same quotas and output arrays.
- blog Example 1: the post's per-class Python iterators, BLOG_DRAWS indices per round (a full
  epoch of 4e7 in pure Python would take minutes); skipped where its ``np.where``-per-class
  set-up is estimated above 30 s.
- tf sample_from_datasets (C <= 1000, N = 1e6): build (datasets, iterator, first batch), then
  TF_BATCHES batches of 1024 per round from the same iterator. Batching inside the dataset keeps
  Python's per-element cost (tens of microseconds per eager ``next``) out of the measurement;
  ``batch`` itself costs far less per element than ``sample_from_datasets``.
- set-up: constructing each sampler (fast_balance also for the issue's C = 10,000, N = 1e6,
  target < 0.1 s).
- memory: see `test_epoch_peak_memory`.
"""

from __future__ import annotations

import itertools
import json
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest
import sampler_baselines as baselines

from fast_balance import BalancedIndexSampler

BENCHMARKS = str(pathlib.Path(__file__).resolve().parent)
SIZES = [10**6, 10**7]
CLASSES = [10, 1000, 100_000]
GRID = [(n, c) for n in SIZES for c in CLASSES]
BATCH = 64
BLOG_DRAWS = 200_000
TF_BATCHES = 50  # 51,200 indices per round
TF_CLASSES = [10, 1000]
SETUP_TARGET_S = 0.1  # the issue: C = 10,000, N = 1e6 sets up in under 0.1 s
MEMORY_TARGET = 16  # the issue: peak extra bytes per sample of an epoch, beyond its output
OUTPUT_BYTES = 16  # int64 index + int32 label + int32 repeat per sample


def rounds_for(n: int) -> int:
    return 5 if n <= 10**6 else 3


def fast_rounds_for(n: int) -> int:
    """fast_balance's epochs take under a second: more rounds, so that the best is less often one
    that shared the machine with a busy neighbour."""
    return 10 if n <= 10**6 else 6


def size_name(n: int) -> str:
    return f"1e{len(str(n)) - 1}" if str(n).strip("0") == "1" else f"{n:,}"


def record(benchmark, name: str, kind: str, n: int, c: int, **metrics) -> None:
    benchmark.extra_info.update(name=name, kind=kind, N=n, C=c, **metrics)


def rate(benchmark, count: int) -> float:
    return count / benchmark.stats.stats.min


# -- set-up -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "c"), [*GRID, (10 ** 6, 10000)])
def test_setup_fast_balance(benchmark, labels_for, n, c):
    labels = labels_for(n, c)
    benchmark.group = f"setup N={size_name(n)} C={c}"
    sampler = benchmark.pedantic(BalancedIndexSampler, args=(labels,), rounds=rounds_for(n), iterations=1)
    record(benchmark, "fast_balance", "setup", n, c, setup_s=benchmark.stats.stats.min,
           samples_per_epoch=sampler.samples_per_epoch)
    if (n, c) == (10**6, 10_000):
        benchmark.extra_info.update(target_s=SETUP_TARGET_S, met=benchmark.stats.stats.min < SETUP_TARGET_S)


@pytest.mark.parametrize(("n", "c"), GRID)
def test_setup_numpy(benchmark, labels_for, n, c):
    labels = labels_for(n, c)
    benchmark.group = f"setup N={size_name(n)} C={c}"
    benchmark.pedantic(baselines.NumpyBalancedSampler, args=(labels,), rounds=rounds_for(n), iterations=1)
    record(benchmark, "numpy", "setup", n, c, setup_s=benchmark.stats.stats.min)


@pytest.mark.parametrize(("n", "c"), GRID)
def test_setup_blog_example_1(benchmark, labels_for, blog_setups, n, c):
    """Run once (it is O(N * C)); where the estimate exceeds the limit, only the probe is timed."""
    labels = labels_for(n, c)
    benchmark.group = f"setup N={size_name(n)} C={c}"
    estimate = blog_setups.estimate(n, c)
    if blog_setups.feasible(n, c):
        class_indices = benchmark.pedantic(baselines.blog_class_indices, args=(labels,), rounds=1, iterations=1)
        blog_setups.store(n, c, class_indices)
        record(benchmark, "blog Example 1", "setup", n, c, setup_s=benchmark.stats.stats.min, estimated=False)
    else:
        probe = range(min(c, blog_setups.probe_classes))
        benchmark.pedantic(lambda: [np.where(labels == k)[0] for k in probe], rounds=1, iterations=1)
        record(benchmark, "blog Example 1", "setup", n, c, setup_s=estimate, estimated=True,
               probe_classes=len(probe))


# -- epochs -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [None, BATCH], ids=["unbatched", f"batch{BATCH}"])
@pytest.mark.parametrize(("n", "c"), GRID)
def test_epoch_fast_balance(benchmark, labels_for, n, c, batch_size):
    sampler = BalancedIndexSampler(labels_for(n, c), batch_size=batch_size)
    sampler.epoch(0)  # allocates the workspace that later epochs reuse
    epochs = itertools.count(1)
    benchmark.group = f"epoch N={size_name(n)} C={c}"
    benchmark.pedantic(sampler.epoch, setup=lambda: ((next(epochs),), {}), rounds=fast_rounds_for(n), iterations=1)
    kind = "epoch" if batch_size is None else f"epoch batch {BATCH}"
    size = sampler.samples_per_epoch
    record(benchmark, "fast_balance", kind, n, c, samples_per_epoch=size, indices_per_s=rate(benchmark, size))


@pytest.mark.parametrize(("n", "c"), GRID)
def test_epoch_fast_balance_into_reused_buffers(benchmark, labels_for, n, c):
    """As a training loop would call it: each epoch written over the previous one's arrays."""
    sampler = BalancedIndexSampler(labels_for(n, c))
    buffers = sampler.epoch(0)
    epochs = itertools.count(1)
    benchmark.group = f"epoch N={size_name(n)} C={c}"
    benchmark.pedantic(lambda e: sampler.epoch(e, out=buffers), setup=lambda: ((next(epochs),), {}),
                       rounds=fast_rounds_for(n), iterations=1)
    size = sampler.samples_per_epoch
    record(benchmark, "fast_balance", "epoch into reused buffers", n, c, samples_per_epoch=size,
           indices_per_s=rate(benchmark, size))


@pytest.mark.parametrize(("n", "c"), GRID)
def test_epoch_numpy(benchmark, labels_for, n, c):
    sampler = baselines.NumpyBalancedSampler(labels_for(n, c))
    epochs = itertools.count(1)
    benchmark.group = f"epoch N={size_name(n)} C={c}"
    benchmark.pedantic(sampler.epoch, setup=lambda: ((next(epochs),), {}), rounds=rounds_for(n), iterations=1)
    size = sampler.samples_per_epoch
    record(benchmark, "numpy", "epoch", n, c, samples_per_epoch=size, indices_per_s=rate(benchmark, size))


@pytest.mark.parametrize(("n", "c"), GRID)
def test_epoch_blog_example_1(benchmark, blog_setups, n, c):
    class_indices = blog_setups.class_indices(n, c)
    if class_indices is None:
        pytest.skip(f"set-up estimated at {blog_setups.estimate(n, c):.0f} s > {blog_setups.limit_s:.0f} s")
    stream = baselines.blog_example_1_indices(class_indices, BATCH)

    def draw():
        return np.fromiter(itertools.islice(stream, BLOG_DRAWS), dtype=np.int64, count=BLOG_DRAWS)

    benchmark.group = f"epoch N={size_name(n)} C={c}"
    benchmark.pedantic(draw, rounds=3, iterations=1)
    record(benchmark, "blog Example 1", "epoch", n, c, samples_per_epoch=BLOG_DRAWS,
           indices_per_s=rate(benchmark, BLOG_DRAWS), per_class_per_batch=max(1, BATCH // c))


@pytest.mark.parametrize("c", TF_CLASSES)
def test_epoch_tf_sample_from_datasets(benchmark, labels_for, c):
    pytest.importorskip("tensorflow")  # imported before the clock starts
    n = 10**6
    labels = labels_for(n, c)
    start = time.perf_counter()
    iterator = baselines.tf_sample_from_datasets(labels).batch(1024).as_numpy_iterator()
    next(iterator)
    build_s = time.perf_counter() - start

    def draw():
        for _ in range(TF_BATCHES):
            next(iterator)

    benchmark.group = f"epoch N={size_name(n)} C={c}"
    benchmark.pedantic(draw, rounds=3, iterations=1)
    draws = TF_BATCHES * 1024
    record(benchmark, "tf sample_from_datasets", "epoch", n, c, samples_per_epoch=draws,
           indices_per_s=rate(benchmark, draws), build_s=build_s)


# -- memory ---------------------------------------------------------------------------------------------

_MEMORY_SCRIPT = """
import gc, json, sys, tracemalloc
sys.path.insert(0, {benchmarks!r})
from sampler_baselines import labels_for
from peak_memory import measure as peak_of
from fast_balance import BalancedIndexSampler

sampler = BalancedIndexSampler(labels_for({n}, {c}), batch_size={batch_size})
gc.collect()
epoch, first_peak, first_held, resettable = peak_of(lambda: sampler.epoch(0))
del epoch
epoch, later_peak, _, _ = peak_of(lambda: sampler.epoch(1))
del epoch
tracemalloc.start()
epoch = sampler.epoch(2)
traced_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps(dict(samples_per_epoch=sampler.samples_per_epoch, rss_first_peak=first_peak,
                      rss_first_held=first_held, rss_later_peak=later_peak, traced_peak=traced_peak,
                      peak_reset=resettable)))
"""


@pytest.mark.parametrize("batch_size", [None, BATCH], ids=["unbatched", f"batch{BATCH}"])
@pytest.mark.parametrize(("n", "c"), GRID)
def test_epoch_peak_memory(benchmark, n, c, batch_size):
    """Peak resident memory of ``epoch()`` above what the process held just before, per sample.

    Measured in a fresh process (``subprocess.run([sys.executable, "-c", ...])``) from the
    resident set: the peak (``VmHWM``, reset through ``/proc/self/clear_refs``; ``ru_maxrss``
    where that is not allowed) minus the resident size before the call. This is the honest
    figure because it sees everything: the returned NumPy arrays and the C++ workspace, which
    ``tracemalloc`` cannot see (it only hears of Python's and NumPy's allocations). The first
    epoch allocates the workspace, which the sampler keeps for later epochs, so it is the one
    compared with the target; later epochs are recorded too (epoch 1 after epoch 0's arrays
    were dropped: their memory serves it, so little is new). ``tracemalloc``'s peak is recorded
    as a cross-check of what Python and NumPy allocate: about nothing, as the output arrays
    come from the sampler's own memory.

    ``bytes_per_sample`` includes the output (int64 + int32 + int32 = 16 bytes per sample);
    ``extra_bytes_per_sample`` is what is left beyond it, which the issue wants <= 16.
    """
    script = _MEMORY_SCRIPT.format(benchmarks=BENCHMARKS, n=n, c=c, batch_size=batch_size)
    measured = {}

    def run():
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        measured.update(json.loads(done.stdout.splitlines()[-1]))

    benchmark.group = "memory of one epoch()"
    benchmark.pedantic(run, rounds=1, iterations=1)
    size = measured["samples_per_epoch"]
    per_sample = measured["rss_first_peak"] / size
    kind = "memory" if batch_size is None else f"memory batch {BATCH}"
    record(benchmark, "fast_balance", kind, n, c, samples_per_epoch=size,
           bytes_per_sample=per_sample,
           extra_bytes_per_sample=per_sample - OUTPUT_BYTES,
           later_epoch_bytes_per_sample=measured["rss_later_peak"] / size,
           held_after_bytes_per_sample=measured["rss_first_held"] / size,
           traced_bytes_per_sample=measured["traced_peak"] / size,
           peak_reset=measured["peak_reset"],
           target_extra_bytes_per_sample=MEMORY_TARGET,
           met=per_sample - OUTPUT_BYTES <= MEMORY_TARGET)
