"""Batched augmentation: whole-batch ops, with random parameters drawn per sample.

Randomness is stateless, keyed per batch by a fold-in chain over (seed, epoch, batch of the epoch)
(see docs/determinism.md), so an epoch's augmented images are the same on every run, and a resumed
run augments exactly as an uninterrupted one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, Union

import tensorflow as tf

from .._checks import check_bool, is_number

#: What ``augment=`` may name; a callable ``fn(images, mask) -> images`` is the fourth choice.
AUGMENT_POLICIES = ("repeats", "all", "none")
AugmentPolicy = Union[str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]]
#: The augmentation parameters ``augment_options`` may set: the keyword arguments of `augment_batch`
#: that shape the augmentation.
AUGMENT_OPTIONS = ("crop", "flip", "brightness", "contrast", "saturation", "crop_scale", "crop_ratio")
#: The random resized crop's defaults: share of the area kept, and aspect ratio (width / height).
CROP_SCALE = (0.6, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)
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
    check_augment_options(**options)
    return options


def _pair(value: object) -> tuple[float, float] | None:
    """Two real numbers as floats, or None when ``value`` is not such a pair."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return None
    items = list(value)
    if len(items) != 2 or not all(is_number(item) for item in items):
        return None
    return float(items[0]), float(items[1])


def _range_pair(name: str, value: object, upper: float | None) -> tuple[float, float]:
    """``(low, high)`` with 0 < low <= high (<= ``upper``), or ValueError naming ``name``."""
    pair = _pair(value)
    within = pair is not None and math.isfinite(pair[1]) and 0.0 < pair[0] <= pair[1]
    if pair is None or not within or (upper is not None and pair[1] > upper):
        bound = f" <= {upper:g}" if upper is not None else ""
        raise ValueError(f"{name} must be (low, high) with 0 < low <= high{bound}, got {value!r}")
    return pair


def _strength(name: str, value: object) -> float:
    """A maximum relative change in [0, 1]."""
    if not is_number(value) or not 0.0 <= float(value) <= 1.0:  # type: ignore[arg-type]
        raise ValueError(f"{name} must be a number in [0, 1] (0 disables), got {value!r}")
    return float(value)  # type: ignore[arg-type]


class AugmentOptions(NamedTuple):
    """The checked options of `augment_batch`."""

    crop: bool
    flip: bool
    brightness: float
    contrast: float
    saturation: float
    crop_scale: tuple[float, float]
    crop_ratio: tuple[float, float]


def check_augment_options(
    *,
    crop: object = True,
    flip: object = True,
    brightness: object = 0.2,
    contrast: object = 0.2,
    saturation: object = 0.3,
    crop_scale: object = CROP_SCALE,
    crop_ratio: object = CROP_RATIO,
) -> AugmentOptions:
    """The options of `augment_batch`, checked, with the defaults filled in.

    Examples
    --------
    >>> check_augment_options(crop_scale=(0.8, 1)).crop_scale
    (0.8, 1.0)
    >>> check_augment_options(crop_scale=(0.8, 1.5))
    Traceback (most recent call last):
    ValueError: crop_scale must be (low, high) with 0 < low <= high <= 1, got (0.8, 1.5)
    """
    return AugmentOptions(
        crop=check_bool("crop", crop),
        flip=check_bool("flip", flip),
        brightness=_strength("brightness", brightness),
        contrast=_strength("contrast", contrast),
        saturation=_strength("saturation", saturation),
        crop_scale=_range_pair("crop_scale", crop_scale, 1.0),
        crop_ratio=_range_pair("crop_ratio", crop_ratio, None),
    )


def check_value_range(value_range: object) -> tuple[float, float]:
    """``(low, high)`` floats with low < high, the range pixel values are mapped to."""
    pair = _pair(value_range)
    if pair is None:
        raise ValueError(f"value_range must be (low, high), e.g. (0, 255) or (0, 1), got {value_range!r}")
    low, high = pair
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
    options: Mapping[str, Any],
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
    return augment_batch(images, mask, key, **options, value_range=value_range)


def _uniform(seed: tf.Tensor, salt: int, shape: Any, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform(
        shape, seed=tf.random.experimental.stateless_fold_in(seed, salt), minval=low, maxval=high
    )


def random_resized_crop_boxes(
    seed: tf.Tensor,
    batch: tf.Tensor,
    scale: tuple[float, float] = CROP_SCALE,
    ratio: tuple[float, float] = CROP_RATIO,
) -> tf.Tensor:
    """Normalised [y1, x1, y2, x2] boxes covering `scale` of the area with aspect in `ratio`
    (log-uniform), clipped to the image."""
    area = _uniform(seed, 1, [batch], *scale)
    log_ratio = _uniform(seed, 2, [batch], math.log(ratio[0]), math.log(ratio[1]))
    aspect = tf.exp(log_ratio)
    height = tf.minimum(tf.sqrt(area / aspect), 1.0)
    width = tf.minimum(tf.sqrt(area * aspect), 1.0)
    top = _uniform(seed, 3, [batch], 0.0, 1.0) * (1.0 - height)
    left = _uniform(seed, 4, [batch], 0.0, 1.0) * (1.0 - width)
    return tf.stack([top, left, top + height, left + width], axis=1)


def _colour(
    raw: tf.Tensor,
    uint8: bool,
    value_range: tuple[float, float],
    options: AugmentOptions,
    per_image: Callable[[int, float, float], tf.Tensor],
) -> tf.Tensor:
    """Brightness, contrast and saturation of float images at the input's scale, clipped, in ``value_range``.

    In [0, 1] the three are, in order, ``x + delta``, ``(x - mean) * c + mean`` (mean over the
    image) and ``(x - grey) * s + grey`` (grey: the pixel's mean over channels), then a clip to
    [0, 1] and the map to ``value_range``. Composed, they are one affine map per image,
    ``a * x + b * grey + offset``, so the batch is swept a few times instead of a dozen, and the
    input's scale (0-255 for uint8, else ``value_range``) and the output's range fold into it.
    """
    low, high = value_range
    in_low, in_span = (0.0, 255.0) if uint8 else (low, high - low)
    span = high - low
    delta = per_image(6, -options.brightness, options.brightness) if options.brightness else 0.0
    c = per_image(7, 1.0 - options.contrast, 1.0 + options.contrast) if options.contrast else 1.0
    s = per_image(8, 1.0 - options.saturation, 1.0 + options.saturation) if options.saturation else 1.0
    offset = delta - c * in_low / in_span
    if options.contrast:  # the image's mean in [0, 1], after the brightness shift
        mean = (tf.reduce_mean(raw, axis=[1, 2, 3], keepdims=True) - in_low) / in_span
        offset = offset + (1.0 - c) * mean
    out = raw * (span * c * s / in_span)
    if options.saturation:
        grey = tf.reduce_mean(raw, axis=3, keepdims=True)
        out = out + (grey * (span * c * (1.0 - s) / in_span) + (low + span * offset))
    else:
        out = out + (low + span * offset)
    return tf.clip_by_value(out, low, high)


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
    crop_scale: tuple[float, float] = CROP_SCALE,
    crop_ratio: tuple[float, float] = CROP_RATIO,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> tf.Tensor:
    """Augments the images of a batch where `mask` is true; the others are only converted.

    Random parameters are drawn for every position of the batch from `seed`, so an image's
    augmentation does not depend on the mask of the others. Only the masked images are
    computed on, and the work is a handful of whole-batch ops: the crop and the flip are one
    ``crop_and_resize`` (a box with x1 > x2 samples a mirrored crop), or a reverse of the
    images to flip when there is no crop; brightness, contrast and saturation together are one
    affine map per image, computed in one sweep with the conversion to `value_range`.

    Parameters
    ----------
    images : uint8 [B, H, W, C] (0-255), or float [B, H, W, C] in `value_range`
        C is 1 (grey), 3 (RGB) or 4 (RGBA): the colour changes apply to the grey or RGB channels
        (saturation changes nothing in grey), never to alpha, which is only cropped and flipped.
    mask : bool [B]
    seed : int64 [2], the batch's stateless key (`batch_key`)
    crop, flip : bool
        Random resized crop (resized back to [H, W]) and horizontal flip. Turn ``flip`` off for
        digits, text and anything whose mirror image means something else.
    brightness, contrast, saturation : float in [0, 1]
        Maximum relative change of each (0 disables); brightness shifts by up to that share of
        `value_range`.
    crop_scale : (low, high), 0 < low <= high <= 1
        Share of the image's area the crop keeps, uniform in this range (default 0.6 to 1).
    crop_ratio : (low, high), 0 < low <= high
        Aspect ratio (width / height) of the crop, log-uniform in this range (default 3/4 to 4/3).
    value_range : (low, high)
        Range of float input and of the result: (0, 1) by default (as before this option existed);
        (0, 255) for images as `balanced_dataset` and Keras give them. uint8 input is 0-255 whatever
        the range.

    Returns
    -------
    float32 [B, H, W, C] in `value_range`; images outside `mask` are the input, converted only.

    Raises
    ------
    ValueError
        An option out of its range, naming it (before any op is built).

    Examples
    --------
    >>> images = tf.random.uniform([4, 32, 32, 3])
    >>> out = augment_batch(images, tf.constant([True, False, True, False]), tf.constant([1, 2], tf.int64))
    >>> bool(tf.reduce_all(out[1] == images[1]))
    True
    >>> pixels = tf.cast(images * 255.0, tf.uint8)  # tighter crops, Keras' range
    >>> out = augment_batch(pixels, tf.constant([True] * 4), tf.constant([1, 2], tf.int64),
    ...                     crop_scale=(0.8, 1.0), value_range=(0, 255))
    >>> 1.0 < float(tf.reduce_max(out)) <= 255.0
    True
    >>> augment_batch(images, tf.constant([True] * 4), tf.constant([1, 2], tf.int64), crop_scale=(0, 1))
    Traceback (most recent call last):
    ValueError: crop_scale must be (low, high) with 0 < low <= high <= 1, got (0, 1)
    """
    options = check_augment_options(crop=crop, flip=flip, brightness=brightness, contrast=contrast,
                                    saturation=saturation, crop_scale=crop_scale, crop_ratio=crop_ratio)
    value_range = check_value_range(value_range)
    uint8 = images.dtype == tf.uint8
    batch = tf.shape(images)[0]
    size = tf.shape(images)[1:3]
    seed = tf.cast(seed, tf.int64)
    selected = tf.cast(mask, tf.int32)
    positions = tf.dynamic_partition(tf.range(batch), selected, 2)
    kept, chosen = tf.dynamic_partition(images, selected, 2)

    def per_image(salt: int, low: float, high: float) -> tf.Tensor:
        """One parameter per augmented image, drawn for the whole batch, shaped to broadcast."""
        return tf.gather(_uniform(seed, salt, [batch], low, high), positions[1])[:, None, None, None]

    flipped = tf.gather(_uniform(seed, 5, [batch], 0.0, 1.0) < 0.5, positions[1]) if options.flip else None
    if options.crop:
        boxes = random_resized_crop_boxes(seed, batch, options.crop_scale, options.crop_ratio)
        boxes = tf.gather(boxes, positions[1])
        if flipped is not None:  # a box with x1 > x2 samples the mirrored crop
            boxes = tf.where(flipped[:, None], tf.gather(boxes, [0, 3, 2, 1], axis=1), boxes)
        out = tf.image.crop_and_resize(chosen, boxes, tf.range(tf.shape(chosen)[0]), size)
    else:
        out = chosen
        if flipped is not None:
            order = tf.range(tf.shape(chosen)[0])
            which = tf.cast(flipped, tf.int32)
            unflipped, to_flip = tf.dynamic_partition(out, which, 2)
            out = tf.dynamic_stitch(tf.dynamic_partition(order, which, 2), [unflipped, tf.reverse(to_flip, axis=[2])])
    out = tf.cast(out, tf.float32)
    alpha = None
    if images.shape[-1] == 4:  # alpha is only cropped and flipped, never coloured
        out, alpha = out[..., :3], out[..., 3:]
    out = _colour(out, uint8, value_range, options, per_image)
    if alpha is not None:
        low, high = value_range
        alpha = low + alpha * ((high - low) / 255.0) if uint8 else alpha
        out = tf.concat([out, alpha], axis=-1)
    # Images left alone keep their values exactly (no round trip through [0, 1]).
    kept = from_uint8(kept, value_range) if uint8 else tf.cast(kept, tf.float32)
    return tf.ensure_shape(tf.dynamic_stitch(positions, [kept, out]), images.shape)
