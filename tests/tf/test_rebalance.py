"""fast_balance.tf.rebalance over TFRecord shards, as a training pipeline reads them."""

from __future__ import annotations

import gc
import importlib
import weakref
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from fast_balance import StreamRebalancer
from fast_balance.tf import rebalance

# The module, not the function of the same name that fast_balance.tf exports.
rebalance_module = importlib.import_module("fast_balance.tf.rebalance")

FEATURES = {"jpeg": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.int64),
            "index": tf.io.FixedLenFeature([], tf.int64)}


def parse(record):
    example = tf.io.parse_single_example(record, FEATURES)
    return example["jpeg"], example["label"], example["index"]


@pytest.fixture(scope="module")
def shards(tmp_path_factory, image_folder):
    """Three TFRecord shards of the image folder (24, 8 and 4 JPEGs), in shuffled order."""
    _, paths, labels = image_folder
    order = np.random.default_rng(0).permutation(len(paths))
    folder = tmp_path_factory.mktemp("tfrecords")
    files = [str(folder / f"shard-{k}.tfrecord") for k in range(3)]
    writers = [tf.io.TFRecordWriter(f) for f in files]
    for position, i in enumerate(order):
        feature = {
            "jpeg": tf.train.Feature(bytes_list=tf.train.BytesList(value=[Path(paths[i]).read_bytes()])),
            "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(labels[i])])),
            "index": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(i)])),
        }
        writers[position % 3].write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    for writer in writers:
        writer.close()
    return files, labels


def records(files):
    return tf.data.TFRecordDataset(files).map(parse)


def test_tfrecord_stream_is_balanced_reads_each_record_once_and_decodes(shards):
    files, labels = shards
    balanced = rebalance(records(files), lambda jpeg, label, index: label, 3, capacity_per_class=8, seed=2)
    images = balanced.map(lambda element, repeats: (tf.image.resize(tf.io.decode_jpeg(element[0], channels=3),
                                                                    (16, 16)), element[1], element[2], repeats))
    got = [(y.numpy(), i.numpy(), r.numpy()) for x, y, i, r in images.batch(12)]
    out_labels, indices, repeats = (np.concatenate(column) for column in zip(*got))
    counts = np.bincount(out_labels, minlength=3)
    assert counts.max() / counts.min() <= 1.1  # short stream: the end shows; long streams are tighter
    assert set(indices.tolist()) == set(range(labels.size))  # every record read is emitted
    assert np.array_equal(labels[indices], out_labels)  # elements stay whole through serialization
    report = balanced.report
    assert report.passes_finished == 1 and report.read == 36 and report.fresh == 36
    assert report.reads_per_emitted <= 1.0 and report.emitted == out_labels.size
    assert np.sum(repeats == 0) == 36 and report.replays == np.sum(repeats > 0)


def test_same_seed_same_stream_and_each_pass_reseeds(shards):
    files, _ = shards

    def indices(dataset):
        return [(e[2].numpy(), r.numpy()) for e, r in dataset]

    a = rebalance(records(files), lambda *e: e[1], 3, capacity_per_class=4, seed=9)
    b = rebalance(records(files), lambda *e: e[1], 3, capacity_per_class=4, seed=9)
    first = indices(a)
    assert first == indices(b)
    assert indices(a) != first  # the second pass draws its replays with (seed, 1)
    assert a.report.passes_finished == 2


def test_a_pass_stopped_early_releases_its_state(shards, monkeypatch):
    alive = weakref.WeakSet()  # every StreamRebalancer the passes open, while it lives

    class Tracked(StreamRebalancer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            alive.add(self)

    monkeypatch.setattr(rebalance_module, "StreamRebalancer", Tracked)
    files, _ = shards
    balanced = rebalance(records(files), lambda *e: e[1], 3, capacity_per_class=4, seed=1)
    for _ in range(3):
        assert len(list(balanced.take(3))) == 3  # passes stopped after 3 elements
    gc.collect()
    assert len(alive) == 0
    running = iter(balanced)
    next(running)
    assert len(alive) == 1  # the running pass holds its state...
    del running
    gc.collect()
    assert len(alive) == 0  # ...until its iterator goes
    assert sum(1 for _ in balanced) == balanced.report.emitted and balanced.report.passes_finished == 1
    gc.collect()
    assert len(alive) == 0


def test_any_element_structure_survives(shards):
    values = tf.data.Dataset.from_tensor_slices(
        {"x": np.arange(40, dtype=np.float32).reshape(20, 2), "name": [f"n{i}" for i in range(20)],
         "y": np.arange(20) % 2}
    )
    out = list(rebalance(values, lambda e: e["y"], 2, capacity_per_class=4))
    for element, _ in out:
        k = int(element["x"][0].numpy()) // 2
        assert element["name"].numpy() == f"n{k}".encode() and int(element["y"]) == k % 2
        assert element["x"].shape == (2,) and element["x"].dtype == tf.float32


def test_bad_label_raises_with_position_or_is_skipped():
    values = tf.data.Dataset.from_tensor_slices(np.array([0, 1, 0, 5, 1], dtype=np.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="label 5 of the record at stream position 3"):
        list(rebalance(values, lambda y: y, 2))
    skipping = rebalance(values, lambda y: y, 2, on_error="skip")
    assert sorted({int(e) for e, _ in skipping}) == [0, 1] and skipping.report.skipped == 1


def test_bad_arguments_fail_at_once():
    values = tf.data.Dataset.range(3)
    with pytest.raises(ValueError, match="needs the class counts"):
        rebalance(values, lambda y: y, 3, target="instance")
    with pytest.raises(ValueError, match="chunk_size"):
        rebalance(values, lambda y: y, 3, chunk_size=0)
    with pytest.raises(ValueError, match="capacity_per_class"):
        rebalance(values, lambda y: y, 3, capacity_per_class=0)
