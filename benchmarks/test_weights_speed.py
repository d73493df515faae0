"""Per-sample weights side by side: WeightedIndexSampler, BalancedIndexSampler(sample_weights=...)
and NumPy's ``Generator.choice(p=...)``: indices/s, set-up time and memory per sample.

    python -m pytest benchmarks/test_weights_speed.py --benchmark-only \
        --benchmark-json=benchmarks/weights.json -p no:cacheprovider
    python benchmarks/report.py --page docs/performance-weights.md benchmarks/weights.json

Weights: exponential (mean 1), 5% of them 0, drawn once per N from a fixed seed, so expected
counts run from 0 to about 15 per epoch of N samples. Every epoch has N samples (NumPy's choice
without replacement: N / 2, as it cannot draw more samples than have weight). Each figure is the
best round of a fresh epoch per round (epoch 0 first, untimed: it allocates what later epochs
reuse), in CPU time of the process and, as pytest-benchmark measures it, in wall-clock time. What
is timed:

- fast_balance: ``WeightedIndexSampler(weights, samples_per_epoch=N).epoch(e)``, without and with
  replacement.
- fast_balance, classes: ``BalancedIndexSampler(labels, sample_weights=weights,
  samples_per_epoch="n").epoch(e)`` over the long-tailed labels of the sampler benchmark, C = 1,000.
- NumPy: ``numpy.random.default_rng(e).choice(N, size, replace=..., p=weights / weights.sum())``,
  the probabilities computed once, outside the clock. Skipped where a probe says one round would
  take more than NUMPY_LIMIT_S.
- set-up: constructing each sampler (NumPy: normalising the weights to ``p``).
- memory: see `test_memory`.
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

from fast_balance import BalancedIndexSampler, WeightedIndexSampler

BENCHMARKS = str(pathlib.Path(__file__).resolve().parent)
SIZES = [10**6, 10**7, 10**8]
CLASSES = 1000
NUMPY_LIMIT_S = 120.0  # NumPy's choice is skipped where one round is estimated above this
OUTPUT_BYTES = {"weighted": 12, "balanced": 16}  # int64 index + int32 repeats (+ int32 label)
MEMORY_TARGET = 16  # bytes per sample beyond the output


def weights_for(n: int) -> np.ndarray:
    rng = np.random.default_rng(n)
    weights = rng.exponential(1.0, n)
    weights[rng.random(n) < 0.05] = 0.0
    return weights


_WEIGHTS: dict[int, np.ndarray] = {}


def cached_weights(n: int) -> np.ndarray:
    if n not in _WEIGHTS:
        _WEIGHTS.clear()  # 800 MB at N = 1e8: keep one size at a time
        _WEIGHTS[n] = weights_for(n)
    return _WEIGHTS[n]


def rounds_for(n: int) -> int:
    return {10**6: 10, 10**7: 5}.get(n, 3)


def size_name(n: int) -> str:
    return f"1e{len(str(n)) - 1}"


def record(benchmark, name: str, kind: str, n: int, **metrics) -> None:
    benchmark.extra_info.update(name=name, kind=kind, N=n, **metrics)


def best(benchmark) -> float:
    return benchmark.stats.stats.min


def mode(replacement: bool) -> str:
    return "with replacement" if replacement else "without replacement"


# -- set-up ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("replacement", [False, True], ids=["without", "with"])
@pytest.mark.parametrize("n", SIZES, ids=size_name)
def test_setup_weighted(benchmark, n, replacement):
    weights = cached_weights(n)
    benchmark.group = f"weights setup N={size_name(n)}"
    benchmark.pedantic(lambda: WeightedIndexSampler(weights, samples_per_epoch=n, replacement=replacement),
                       rounds=2 if n >= 10**8 else 5, iterations=1)
    record(benchmark, "fast_balance", f"setup {mode(replacement)}", n, seconds=best(benchmark))


@pytest.mark.parametrize("n", SIZES, ids=size_name)
def test_setup_balanced_weighted(benchmark, labels_for, n):
    labels = labels_for(n, CLASSES)
    weights = cached_weights(labels.size)
    benchmark.group = f"weights setup N={size_name(n)}"
    benchmark.pedantic(lambda: BalancedIndexSampler(labels, sample_weights=weights, samples_per_epoch="n"),
                       rounds=2 if n >= 10**8 else 5, iterations=1)
    record(benchmark, "fast_balance, classes", "setup without replacement", n, seconds=best(benchmark))


@pytest.mark.parametrize("n", SIZES, ids=size_name)
def test_setup_numpy(benchmark, n):
    weights = cached_weights(n)
    benchmark.group = f"weights setup N={size_name(n)}"
    benchmark.pedantic(lambda: weights / weights.sum(), rounds=3, iterations=1)
    record(benchmark, "numpy", "setup", n, seconds=best(benchmark))


# -- epochs ---------------------------------------------------------------------------------------

class CpuClock:
    """Wraps a function to keep the best process CPU time of its calls, beside pytest-benchmark's wall
    clock: on this shared machine a busy neighbour stretches wall time, not the CPU time of the work."""

    def __init__(self, function) -> None:
        self.function = function
        self.best = float("inf")

    def __call__(self, *args):
        start = time.process_time()
        result = self.function(*args)
        self.best = min(self.best, time.process_time() - start)
        return result


def time_epochs(benchmark, sampler, n: int) -> float:
    """Times fresh epochs; returns the best CPU time."""
    sampler.epoch(0)  # allocates what later epochs reuse
    epochs = itertools.count(1)
    clock = CpuClock(sampler.epoch)
    benchmark.pedantic(clock, setup=lambda: ((next(epochs),), {}), rounds=rounds_for(n), iterations=1)
    return clock.best


@pytest.mark.parametrize("replacement", [False, True], ids=["without", "with"])
@pytest.mark.parametrize("n", SIZES, ids=size_name)
def test_epoch_weighted(benchmark, n, replacement):
    sampler = WeightedIndexSampler(cached_weights(n), samples_per_epoch=n, replacement=replacement, seed=1)
    benchmark.group = f"weights epoch N={size_name(n)}"
    cpu = time_epochs(benchmark, sampler, n)
    record(benchmark, "fast_balance", f"epoch {mode(replacement)}", n, samples=n, indices_per_s=n / best(benchmark),
           cpu_indices_per_s=n / cpu)


@pytest.mark.parametrize("replacement", [False, True], ids=["without", "with"])
@pytest.mark.parametrize("n", SIZES, ids=size_name)
def test_epoch_balanced_weighted(benchmark, labels_for, n, replacement):
    labels = labels_for(n, CLASSES)  # about n: the long-tailed counts are rounded
    sampler = BalancedIndexSampler(labels, sample_weights=cached_weights(labels.size), samples_per_epoch="n",
                                   replacement=replacement, seed=1)
    benchmark.group = f"weights epoch N={size_name(n)}"
    cpu = time_epochs(benchmark, sampler, n)
    size = sampler.samples_per_epoch
    record(benchmark, "fast_balance, classes", f"epoch {mode(replacement)}", n, samples=size,
           indices_per_s=size / best(benchmark), cpu_indices_per_s=size / cpu)


@pytest.mark.parametrize("replace", [False, True], ids=["without", "with"])
@pytest.mark.parametrize("n", SIZES, ids=size_name)
def test_epoch_numpy_choice(benchmark, n, replace):
    weights = cached_weights(n)
    p = weights / weights.sum()
    size = n if replace else n // 2
    # A probe of 1/100 of the work, scaled, decides whether a whole round is run.
    probe = max(size // 100, 1)
    start = time.perf_counter()
    np.random.default_rng(0).choice(n, probe, replace=replace, p=p)
    estimate = (time.perf_counter() - start) * size / probe
    benchmark.group = f"weights epoch N={size_name(n)}"
    if estimate > NUMPY_LIMIT_S:
        benchmark.pedantic(lambda: None, rounds=1, iterations=1)
        record(benchmark, "numpy", f"epoch {mode(replace)}", n, samples=size, indices_per_s=None,
               cpu_indices_per_s=None, estimated_s=estimate)
        return
    seeds = itertools.count(1)
    clock = CpuClock(lambda seed: np.random.default_rng(seed).choice(n, size, replace=replace, p=p))
    benchmark.pedantic(clock, setup=lambda: ((next(seeds),), {}), rounds=1 if estimate > 10 else 3, iterations=1)
    record(benchmark, "numpy", f"epoch {mode(replace)}", n, samples=size, indices_per_s=size / best(benchmark),
           cpu_indices_per_s=size / clock.best)


# -- memory ---------------------------------------------------------------------------------------

_MEMORY_SCRIPT = """
import gc, json, sys
sys.path.insert(0, {benchmarks!r})
from test_weights_speed import weights_for, CLASSES
from sampler_baselines import labels_for
from peak_memory import measure
from fast_balance import BalancedIndexSampler, WeightedIndexSampler

def peak_of(action):
    result, peak, held, _ = measure(action)
    return result, peak, held

labels = labels_for({n}, CLASSES) if {balanced} else None
n = labels.size if {balanced} else {n}
weights = weights_for(n)
gc.collect()
if {balanced}:
    sampler, build_peak, held = peak_of(lambda: BalancedIndexSampler(labels, sample_weights=weights,
                                                                     samples_per_epoch="n", replacement={replacement}))
else:
    sampler, build_peak, held = peak_of(lambda: WeightedIndexSampler(weights, samples_per_epoch=n,
                                                                     replacement={replacement}))
gc.collect()
epoch, first_peak, _ = peak_of(lambda: sampler.epoch(0))
del epoch
epoch, later_peak, _ = peak_of(lambda: sampler.epoch(1))
print(json.dumps(dict(samples=sampler.samples_per_epoch, build_peak=build_peak, held=held, first_peak=first_peak,
                      later_peak=later_peak)))
"""


@pytest.mark.parametrize("replacement", [False, True], ids=["without", "with"])
@pytest.mark.parametrize(("n", "balanced"), [(10**6, False), (10**7, False), (10**8, False), (10**7, True)],
                         ids=["1e6", "1e7", "1e8", "1e7-classes"])
def test_memory(benchmark, n, balanced, replacement):
    """Peak resident memory in a fresh process, from ``/proc/self/status`` (``VmHWM``, reset
    through ``/proc/self/clear_refs``), above what the process held just before: of building the
    sampler (the plan it keeps: ``held``), and of its first and second epochs. The first epoch's
    peak includes the returned arrays (12 bytes per sample, 16 with labels) and the workspace the
    sampler keeps for later epochs; ``extra`` is what is left beyond the output."""
    script = _MEMORY_SCRIPT.format(benchmarks=BENCHMARKS, n=n, balanced=balanced, replacement=replacement)
    measured = {}

    def run():
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        measured.update(json.loads(done.stdout.splitlines()[-1]))

    benchmark.group = "weights memory"
    benchmark.pedantic(run, rounds=1, iterations=1)
    size = measured["samples"]
    output = OUTPUT_BYTES["balanced" if balanced else "weighted"]
    extra = measured["first_peak"] / size - output
    record(benchmark, "fast_balance, classes" if balanced else "fast_balance", f"memory {mode(replacement)}", n,
           samples=size, plan_bytes_per_sample=measured["held"] / size,
           build_peak_bytes_per_sample=measured["build_peak"] / size,
           epoch_bytes_per_sample=measured["first_peak"] / size, extra_bytes_per_sample=extra,
           later_epoch_bytes_per_sample=measured["later_peak"] / size, output_bytes_per_sample=output,
           target_extra_bytes_per_sample=MEMORY_TARGET, met=extra <= MEMORY_TARGET)
