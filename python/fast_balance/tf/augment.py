"""Batched augmentation: whole-batch ops, with random parameters drawn per sample.

Randomness is stateless, keyed per batch by a fold-in chain over (seed, epoch, batch of the epoch)
(see docs/determinism.md), so an epoch's augmented images are the same on every run, and a resumed
run augments exactly as an uninterrupted one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Union

import tensorflow as tf

#: What ``augment=`` may name; a callable ``fn(images, mask) -> images`` is the fourth choice.
AUGMENT_POLICIES = ("repeats", "all", "none")
AugmentPolicy = Union[str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]]
#: The augmentation parameters ``augment_options`` may set.
AUGMENT_OPTIONS = ("crop", "flip", "brightness", "contrast", "saturation")
# Separates the augmentation's keys from any other use of the same seed.
_AUGMENT_DOMAIN = 0x6175676D  # "augm"


def batch_key(seed: int, epoch: tf.Tensor, batch: tf.Tensor) -> tf.Tensor:
    """The stateless key (int64 [2]) of one batch's augmentation.

    A keyed hash, not an arithmetic mix: ``fold_in(fold_in([seed, domain], epoch), batch)``, so no
    two (seed, epoch, batch) share a key by coincidence (a xor of seed and epoch would make seed 0
    epoch 1 augment like seed 1 epoch 0), and every seed in [0, 2**64) works.

    Examples
    --------
    >>> a = batch_key(0, tf.constant(1, tf.int64), tf.constant(0, tf.int64))
    >>> b = batch_key(1, tf.constant(0, tf.int64), tf.constant(0, tf.int64))
    >>> bool(tf.reduce_all(a == b))
    False
    """
    signed = seed - (1 << 64) if seed >= 1 << 63 else seed  # the same 64 bits as int64
    base = tf.constant([signed, _AUGMENT_DOMAIN], tf.int64)
    fold_in = tf.random.experimental.stateless_fold_in
    return fold_in(fold_in(base, tf.cast(epoch, tf.int64)), tf.cast(batch, tf.int64))


def check_policy(augment: object, augment_options: Mapping[str, object] | None) -> dict[str, object]:
    """Checks ``augment`` and ``augment_options``; returns the options as a dict."""
    if not (isinstance(augment, str) and augment in AUGMENT_POLICIES) and not callable(augment):
        raise ValueError(f"augment must be one of {AUGMENT_POLICIES} or a callable(images, mask), got {augment!r}")
    options = dict(augment_options or {})
    unknown = sorted(set(options) - set(AUGMENT_OPTIONS))
    if unknown:
        raise ValueError(f"augment_options: unknown {unknown}; known: {list(AUGMENT_OPTIONS)}")
    return options


def check_value_range(value_range: object) -> tuple[float, float]:
    """``(low, high)`` floats with low < high, the range pixel values are mapped to."""
    try:
        low, high = (float(v) for v in value_range)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ValueError(f"value_range must be (low, high), e.g. (0, 255) or (0, 1), got {value_range!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"value_range must be finite with low < high, got {value_range!r}")
    return low, high


def from_unit(images: tf.Tensor, value_range: tuple[float, float]) -> tf.Tensor:
    """Images in [0, 1] mapped linearly to ``value_range``."""
    low, high = value_range
    if (low, high) == (0.0, 1.0):
        return images
    return images * (high - low) + low


def from_uint8(images: tf.Tensor, value_range: tuple[float, float]) -> tf.Tensor:
    """uint8 images (0-255) as float32 in ``value_range``."""
    if value_range == (0.0, 255.0):
        return tf.cast(images, tf.float32)
    return from_unit(tf.cast(images, tf.float32) / 255.0, value_range)


def apply_policy(
    images: tf.Tensor,
    repeats: tf.Tensor,
    key: tf.Tensor,
    augment: AugmentPolicy,
    options: dict[str, Any],
    value_range: tuple[float, float] = (0.0, 255.0),
) -> tf.Tensor:
    """float32 [B, H, W, 3] in ``value_range`` from a uint8 batch, augmented where the policy says.

    ``"repeats"`` augments the samples drawn before in the epoch (``repeats >= 1``), ``"all"``
    every sample, ``"none"`` none; a callable ``fn(images, mask)`` gets the float batch in
    ``value_range`` (as Keras preprocessing layers expect it, by default [0, 255]) and the mask.
    """
    if augment == "none":
        return from_uint8(images, value_range)
    mask = tf.ones_like(repeats, tf.bool) if augment == "all" else repeats >= 1
    if callable(augment):
        return augment(from_uint8(images, value_range), mask)
    # The uint8 batch goes in: the conversion rides along with the first augmentation op.
    return from_unit(augment_batch(images, mask, key, **options), value_range)


def _uniform(seed: tf.Tensor, salt: int, shape: object, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform(
        shape, seed=tf.random.experimental.stateless_fold_in(seed, salt), minval=low, maxval=high
    )


def random_resized_crop_boxes(
    seed: tf.Tensor,
    batch: tf.Tensor,
    scale: tuple[float, float] = (0.6, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> tf.Tensor:
    """Normalised [y1, x1, y2, x2] boxes covering `scale` of the area with aspect in `ratio`."""
    area = _uniform(seed, 1, [batch], *scale)
    log_ratio = _uniform(seed, 2, [batch], math.log(ratio[0]), math.log(ratio[1]))
    aspect = tf.exp(log_ratio)
    height = tf.minimum(tf.sqrt(area / aspect), 1.0)
    width = tf.minimum(tf.sqrt(area * aspect), 1.0)
    top = _uniform(seed, 3, [batch], 0.0, 1.0) * (1.0 - height)
    left = _uniform(seed, 4, [batch], 0.0, 1.0) * (1.0 - width)
    return tf.stack([top, left, top + height, left + width], axis=1)


def _to_unit(images: tf.Tensor) -> tf.Tensor:
    """float32 in [0, 1] from uint8 (0-255) or float images (already in [0, 1])."""
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    return tf.cast(images, tf.float32)


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
    """Augments the images of a batch where `mask` is true; the others are only converted.

    Random parameters are drawn for every position of the batch from `seed`, so an image's
    augmentation does not depend on the mask of the others. Only the masked images are
    computed on, and the work is a handful of whole-batch ops: the crop and the flip are one
    ``crop_and_resize`` (a box with x1 > x2 samples a mirrored crop), or a reverse of the
    images to flip when there is no crop; brightness, contrast and saturation are per-image
    affine maps.

    Parameters
    ----------
    images : tf.Tensor
        uint8 [B, H, W, C] (0-255), or float [B, H, W, C] in [0, 1]. C is 1 (grey), 3 (RGB) or 4
        (RGBA): the colour changes apply to the grey or RGB channels (saturation to RGB only),
        never to alpha, which is only cropped and flipped.
    mask : tf.Tensor
        bool [B]: the images to augment.
    seed : tf.Tensor
        int64 [2], the batch's stateless key (`batch_key`).
    crop : bool
        Random resized crop: 0.6 to 1 of the area, aspect ratio 3/4 to 4/3, resized back.
    flip : bool
        Horizontal (left-right) flip of half the images; there is no vertical flip. Turn it off
        (``flip=False``) for digits, text and other images whose mirror image means something else.
    brightness : float
        Largest change of brightness, as a share of the full range (0 disables).
    contrast : float
        Largest relative change of contrast (0 disables).
    saturation : float
        Largest relative change of saturation (0 disables; RGB only).

    Returns
    -------
    tf.Tensor
        float32 [B, H, W, C] in [0, 1].

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
    selected = tf.cast(mask, tf.int32)
    positions = tf.dynamic_partition(tf.range(batch), selected, 2)
    kept, chosen = tf.dynamic_partition(images, selected, 2)

    def per_image(salt: int, low: float, high: float) -> tf.Tensor:
        """One parameter per augmented image, drawn for the whole batch, shaped to broadcast."""
        return tf.gather(_uniform(seed, salt, [batch], low, high), positions[1])[:, None, None, None]

    flipped = tf.gather(_uniform(seed, 5, [batch], 0.0, 1.0) < 0.5, positions[1]) if flip else None
    if crop:
        boxes = tf.gather(random_resized_crop_boxes(seed, batch), positions[1])
        if flipped is not None:  # a box with x1 > x2 samples the mirrored crop
            boxes = tf.where(flipped[:, None], tf.gather(boxes, [0, 3, 2, 1], axis=1), boxes)
        scale = 255.0 if images.dtype == tf.uint8 else 1.0
        out = tf.image.crop_and_resize(chosen, boxes, tf.range(tf.shape(chosen)[0]), size) / scale
    else:
        out = chosen
        if flipped is not None:
            order = tf.range(tf.shape(chosen)[0])
            which = tf.cast(flipped, tf.int32)
            unflipped, to_flip = tf.dynamic_partition(out, which, 2)
            out = tf.dynamic_stitch(tf.dynamic_partition(order, which, 2), [unflipped, tf.reverse(to_flip, axis=[2])])
        out = _to_unit(out)
    channels = images.shape[-1]
    out, alpha = (out[..., :3], out[..., 3:]) if channels == 4 else (out, None)
    if brightness:
        out = out + per_image(6, -brightness, brightness)
    if contrast:
        mean = tf.reduce_mean(out, axis=[1, 2, 3], keepdims=True)
        out = (out - mean) * per_image(7, 1.0 - contrast, 1.0 + contrast) + mean
    if saturation and channels != 1:
        gray = tf.reduce_mean(out, axis=3, keepdims=True)
        out = (out - gray) * per_image(8, 1.0 - saturation, 1.0 + saturation) + gray
    out = tf.clip_by_value(out, 0.0, 1.0)
    if alpha is not None:
        out = tf.concat([out, alpha], axis=-1)
    return tf.ensure_shape(tf.dynamic_stitch(positions, [_to_unit(kept), out]), images.shape)
