"""Reading and decoding images in the tf.data graph.

JPEGs take a fast path: libjpeg's DCT scaling (`decode_jpeg(ratio=...)`) decodes at 1/2, 1/4 or
1/8 scale whenever the file is at least that many times larger than the target, which skips most
of the decoding work for large photos. Other formats go through `decode_image`. Every image ends
as uint8 RGB of the target size, so that images from the decode bank and from files are identical.
"""

from __future__ import annotations

import tensorflow as tf

JPEG_MAGIC = b"\xff\xd8\xff"
JPEG_END = b"\xff\xd9"
PNG_MAGIC = b"\x89PNG"
_RATIOS = (8, 4, 2, 1)


def _jpeg_ratio_branch(contents: tf.Tensor, image_size: tuple[int, int]) -> tf.Tensor:
    shape = tf.io.extract_jpeg_shape(contents)
    height, width = shape[0], shape[1]
    target_height, target_width = image_size
    # The largest DCT scaling that keeps both sides at least the target's.
    fits = [tf.logical_and(height // r >= target_height, width // r >= target_width) for r in _RATIOS]
    branch = tf.argmax(tf.cast(tf.stack(fits), tf.int32))  # the first ratio (largest) that fits; 1 always does
    branch = tf.where(tf.reduce_any(tf.stack(fits)), branch, len(_RATIOS) - 1)
    decoders = [
        (lambda r=r: tf.io.decode_jpeg(contents, channels=3, ratio=r, dct_method="INTEGER_FAST")) for r in _RATIOS
    ]
    return tf.switch_case(tf.cast(branch, tf.int32), decoders)


def check_contents(contents: tf.Tensor, path: tf.Tensor) -> tf.Operation:
    """An assertion that names `path` when the bytes are not a whole image of a known format."""
    head = tf.strings.substr(contents, 0, 8)
    is_jpeg = tf.equal(tf.strings.substr(head, 0, 3), JPEG_MAGIC)
    known = tf.reduce_any(
        tf.stack(
            [
                is_jpeg,
                tf.equal(tf.strings.substr(head, 0, 4), PNG_MAGIC),
                tf.equal(tf.strings.substr(head, 0, 3), b"GIF"),
                tf.equal(tf.strings.substr(head, 0, 2), b"BM"),
            ]
        )
    )
    length = tf.strings.length(contents)
    tail = tf.strings.substr(contents, tf.maximum(length - 2, 0), 2)
    whole_jpeg = tf.logical_or(tf.logical_not(is_jpeg), tf.equal(tail, JPEG_END))
    return tf.debugging.Assert(
        tf.logical_and(known, whole_jpeg),
        ["fast_balance: not a readable image (unknown format or truncated JPEG):", path],
    )


def decode_resized(contents: tf.Tensor, image_size: tuple[int, int]) -> tf.Tensor:
    """uint8 [H, W, 3] image of `image_size` from encoded bytes."""
    is_jpeg = tf.equal(tf.strings.substr(contents, 0, 3), JPEG_MAGIC)
    image = tf.cond(
        is_jpeg,
        lambda: _jpeg_ratio_branch(contents, image_size),
        lambda: tf.io.decode_image(contents, channels=3, expand_animations=False),
    )
    image = tf.image.resize(image, image_size, method="bilinear")
    return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)


def load_image(path: tf.Tensor, image_size: tuple[int, int], check: bool = True) -> tf.Tensor:
    """Reads and decodes one file; with `check`, a bad file fails with its path in the error."""
    contents = tf.io.read_file(path)
    if not check:
        return decode_resized(contents, image_size)
    with tf.control_dependencies([check_contents(contents, path)]):
        return decode_resized(tf.identity(contents), image_size)
