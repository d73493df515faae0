"""fast_balance.torch against WeightedRandomSampler, alone and wrapped for DDP as catalyst does.

One run of each, side by side, at N = 1e6, 1e7, 1e8 samples in C = 10, 1,000, 100,000 long-tailed
classes (largest / smallest = 100):

    python -m pytest benchmarks/test_torch_speed.py --benchmark-only --benchmark-json=benchmarks/torch.json \
        -p no:cacheprovider
    python benchmarks/report_torch.py benchmarks/torch.json docs/performance-torch.md

Each sampler is asked for one epoch of N indices (fast_balance: ``samples_per_epoch="n"``, batches
of 64; WeightedRandomSampler: ``num_samples=N``, with replacement, weights 1 / n_c), consumed at C
speed (``collections.deque(iterator, maxlen=0)``), in this process; the distributed variants are
rank 0 of 8 (so a rank yields N / 8). A second, untimed pass gives the class counts. Needs about
8 GB of memory at N = 1e8.
"""

from __future__ import annotations

import collections
import os
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from peak_memory import peak_extra  # noqa: E402
from torch_baselines import DistributedSamplerWrapper, inverse_frequency_sampler  # noqa: E402

from fast_balance.torch import BalancedSampler  # noqa: E402

SIZES = (10**6, 10**7, 10**8)
CLASSES = (10, 1_000, 100_000)
REPLICAS = 8
BATCH = 64
KINDS = ("fast_balance", "fast_balance DDP", "WeightedRandomSampler", "WeightedRandomSampler + catalyst DDP")


def build(kind: str, labels: np.ndarray):
    if kind == "fast_balance":
        return BalancedSampler(labels, batch_size=BATCH, samples_per_epoch="n", seed=0)
    if kind == "fast_balance DDP":
        return BalancedSampler(labels, batch_size=BATCH, samples_per_epoch="n", seed=0, num_replicas=REPLICAS, rank=0)
    inner = inverse_frequency_sampler(labels)
    if kind == "WeightedRandomSampler":
        return inner
    return DistributedSamplerWrapper(inner, num_replicas=REPLICAS, rank=0)


def spreads(labels: np.ndarray, indices: np.ndarray, num_classes: int) -> dict:
    """Class counts of what was drawn: per batch of 64 (when every class fits in one), and per epoch."""
    drawn = labels[indices].astype(np.int64)
    present = np.bincount(labels, minlength=num_classes) > 0
    epoch_counts = np.bincount(drawn, minlength=num_classes)[present]
    result = {"epoch_max": int(epoch_counts.max()), "epoch_min": int(epoch_counts.min()),
              "classes_missing": int((epoch_counts == 0).sum())}
    if num_classes <= BATCH:
        batches = drawn.size // BATCH
        rows = np.repeat(np.arange(batches), BATCH)
        counts = np.bincount(rows * num_classes + drawn[: batches * BATCH], minlength=batches * num_classes)
        counts = counts.reshape(batches, num_classes)[:, present]
        with np.errstate(divide="ignore"):
            ratios = counts.max(axis=1) / counts.min(axis=1)
        result.update(batch_spread_median=float(np.median(ratios)), batch_spread_worst=float(ratios.max()),
                      batches_missing_a_class=int((counts.min(axis=1) == 0).sum()))
    return result


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_classes", CLASSES)
@pytest.mark.parametrize("total", SIZES)
def test_torch_sampler(benchmark, labels_for, total, num_classes, kind):
    benchmark.group = "torch samplers"
    labels = labels_for(total, num_classes)
    info = {"load_average": os.getloadavg()[0], "kind": kind, "N": int(labels.size), "N_nominal": total,
            "C": num_classes, "replicas": REPLICAS if "DDP" in kind else 1}
    start = time.perf_counter()
    sampler, info["setup_bytes"] = peak_extra(lambda: build(kind, labels))
    info["setup_s"] = time.perf_counter() - start
    outcome = {}

    def epoch():
        try:
            outcome["memory"] = peak_extra(lambda: collections.deque(iter(sampler), maxlen=0))[1]
        except RuntimeError as error:  # torch.multinomial: "number of categories cannot exceed 2^24"
            outcome["refused"] = str(error).splitlines()[0]

    benchmark.pedantic(epoch, rounds=1, iterations=1)
    if "refused" in outcome:
        info["refused"] = outcome["refused"]
    else:
        seconds = benchmark.stats.stats.min
        info.update(samples=len(sampler), epoch_s=seconds, indices_per_s=len(sampler) / seconds,
                    epoch_bytes=outcome["memory"])
        indices = np.fromiter(iter(sampler), dtype=np.int64, count=len(sampler))
        info.update(spreads(labels, indices, num_classes))
    benchmark.extra_info.update(info)
