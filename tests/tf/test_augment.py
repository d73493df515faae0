"""fast_balance.tf.augment_batch: the crop's scale and ratio, value_range, and checked options."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from fast_balance.tf import augment_batch, balanced_dataset

KEY = tf.constant([5, 6], tf.int64)
ONLY_CROP = {"flip": False, "brightness": 0.0, "contrast": 0.0, "saturation": 0.0}


def columns(batch: int = 16, size: int = 33) -> tf.Tensor:
    """float images in [0, 1] whose value is the column: a crop's width is the range it keeps."""
    ramp = tf.linspace(0.0, 1.0, size)
    return tf.tile(ramp[None, None, :, None], [batch, size, 1, 3])


def test_crop_scale_and_ratio_set_the_crop():
    images = columns()
    mask = tf.ones([16], tf.bool)
    whole = augment_batch(images, mask, KEY, crop_scale=(1, 1), crop_ratio=(1, 1), **ONLY_CROP)
    assert np.allclose(whole.numpy(), images.numpy(), atol=1e-6)  # the whole image, resized to itself
    quarter = augment_batch(images, mask, KEY, crop_scale=(0.25, 0.25), crop_ratio=(1, 1), **ONLY_CROP).numpy()
    kept = quarter.max(axis=(1, 2, 3)) - quarter.min(axis=(1, 2, 3))
    assert np.allclose(kept, 0.5, atol=0.02)  # a quarter of the area, square: half the width
    wide = augment_batch(images, mask, KEY, crop_scale=(0.25, 0.25), crop_ratio=(4, 4), **ONLY_CROP).numpy()
    assert np.allclose(wide.max(axis=(1, 2, 3)) - wide.min(axis=(1, 2, 3)), 1.0, atol=0.02)  # width clipped to 1
    default = augment_batch(images, mask, KEY, **ONLY_CROP).numpy()
    spans = default.max(axis=(1, 2, 3)) - default.min(axis=(1, 2, 3))
    assert spans.min() < 0.95 and spans.min() >= np.sqrt(0.6 * 3 / 4) - 0.02  # 0.6-1 of the area, aspect >= 3/4


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"crop_scale": (0, 1)}, ValueError, r"crop_scale must be \(low, high\) with 0 < low <= high <= 1, got \(0, 1"),
        ({"crop_scale": (0.5, 1.5)}, ValueError, "crop_scale must be"),
        ({"crop_scale": (0.9, 0.5)}, ValueError, "crop_scale must be"),
        ({"crop_scale": 0.5}, ValueError, "crop_scale must be"),
        ({"crop_scale": "0.5-1"}, ValueError, "crop_scale must be"),
        ({"crop_ratio": (0, 2)}, ValueError, r"crop_ratio must be \(low, high\) with 0 < low <= high, got"),
        ({"crop_ratio": (1, float("inf"))}, ValueError, "crop_ratio must be"),
        ({"brightness": -0.1}, ValueError, r"brightness must be a number in \[0, 1\]"),
        ({"contrast": 1.5}, ValueError, "contrast must be a number"),
        ({"saturation": "high"}, ValueError, "saturation must be a number"),
        ({"flip": "yes"}, TypeError, "flip must be a bool"),
        ({"value_range": (255, 0)}, ValueError, "value_range"),
    ],
)
def test_bad_options_fail_naming_the_option(options, error, message):
    with pytest.raises(error, match=message):
        augment_batch(columns(2), tf.ones([2], tf.bool), KEY, **options)


def test_bad_augment_options_fail_when_the_dataset_is_built(image_folder):
    _, paths, labels = image_folder
    with pytest.raises(ValueError, match="crop_scale must be"):
        balanced_dataset(paths, labels, image_size=(16, 16), augment_options={"crop_scale": (0.5, 2)}, progress=False)


def test_value_range_maps_input_and_output_and_leaves_unmasked_images_exact():
    unit = tf.random.stateless_uniform([6, 16, 16, 3], seed=[1, 2])
    mask = tf.constant([True, False, True, False, True, True])
    reference = augment_batch(unit, mask, KEY).numpy()  # the default: [0, 1] in and out, as before
    keras_scale = unit * 255.0
    out = augment_batch(keras_scale, mask, KEY, value_range=(0, 255)).numpy()
    assert np.allclose(out, reference * 255.0, atol=1e-3)
    assert np.array_equal(out[~mask.numpy()], keras_scale.numpy()[~mask.numpy()])  # not round-tripped
    pixels = tf.cast(tf.round(keras_scale), tf.uint8)
    from_uint8 = augment_batch(pixels, mask, KEY).numpy()  # uint8 is 0-255 whatever the range
    assert np.allclose(augment_batch(pixels, mask, KEY, value_range=(-1, 1)).numpy(), from_uint8 * 2 - 1, atol=1e-5)
    assert np.array_equal(augment_batch(pixels, mask, KEY, value_range=(0, 255)).numpy()[1], pixels.numpy()[1])
    assert from_uint8.min() >= 0.0 and from_uint8.max() <= 1.0
