"""Batched augmentation: one op per batch, with random parameters drawn per sample.

Randomness is stateless, keyed by a per-batch seed, so an epoch's augmented images are the same
on every run with the same seed.
"""

from __future__ import annotations

import math

import tensorflow as tf


def _uniform(seed: tf.Tensor, salt: int, shape, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform(
        shape, seed=tf.random.experimental.stateless_fold_in(seed, salt), minval=low, maxval=high
    )


def random_resized_crop_boxes(seed: tf.Tensor, batch: tf.Tensor, scale=(0.6, 1.0), ratio=(3 / 4, 4 / 3)) -> tf.Tensor:
    """Normalised [y1, x1, y2, x2] boxes covering `scale` of the area with aspect in `ratio`."""
    area = _uniform(seed, 1, [batch], *scale)
    log_ratio = _uniform(seed, 2, [batch], math.log(ratio[0]), math.log(ratio[1]))
    aspect = tf.exp(log_ratio)
    height = tf.minimum(tf.sqrt(area / aspect), 1.0)
    width = tf.minimum(tf.sqrt(area * aspect), 1.0)
    top = _uniform(seed, 3, [batch], 0.0, 1.0) * (1.0 - height)
    left = _uniform(seed, 4, [batch], 0.0, 1.0) * (1.0 - width)
    return tf.stack([top, left, top + height, left + width], axis=1)


def augment_batch(
    images: tf.Tensor,
    mask: tf.Tensor,
    seed: tf.Tensor,
    *,
    crop: bool = True,
    flip: bool = True,
    brightness: float = 0.2,
    contrast: float = 0.2,
    saturation: float = 0.3,
) -> tf.Tensor:
    """Augments the images of a batch where `mask` is true; the others pass unchanged.

    Parameters
    ----------
    images : float32 [B, H, W, 3] in [0, 1]
    mask : bool [B]
    seed : int64 [2], the batch's stateless seed
    crop, flip : random resized crop (area 0.6-1, aspect 3/4-4/3, via ``crop_and_resize``) and
        horizontal flip.
    brightness, contrast, saturation : maximum relative change of each (0 disables).

    Examples
    --------
    >>> images = tf.random.uniform([4, 32, 32, 3])
    >>> out = augment_batch(images, tf.constant([True, False, True, False]), tf.constant([1, 2], tf.int64))
    >>> bool(tf.reduce_all(out[1] == images[1]))
    True
    """
    batch = tf.shape(images)[0]
    size = tf.shape(images)[1:3]
    seed = tf.cast(seed, tf.int64)
    out = images
    if crop:
        boxes = random_resized_crop_boxes(seed, batch)
        out = tf.image.crop_and_resize(out, boxes, tf.range(batch), size)
    if flip:
        flipped = _uniform(seed, 5, [batch], 0.0, 1.0) < 0.5
        out = tf.where(flipped[:, None, None, None], tf.reverse(out, axis=[2]), out)
    if brightness:
        out = out + _uniform(seed, 6, [batch, 1, 1, 1], -brightness, brightness)
    if contrast:
        mean = tf.reduce_mean(out, axis=[1, 2, 3], keepdims=True)
        out = (out - mean) * _uniform(seed, 7, [batch, 1, 1, 1], 1.0 - contrast, 1.0 + contrast) + mean
    if saturation:
        gray = tf.reduce_mean(out, axis=3, keepdims=True)
        out = (out - gray) * _uniform(seed, 8, [batch, 1, 1, 1], 1.0 - saturation, 1.0 + saturation) + gray
    out = tf.clip_by_value(out, 0.0, 1.0)
    return tf.where(mask[:, None, None, None], out, images)
