"""The image pipelines fast_balance is compared with, written for the benchmark.

All of them decode with the same `load_image` (JPEG DCT scaling, resize to the target, uint8)
and apply flip + brightness, so they differ only in how they choose samples.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from sampler_baselines import blog_class_indices, blog_example_1_indices

from fast_balance.tf import load_image

AUTOTUNE = tf.data.AUTOTUNE


def _to_float(image):
    return tf.cast(image, tf.float32) / 255.0


def flip_brightness(image, label):
    """Per-image augmentation, as the usual pipelines write it."""
    image = tf.image.random_flip_left_right(image)
    image = tf.clip_by_value(tf.image.random_brightness(image, 0.2), 0.0, 1.0)
    return image, label


def _decode(size):
    return lambda path, label: (_to_float(load_image(path, size, check=False)), label)


def plain_pipeline(paths, labels, size, batch_size, seed=0) -> tf.data.Dataset:
    """Unbalanced: shuffle, decode, augment, batch. The speed a balanced pipeline should reach."""
    ds = tf.data.Dataset.from_tensor_slices((list(paths), labels.astype(np.int32)))
    ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.map(_decode(size), AUTOTUNE).map(flip_brightness, AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def sample_from_datasets_pipeline(paths, labels, size, batch_size, seed=0) -> tf.data.Dataset:
    """TensorFlow's own balancing: one dataset per class, drawn with equal weights."""
    paths = np.asarray(paths)
    classes = np.unique(labels)
    per_class = [
        tf.data.Dataset.from_tensor_slices((list(paths[labels == c]), np.full((labels == c).sum(), c, np.int32)))
        .shuffle(int((labels == c).sum()), seed=seed)
        .repeat()
        for c in classes
    ]
    ds = tf.data.Dataset.sample_from_datasets(per_class, weights=[1.0 / classes.size] * classes.size, seed=seed)
    ds = ds.map(_decode(size), AUTOTUNE).map(flip_brightness, AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


class ReadCounter:
    """Counts records read from the source, to measure what rejection_resample throws away."""

    def __init__(self) -> None:
        self.count = tf.Variable(0, dtype=tf.int64, trainable=False)

    def __call__(self, path, label):
        self.count.assign_add(1)
        return path, label


def rejection_resample_pipeline(paths, labels, size, batch_size, seed=0, counter: ReadCounter | None = None):
    """TensorFlow's rejection_resample to a uniform target; rejects before decoding (its best case)."""
    classes = np.unique(labels)
    initial = np.bincount(labels, minlength=classes.size) / labels.size
    ds = tf.data.Dataset.from_tensor_slices((list(paths), labels.astype(np.int32)))
    ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True).repeat()
    if counter is not None:
        ds = ds.map(counter)
    ds = ds.rejection_resample(
        lambda path, label: label,
        target_dist=[1.0 / classes.size] * classes.size,
        initial_dist=initial.tolist(),
        seed=seed,
    ).map(lambda label, element: element)
    ds = ds.map(_decode(size), AUTOTUNE).map(flip_brightness, AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def blog_generator_pipeline(paths, labels, size, batch_size) -> tf.data.Dataset:
    """The blog post's Example 1: per-class iterators in a Python generator, eager decoding.

    Each class contributes batch_size // num_classes images per batch; classes with fewer than
    twice the smallest class's count also add an augmented copy of each image, as the post's
    `augment_per_class` does, so its batches are larger than asked and not balanced.
    """
    paths = np.asarray(paths)
    classes = np.unique(labels)
    counts = np.bincount(labels)
    extra_copies = {c: 2 if counts[c] < counts.min() * 2 else 1 for c in classes}
    per_batch = (batch_size // classes.size) * classes.size

    def generate():
        # The post's per-class iterators, shared with the index benchmark.
        indices = blog_example_1_indices(blog_class_indices(labels), batch_size)
        while True:
            images, batch_labels = [], []
            for _ in range(per_batch):
                index = next(indices)
                c = int(labels[index])
                image = _to_float(load_image(tf.constant(paths[index]), size, check=False))
                for _ in range(extra_copies[c] - 1):
                    images.append(flip_brightness(image, c)[0])
                    batch_labels.append(c)
                images.append(image)
                batch_labels.append(c)
            yield tf.stack(images), np.array(batch_labels, dtype=np.int32)

    spec = (tf.TensorSpec((None, size[0], size[1], 3), tf.float32), tf.TensorSpec((None,), tf.int32))
    return tf.data.Dataset.from_generator(generate, output_signature=spec).prefetch(AUTOTUNE)
