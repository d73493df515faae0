"""Streaming rebalance against rejection_resample, on the same TFRecord shards.

Data: the generated long-tailed JPEG set (10 classes, 1000 down to 20: 50:1), written once as
8 shuffled TFRecord shards; batch 64, 128x128, flip + brightness for every pipeline. One run:

    python -m pytest benchmarks/test_stream_speed.py --benchmark-only --benchmark-json=benchmarks/stream.json
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import pipeline_baselines as baselines  # noqa: E402
from test_pipeline_speed import BATCH, SIZE, measure  # noqa: E402

from fast_balance.tf import rebalance  # noqa: E402
from fast_balance.tf.decode import decode_resized  # noqa: E402

FEATURES = {"jpeg": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.int64)}
NUM_CLASSES = 10
GROUP = "streaming (TFRecord shards, 10 classes 1000..20, batch 64, 128x128, flip+brightness)"


@pytest.fixture(scope="module")
def shards(image_set):
    paths, labels = image_set
    folder = os.path.join(tempfile.gettempdir(), "fast_balance_benchmark_tfrecords")
    files = [os.path.join(folder, f"shard-{k}-of-8.tfrecord") for k in range(8)]
    if not all(os.path.exists(f) for f in files):
        os.makedirs(folder, exist_ok=True)
        order = np.random.default_rng(0).permutation(len(paths))
        writers = [tf.io.TFRecordWriter(f) for f in files]
        for position, i in enumerate(order):
            with open(paths[i], "rb") as file:
                feature = {
                    "jpeg": tf.train.Feature(bytes_list=tf.train.BytesList(value=[file.read()])),
                    "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(labels[i])])),
                }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writers[position % 8].write(example.SerializeToString())
        for writer in writers:
            writer.close()
    return files, np.bincount(labels, minlength=NUM_CLASSES)


def records(files, counter=None):
    ds = tf.data.TFRecordDataset(files).map(
        lambda record: tuple(tf.io.parse_single_example(record, FEATURES).values()), tf.data.AUTOTUNE
    )
    return ds.map(counter) if counter is not None else ds


def decode(jpeg, label):
    """The same decoding as every image pipeline here (JPEG DCT scaling, resize)."""
    return tf.cast(decode_resized(jpeg, SIZE), tf.float32) / 255.0, tf.cast(label, tf.int32)


def finish(ds):
    ds = ds.map(decode, tf.data.AUTOTUNE).map(baselines.flip_brightness, tf.data.AUTOTUNE)
    return ds.batch(BATCH, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def test_fast_balance_rebalance(benchmark, shards):
    files, _ = shards
    balanced = rebalance(records(files), lambda jpeg, label: label, NUM_CLASSES, capacity_per_class=256, seed=0)
    measure(benchmark, lambda: finish(balanced.map(lambda element, repeats: element)).repeat(),
            "fast_balance rebalance", GROUP)
    # One whole pass for the counts (the timed rounds stop mid-pass).
    for _ in balanced:
        pass
    report = balanced.report
    benchmark.extra_info.update(reads_per_emitted=report.reads_per_emitted,
                                peak_held_mib=report.peak_held_bytes / 2**20,
                                dropped=report.unweighted + report.skipped, replaced=report.replaced)


def test_rejection_resample(benchmark, shards):
    files, counts = shards
    initial = (counts / counts.sum()).tolist()

    def pipeline(counter=None):
        ds = records(files, counter).repeat().rejection_resample(
            lambda jpeg, label: tf.cast(label, tf.int32), target_dist=[0.1] * NUM_CLASSES, initial_dist=initial, seed=0
        ).map(lambda label, element: element)
        return finish(ds)

    measure(benchmark, pipeline, "tf rejection_resample", GROUP)
    counter = baselines.ReadCounter()
    iterator = iter(pipeline(counter))
    for _ in range(40):
        next(iterator)
    benchmark.extra_info.update(reads_per_emitted=float(counter.count.numpy()) / (40 * BATCH), peak_held_mib=0.0)


def test_plain_unbalanced_tfrecords(benchmark, shards):
    files, _ = shards
    measure(benchmark, lambda: finish(records(files)).repeat(), "plain TFRecord pipeline (unbalanced)", GROUP)
    benchmark.extra_info.update(reads_per_emitted=1.0, peak_held_mib=0.0)

