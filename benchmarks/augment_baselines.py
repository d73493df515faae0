"""Augmented input pipelines as users write them without fast_balance, for the augmentation benchmark.

Both read the files unbalanced (shuffled, repeated), decode them with the same `load_image` as
every pipeline here (JPEG DCT scaling, resize to the target, uint8) and augment every image with
the work of fast_balance's default policy: a random resized crop (area 0.6-1, aspect 3/4-4/3, resized
back), a horizontal flip, brightness (+-0.2 of the range), contrast (x 0.8-1.2) and, for tf.image,
saturation (x 0.7-1.3). They yield float32 [0, 255], as fast_balance does by default.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from fast_balance.tf import load_image

AUTOTUNE = tf.data.AUTOTUNE
# The zoom that matches a crop of 0.6-1 of the area: sides 0.775-1 of the image, each on its own,
# which also varies the aspect ratio by about as much as 3/4-4/3.
ZOOM = (-(1 - 0.6**0.5), 0.0)


def _files(paths, labels, seed: int) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices((list(paths), labels.astype(np.int32)))
    return ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True).repeat()


def _decoded(paths, labels, size, seed: int) -> tf.data.Dataset:
    return _files(paths, labels, seed).map(lambda path, label: (load_image(path, size, check=False), label), AUTOTUNE)


def plain_pipeline(paths, labels, size, batch_size, seed=0) -> tf.data.Dataset:
    """No augmentation: what decoding alone costs."""
    ds = _decoded(paths, labels, size, seed).batch(batch_size, drop_remainder=True)
    return ds.map(lambda images, labels: (tf.cast(images, tf.float32), labels), AUTOTUNE).prefetch(AUTOTUNE)


def keras_layers(seed: int = 0):
    """The five Keras preprocessing layers a Keras user reaches for."""
    import keras
    from keras import layers

    return keras.Sequential([
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomZoom(height_factor=ZOOM, width_factor=ZOOM, seed=seed + 1),
        layers.RandomTranslation(0.1, 0.1, seed=seed + 2),
        layers.RandomBrightness(0.2, value_range=(0, 255), seed=seed + 3),
        layers.RandomContrast(0.2, value_range=(0, 255), seed=seed + 4),
    ])


def keras_layers_pipeline(paths, labels, size, batch_size, seed=0) -> tf.data.Dataset:
    """Unbalanced batches through Keras preprocessing layers, in the tf.data pipeline (a batch per call)."""
    augment = keras_layers(seed)
    ds = _decoded(paths, labels, size, seed).batch(batch_size, drop_remainder=True)
    ds = ds.map(lambda images, labels: (augment(tf.cast(images, tf.float32), training=True), labels), AUTOTUNE)
    return ds.prefetch(AUTOTUNE)


_WHOLE_IMAGE = tf.constant([[[0.0, 0.0, 1.0, 1.0]]])


def tf_image_augment(image: tf.Tensor, size) -> tf.Tensor:
    """One uint8 image: the usual tf.image recipe (Inception-style crop, then flip and colour), [0, 255]."""
    image = tf.image.convert_image_dtype(image, tf.float32)
    begin, crop_size, _ = tf.image.sample_distorted_bounding_box(
        tf.shape(image), _WHOLE_IMAGE, min_object_covered=0.0, aspect_ratio_range=(3 / 4, 4 / 3),
        area_range=(0.6, 1.0), use_image_if_no_bounding_boxes=True)
    image = tf.image.resize(tf.slice(image, begin, crop_size), size)
    image = tf.image.random_flip_left_right(image)
    image = tf.image.random_brightness(image, 0.2)
    image = tf.image.random_contrast(image, 0.8, 1.2)
    image = tf.image.random_saturation(image, 0.7, 1.3)
    return tf.clip_by_value(image, 0.0, 1.0) * 255.0


def tf_image_pipeline(paths, labels, size, batch_size, seed=0) -> tf.data.Dataset:
    """Unbalanced, each image augmented on its own by tf.image ops in a parallel map, then batched."""
    ds = _decoded(paths, labels, size, seed).map(lambda image, label: (tf_image_augment(image, size), label), AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)
