"""Index samplers side by side: indices/s, set-up time and peak memory.

Long-tailed labels (imbalance 100), N = 1e6 and 1e7 samples, C = 10, 1,000 and 100,000 classes;
a balanced epoch ("max": every class drawn as often as the largest). All in one run, so the
ratios are comparable on a shared machine:

    python -m pytest benchmarks/test_sampler_speed.py --benchmark-only --benchmark-json=benchmarks/sampler.json
    python benchmarks/report.py benchmarks/sampler.json
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time

import numpy as np
import pytest

import sampler_baselines as baselines
from fast_balance import BalancedIndexSampler

SIZES = [10**6, 10**7]
CLASSES = [10, 1000, 100_000]
BLOG_DRAWS = 200_000  # the pure-Python iterator is timed on a fixed number of draws
TF_DRAWS = 20 * 1024


def record(benchmark, name, kind, n, c, **values):
    benchmark.extra_info.update(name=name, kind=kind, N=n, C=c, **values)


@pytest.mark.parametrize("batch_size", [None, 64], ids=["unbatched", "batch64"])
@pytest.mark.parametrize("c", CLASSES)
@pytest.mark.parametrize("n", SIZES)
def test_fast_balance_epoch(benchmark, labels_for, n, c, batch_size):
    sampler = BalancedIndexSampler(labels_for(n, c), batch_size=batch_size, seed=0)
    epochs = itertools.count()
    sampler.epoch(next(epochs))  # warm the reused workspace, as in training
    benchmark.group = f"epoch N={n:.0e} C={c}"
    benchmark.pedantic(lambda: sampler.epoch(next(epochs)), rounds=3, iterations=1)
    kind = "epoch" if batch_size is None else "epoch, batches of 64"
    record(benchmark, "fast_balance", kind, n, c, samples=sampler.samples_per_epoch,
           indices_per_s=sampler.samples_per_epoch / benchmark.stats.stats.min)


@pytest.mark.parametrize("c", CLASSES)
@pytest.mark.parametrize("n", SIZES)
def test_numpy_epoch(benchmark, labels_for, n, c):
    labels = labels_for(n, c)
    members = baselines.class_members(labels, c)
    quota = max(m.size for m in members)
    rng = np.random.default_rng(0)
    benchmark.group = f"epoch N={n:.0e} C={c}"
    benchmark.pedantic(lambda: baselines.numpy_balanced_epoch(members, quota, rng), rounds=2, iterations=1)
    record(benchmark, "NumPy", "epoch", n, c, samples=quota * c,
           indices_per_s=quota * c / benchmark.stats.stats.min)


@pytest.mark.parametrize("c", CLASSES)
@pytest.mark.parametrize("n", SIZES)
def test_blog_example_1_iterator(benchmark, labels_for, n, c):
    labels = labels_for(n, c)
    # Grouped with a sort here; the post's own np.where set-up is timed in test_setup.
    class_indices = dict(enumerate(baselines.class_members(labels, c)))

    def draw():
        stream = baselines.blog_index_stream(class_indices, 64)
        for _ in itertools.islice(stream, BLOG_DRAWS):
            pass

    benchmark.group = f"epoch N={n:.0e} C={c}"
    benchmark.pedantic(draw, rounds=2, iterations=1)
    record(benchmark, "blog Example 1", "epoch", n, c, samples=BLOG_DRAWS,
           indices_per_s=BLOG_DRAWS / benchmark.stats.stats.min)


@pytest.mark.parametrize("c", [10, 1000])
def test_sample_from_datasets(benchmark, labels_for, c):
    n = 10**6
    members = baselines.class_members(labels_for(n, c), c)
    build = {}

    def setup():
        start = time.perf_counter()
        iterator = iter(baselines.sample_from_datasets_stream(members).batch(1024).prefetch(2))
        next(iterator)
        build["s"] = time.perf_counter() - start
        return (iterator,), {}

    def draw(iterator):
        for _ in range(TF_DRAWS // 1024):
            next(iterator)

    benchmark.group = f"epoch N={n:.0e} C={c}"
    benchmark.pedantic(draw, setup=setup, rounds=1, iterations=1)
    record(benchmark, "tf sample_from_datasets", "epoch", n, c, samples=TF_DRAWS,
           indices_per_s=TF_DRAWS / benchmark.stats.stats.min, setup_s=build["s"])


@pytest.mark.parametrize(("n", "c"), [(n, c) for n in SIZES for c in CLASSES] + [(10**6, 10_000)])
def test_setup(benchmark, labels_for, n, c):
    labels = labels_for(n, c)
    benchmark.group = "setup"
    benchmark.pedantic(lambda: BalancedIndexSampler(labels, batch_size=64, seed=0), rounds=3, iterations=1)
    extra = {}
    if n == 10**6 and c <= 10_000:  # the post's np.where per class is O(N * C)
        start = time.perf_counter()
        baselines.blog_class_indices(labels, c)
        extra["blog_setup_s"] = time.perf_counter() - start
    record(benchmark, "fast_balance", "setup", n, c, setup_s=benchmark.stats.stats.min, **extra)


_MEMORY_SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, {benchmarks!r})
from conftest import long_tailed
from fast_balance import BalancedIndexSampler

def rss(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field))

labels = long_tailed({n}, {c})
sampler = BalancedIndexSampler(labels, batch_size={batch}, seed=0)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak resident set size to the current one
before = rss("VmRSS:")
epoch = sampler.epoch(0)
peak = rss("VmHWM:")
print(json.dumps({{"samples": sampler.samples_per_epoch, "peak_extra": peak - before}}))
"""


@pytest.mark.parametrize("batch_size", [None, 64], ids=["unbatched", "batch64"])
@pytest.mark.parametrize("c", CLASSES)
def test_peak_memory(benchmark, c, batch_size):
    """Peak resident memory of the first ``epoch()`` call above what the process held before,
    measured in a fresh process (the C++ workspace is invisible to Python's allocators). It
    includes the returned arrays themselves: 16 bytes per sample (int64 + int32 + int32)."""
    n = 10**7
    script = _MEMORY_SCRIPT.format(benchmarks=str(__import__("pathlib").Path(__file__).parent), n=n, c=c,
                                   batch=batch_size)
    result = {}

    def run():
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
        result.update(json.loads(out))

    benchmark.group = "memory"
    benchmark.pedantic(run, rounds=1, iterations=1)
    per_sample = result["peak_extra"] / result["samples"]
    kind = "memory" if batch_size is None else "memory, batches of 64"
    record(benchmark, "fast_balance", kind, n, c, samples=result["samples"], bytes_per_sample=per_sample,
           extra_bytes_per_sample_beyond_output=per_sample - 16)
