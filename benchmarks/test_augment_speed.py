"""Augmentation side by side: what users write without fast_balance, and fast_balance's default policy.

Data: the generated long-tailed JPEG set (10 classes, 1000 down to 20, 160-320 px), batch 64,
128x128. The baselines (`augment_baselines`) read the files unbalanced and augment every image with
the crop, flip and colour work of fast_balance's default policy, one with Keras preprocessing layers,
one with per-image tf.image ops; fast_balance runs its default policy (the augmentation ops of
`augment_batch`, on the oversampled repeats only) and, for the cost of the ops themselves, the same
on every image, each with and without the decode bank.

The development machine is shared, and its load drifts over minutes: timed one after the other,
the last contenders would meet a different machine than the first. So the contenders take turns:
a round times each of them once (80 batches from a fresh iterator, after a warm-up batch that is
not timed, and nothing else running in the process), starting with a different one each round;
each figure is a contender's best of the ROUNDS rounds, and the median is kept too. One run:

    python -m pytest benchmarks/test_augment_speed.py --benchmark-only --benchmark-json=benchmarks/augment.json \
        -p no:cacheprovider
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import augment_baselines as baselines  # noqa: E402
from test_pipeline_speed import BATCH, BATCHES, SIZE  # noqa: E402

from fast_balance.tf import balanced_dataset  # noqa: E402

GROUP = "augmentation (10 classes 1000..20, batch 64, 128x128, crop + flip + colour)"
ROUNDS = 8


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def contenders(paths, labels) -> list[dict]:
    """Name, share of images augmented and a maker of a fresh dataset for every pipeline, in table order."""
    rows = [
        {"name": "plain tf.data, no augmentation", "augmented_share": 0.0,
         "make": lambda: baselines.plain_pipeline(paths, labels, SIZE, BATCH)},
        {"name": "plain tf.data + Keras preprocessing layers", "augmented_share": 1.0,
         "make": lambda: baselines.keras_layers_pipeline(paths, labels, SIZE, BATCH)},
        {"name": "plain tf.data + per-image tf.image", "augmented_share": 1.0,
         "make": lambda: baselines.tf_image_pipeline(paths, labels, SIZE, BATCH)},
    ]
    for augment in ("repeats", "all"):
        for bank in (False, True):
            # Built once: the decode bank is filled here, before any timing.
            ds = balanced_dataset(paths, labels, image_size=SIZE, batch_size=BATCH, augment=augment,
                                  decode_cache="auto" if bank else 0, progress=False)
            policy = "default policy (repeats)" if augment == "repeats" else "every image"
            share = float(np.mean(ds.sampler.epoch(0).repeats >= 1)) if augment == "repeats" else 1.0
            rows.append({"name": f"fast_balance, {policy}, {'decode bank' if bank else 'no bank'}",
                         "augmented_share": share, "make": ds.repeat, "dataset": ds})
    return rows


def time_one(make) -> tuple[float, np.ndarray]:
    """Seconds for BATCHES batches of a fresh iterator after a warm-up batch, and their labels."""
    iterator = iter(make())
    next(iterator)  # graph tracing and the first prefetch, not timed
    labels = []
    start = time.perf_counter()
    for _ in range(BATCHES):
        labels.append(next(iterator)[1])
    seconds = time.perf_counter() - start
    del iterator  # its prefetching threads stop before the next contender is timed
    return seconds, np.concatenate([y.numpy() for y in labels])


def test_augmentation_side_by_side(benchmark, image_set):
    paths, labels = image_set
    rows = contenders(paths, labels)
    times: list[list[float]] = [[] for _ in rows]
    seen: list[np.ndarray] = [np.empty(0) for _ in rows]
    loads: list[float] = []

    def one_round():
        turn = len(loads)
        loads.append(load_average())
        for k in range(len(rows)):
            which = (turn + k) % len(rows)  # a different contender first every round
            seconds, batch_labels = time_one(rows[which]["make"])
            times[which].append(seconds)
            seen[which] = batch_labels

    benchmark.group = GROUP
    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1)
    loads.append(load_average())
    images = BATCHES * BATCH
    results = []
    for row, spent, got in zip(rows, times, seen):
        counts = np.bincount(got, minlength=10)
        result = {
            "name": row["name"],
            "augmented_share": row["augmented_share"],
            "images_per_s": images / min(spent),
            "median_images_per_s": images / float(np.median(spent)),
            "round_seconds": spent,
            "max_min_class_ratio": float(counts.max() / max(counts.min(), 1)),
        }
        if "dataset" in row:
            result.update(bank_images=row["dataset"].report.bank_images,
                          bank_hit_rate=row["dataset"].report.bank_hit_rate)
        results.append(result)
    benchmark.extra_info.update(contenders=results, rounds=ROUNDS, images_per_round=images,
                                load_average=[min(loads), max(loads)])
