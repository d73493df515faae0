"""Checks of the digits training benchmark's set-up: the split, and that every method's input
pipeline yields the same format, so the comparison differs only in sampling and augmentation.

    python -m pytest benchmarks/test_digits_training.py
"""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("sklearn")

import digits_training as digits  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return digits.prepare(str(tmp_path_factory.mktemp("digits")))


def test_split_is_long_tailed_for_training_and_balanced_for_testing(data):
    train = np.bincount(data.train_labels, minlength=digits.NUM_CLASSES)
    assert train.tolist() == data.train_counts
    assert train.max() / train.min() >= 20
    assert np.bincount(data.test_labels).tolist() == [digits.TEST_PER_CLASS] * digits.NUM_CLASSES


@pytest.mark.parametrize("method", digits.METHODS, ids=lambda m: m.name)
def test_every_pipeline_yields_the_same_format(data, method):
    images, labels = next(iter(method.pipeline(data, 0)))
    assert images.dtype == tf.float32 and images.shape == (digits.BATCH, *digits.IMAGE_SIZE, 3)
    assert labels.dtype == tf.int32
    # [0, 255] everywhere, as the model's Rescaling(1/255) expects (not [0, 1] from some).
    assert float(tf.reduce_min(images)) >= 0.0 and 200.0 < float(tf.reduce_max(images)) <= 255.0


def test_balanced_pipelines_are_balanced_and_plain_is_not(data):
    def counts(method_name, batches=38):  # one balanced epoch: 10 x 120 samples
        method = next(m for m in digits.METHODS if m.name == method_name)
        labels = [y.numpy() for _, y in method.pipeline(data, 0).take(batches)]
        return np.bincount(np.concatenate(labels), minlength=digits.NUM_CLASSES)

    balanced = counts("balanced")
    assert balanced.max() - balanced.min() <= 2
    plain = counts("plain")
    assert plain.max() / max(plain.min(), 1) > 5
