"""Scale: C = 100,000 classes, N = 1e8 samples on one machine; and one shard of 64.

Build time, peak extra resident memory and indices/s, each in one run:

    python -m pytest benchmarks/test_scale.py --benchmark-only --benchmark-json=benchmarks/scale.json
    python benchmarks/report.py benchmarks/scale.json

Needs about 6 GB of memory (the labels, one epoch of 1e8 samples and its scratch space).
"""

from __future__ import annotations

import pytest
import sampler_baselines
from peak_memory import peak_extra

from fast_balance import BalancedIndexSampler

N = 10**8
C = 100_000


@pytest.fixture(scope="module")
def labels():
    return sampler_baselines.labels_for(N, C)


def _record(benchmark, kind, sampler, memory, samples):
    benchmark.extra_info.update(
        name="fast_balance", kind=kind, N=int(sampler.class_counts.sum()), C=C, samples=samples,
        seconds=benchmark.stats.stats.min, indices_per_s=samples / benchmark.stats.stats.min,
        peak_extra_bytes=memory, shards=sampler.num_shards,
    )


def test_build(benchmark, labels):
    benchmark.group = "scale"
    result = {}
    benchmark.pedantic(lambda: result.update(zip(("sampler", "memory"), peak_extra(
        lambda: BalancedIndexSampler(labels, batch_size=64, samples_per_epoch="n", seed=0)))), rounds=1, iterations=1)
    _record(benchmark, "build", result["sampler"], result["memory"], 0)


@pytest.mark.parametrize("batch_size", [None, 64], ids=["unbatched", "batch64"])
def test_whole_epoch(benchmark, labels, batch_size):
    sampler = BalancedIndexSampler(labels, batch_size=batch_size, samples_per_epoch="n", seed=0)
    result = {}
    benchmark.group = "scale"
    benchmark.pedantic(lambda: result.update(memory=peak_extra(lambda: sampler.epoch(0))[1]), rounds=1, iterations=1)
    _record(benchmark, "epoch" if batch_size is None else "epoch, batches of 64", sampler, result["memory"],
            sampler.samples_per_epoch)


@pytest.mark.parametrize("batch_size", [None, 64], ids=["unbatched", "batch64"])
def test_one_shard_of_64(benchmark, labels, batch_size):
    """What one of 64 workers pays per epoch: its shard is 1/64 of the output, but the epoch's
    arrangement (unbatched) or batch schedule (batched) is computed over the whole epoch."""
    sampler = BalancedIndexSampler(labels, batch_size=batch_size, samples_per_epoch="n", seed=0, num_shards=64,
                                   shard_index=5)
    result = {}
    benchmark.group = "scale"
    benchmark.pedantic(lambda: result.update(memory=peak_extra(lambda: sampler.epoch(0))[1]), rounds=1, iterations=1)
    kind = "shard 1/64" if batch_size is None else "shard 1/64, batches of 64"
    _record(benchmark, kind, sampler, result["memory"], len(sampler))
