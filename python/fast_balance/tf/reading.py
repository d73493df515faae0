"""The reading stage: a row of sample indices becomes a uint8 batch of images.

Samples in the decode bank are gathered from it in one op per batch; the others are read and
decoded from their files.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from .bank import DecodeBank
from .decode import load_image


def batch_reader(
    paths: np.ndarray, image_size: tuple[int, int], batch_size: int, bank: DecodeBank, check: bool
) -> Callable[..., tuple[tf.Tensor, ...]]:
    """``read(indices, labels, repeats, slots, epoch, batch) -> (images, labels, repeats, indices, epoch, batch)``.

    With ``check``, a file that is not a whole image fails with its path in the error.
    """
    height, width = image_size
    path_table = tf.constant(paths.astype(str))
    image_spec = tf.TensorSpec([height, width, 3], tf.uint8)
    banked_images = bank.images

    def decode(indices: tf.Tensor) -> tf.Tensor:
        return tf.map_fn(
            lambda index: load_image(tf.gather(path_table, index), image_size, check),
            indices,
            fn_output_signature=image_spec,
            parallel_iterations=batch_size,
        )

    def read(indices, labels, repeats, slots, epoch, batch):
        if banked_images is None:
            images = decode(indices)
        else:
            in_bank = tf.cast(slots >= 0, tf.int32)
            positions = tf.dynamic_partition(tf.range(batch_size), in_bank, 2)
            slot_parts = tf.dynamic_partition(slots, in_bank, 2)
            index_parts = tf.dynamic_partition(indices, in_bank, 2)
            images = tf.dynamic_stitch(positions, [decode(index_parts[0]), tf.gather(banked_images, slot_parts[1])])
        images = tf.ensure_shape(images, [batch_size, height, width, 3])
        return images, labels, repeats, indices, epoch, batch

    return read
