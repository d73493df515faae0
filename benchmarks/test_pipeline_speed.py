"""Image pipelines side by side: images/s, balance, and reads per emitted image.

Data: the generated long-tailed JPEG set (10 classes, 1000 down to 20, 160-320 px), batch 64,
128x128, flip + brightness. Every pipeline is timed over the same number of batches after a
warm-up batch, in one run, so the ratios are comparable on a shared machine.

    python -m pytest benchmarks/test_pipeline_speed.py --benchmark-only --benchmark-json=benchmarks/pipeline.json
"""

from __future__ import annotations

import time

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import pipeline_baselines as baselines  # noqa: E402

from fast_balance.tf import balanced_dataset  # noqa: E402

SIZE = (128, 128)
BATCH = 64
BATCHES = 80  # 5,120 images per timed round
FLIP_BRIGHTNESS = {"crop": False, "contrast": 0.0, "saturation": 0.0}


GROUP = "image pipeline (10 classes 1000..20, batch 64, 128x128, flip+brightness)"


def measure(benchmark, make_dataset, name, group=GROUP, rounds=3):
    """Times BATCHES batches of a fresh iterator per round; records images/s (of the best round) and
    class balance."""
    seen = []

    def run(iterator):
        labels = []
        for _ in range(BATCHES):
            _, y = next(iterator)
            labels.append(y.numpy())
        seen.append(np.concatenate(labels))

    def setup():
        iterator = iter(make_dataset())
        next(iterator)  # warm-up: graph tracing and the first prefetch
        return (iterator,), {}

    benchmark.group = group
    benchmark.pedantic(run, setup=setup, rounds=rounds, iterations=1)
    images = sum(s.size for s in seen) / len(seen)
    counts = np.bincount(seen[-1], minlength=10)
    benchmark.extra_info.update(
        name=name,
        images_per_s=images / benchmark.stats.stats.min,
        max_min_class_ratio=float(counts.max() / max(counts.min(), 1)),
        class_counts=counts.tolist(),
    )


def test_fast_balance_with_decode_bank(benchmark, image_set):
    paths, labels = image_set
    ds = balanced_dataset(paths, labels, image_size=SIZE, batch_size=BATCH, augment="all",
                          augment_options=FLIP_BRIGHTNESS, progress=False)
    measure(benchmark, lambda: ds.repeat(), "fast_balance, decode bank")
    benchmark.extra_info.update(bank_images=ds.report.bank_images, bank_hit_rate=ds.report.bank_hit_rate)


def test_fast_balance_without_decode_bank(benchmark, image_set):
    paths, labels = image_set
    ds = balanced_dataset(paths, labels, image_size=SIZE, batch_size=BATCH, augment="all",
                          augment_options=FLIP_BRIGHTNESS, decode_cache=0, progress=False)
    measure(benchmark, lambda: ds.repeat(), "fast_balance, no bank")


def test_plain_unbalanced_pipeline(benchmark, image_set):
    paths, labels = image_set
    measure(benchmark, lambda: baselines.plain_pipeline(paths, labels, SIZE, BATCH), "plain tf.data (unbalanced)")


def test_sample_from_datasets(benchmark, image_set):
    paths, labels = image_set
    start = time.perf_counter()
    ds = baselines.sample_from_datasets_pipeline(paths, labels, SIZE, BATCH)
    build = time.perf_counter() - start
    measure(benchmark, lambda: ds, "tf sample_from_datasets")
    benchmark.extra_info["build_s"] = build


def test_rejection_resample(benchmark, image_set):
    paths, labels = image_set
    measure(benchmark, lambda: baselines.rejection_resample_pipeline(paths, labels, SIZE, BATCH),
            "tf rejection_resample")
    # Reads per emitted image, on a separate pass (prefetching reads a few batches ahead: +-5%).
    counter = baselines.ReadCounter()
    iterator = iter(baselines.rejection_resample_pipeline(paths, labels, SIZE, BATCH, counter=counter))
    for _ in range(BATCHES):
        next(iterator)
    benchmark.extra_info["reads_per_emitted"] = float(counter.count.numpy()) / (BATCHES * BATCH)


def test_blog_example_1_generator(benchmark, image_set):
    paths, labels = image_set
    measure(benchmark, lambda: baselines.blog_generator_pipeline(paths, labels, SIZE, BATCH),
            "blog Example 1 generator")
