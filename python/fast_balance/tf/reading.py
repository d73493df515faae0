"""The reading stage: a row of sample indices becomes a uint8 batch of images.

Samples in the decode bank are gathered from it in one op per batch; the others are read and
decoded from their files.

With ``check``, a batch's files are read and decoded inside `try_images` (a nested tf.data
dataset with ``ignore_errors``: the failure is caught in the graph, without Python, so the
tf.data service can run it). A batch that fails is loaded again file by file, each caught on its
own; the files that fail are named with the graph's reason (`problem_of`) in an
``InvalidArgumentError``; if none fails alone (the failure was transient), their images are used.

The catch costs a nested dataset per batch (about as much as decoding a few small images), which
shows where batches hold few files, most samples coming from the bank. With ``remember``, the
length of each file that loaded is kept (a variable), and a batch whose files all loaded before
is decoded without the catch; a file among them whose length changed is named before it is
decoded. A file changed in place to the same length that then fails to decode fails with the
decoder's message, without its path.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from .bank import DecodeBank
from .decode import (
    SKIP_HINT,
    ImageSize,
    as_image_spec,
    decode_resized,
    failure_message,
    file_names,
    problem_of,
    try_images,
)


def batch_reader(
    paths: np.ndarray,
    image_size: ImageSize,
    batch_size: int | None,
    bank: DecodeBank,
    check: bool,
    hint: str = SKIP_HINT,
    remember: bool = False,
) -> Callable[..., tuple[tf.Tensor, ...]]:
    """``read(indices, labels, repeats, slots, epoch, batch) -> (images, labels, repeats, indices, epoch, batch)``.

    Images are decoded to ``image_size`` (an `ImageSpec`, or ``(height, width)``). With ``check``,
    a file that cannot be loaded fails with its path, the reason and ``hint`` in the error.
    ``remember`` (for graphs that may hold variables) skips the catch for files that loaded before,
    checking their length instead. ``batch_size`` None reads batches of any size (no bank then).
    """
    spec = as_image_spec(image_size)
    if batch_size is None and bank.images is not None:
        raise ValueError("a reader of batches of any size takes no decode bank")
    parallel = batch_size or 32
    path_table = tf.constant(file_names(paths))
    image_spec = tf.TensorSpec(spec.shape, tf.uint8)
    images_spec = tf.TensorSpec([None, *spec.shape], tf.uint8)
    banked_images = bank.images

    def load(index: tf.Tensor) -> tf.Tensor:
        return decode_resized(tf.io.read_file(tf.gather(path_table, index)), spec)

    def decode(indices: tf.Tensor) -> tf.Tensor:
        return tf.map_fn(load, indices, fn_output_signature=image_spec, parallel_iterations=parallel)

    def load_alone(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image, loaded = try_images(lambda i: load(i)[None], index, images_spec)
        return tf.cond(loaded, lambda: image[0], lambda: tf.zeros(spec.shape, tf.uint8)), loaded

    # Not inlined where it is called: a graph instantiates it only if a batch fails.
    @tf.function(  # type: ignore[untyped-decorator]
        input_signature=[tf.TensorSpec([None], tf.int64)], experimental_attributes={"_noinline": True})
    def pinpoint(indices: tf.Tensor) -> tf.Tensor:
        """The error path: each file of the batch loaded on its own; the ones that fail are named."""
        images, loaded = tf.map_fn(load_alone, indices, fn_output_signature=(image_spec, tf.TensorSpec([], tf.bool)),
                                   parallel_iterations=parallel)
        failed, _ = tf.unique(tf.gather(path_table, tf.boolean_mask(indices, tf.logical_not(loaded))))
        reasons = tf.map_fn(problem_of, failed, fn_output_signature=tf.string)
        report = tf.debugging.Assert(tf.reduce_all(loaded), [failure_message(failed, reasons, hint)])
        with tf.control_dependencies([report]):
            return tf.identity(images)

    # The byte length of each file when it last loaded (-1: not yet).
    loaded_length = tf.Variable(tf.fill([paths.size], -1), trainable=False, name="loaded_length") if (
        check and remember) else None

    def load_measured(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        contents = tf.io.read_file(tf.gather(path_table, index))
        return decode_resized(contents, spec), tf.strings.length(contents)

    def decode_caught(indices: tf.Tensor) -> tf.Tensor:
        (images, lengths), loaded = try_images(
            lambda i: tf.map_fn(load_measured, i, fn_output_signature=(image_spec, tf.TensorSpec([], tf.int32)),
                                parallel_iterations=parallel),
            indices, (images_spec, tf.TensorSpec([None], tf.int32)))

        def remembered() -> tf.Tensor:
            if loaded_length is None:
                return images
            with tf.control_dependencies([loaded_length.scatter_nd_update(indices[:, None], lengths)]):
                return tf.identity(images)

        return tf.cond(loaded, remembered, lambda: pinpoint(indices))

    def load_known(index: tf.Tensor) -> tf.Tensor:
        """A file that loaded before: if its length changed, it is named here, before decoding."""
        path = tf.gather(path_table, index)
        contents = tf.io.read_file(path)
        same = tf.equal(tf.strings.length(contents), tf.gather(loaded_length, index))
        changed = tf.debugging.Assert(same, ["fast_balance: cannot load image file", path,
                                             "its length changed since it loaded: build the dataset again"])
        with tf.control_dependencies([changed]):
            return decode_resized(tf.identity(contents), spec)

    def decode_checked(indices: tf.Tensor) -> tf.Tensor:
        if loaded_length is None:
            return decode_caught(indices)
        known = tf.reduce_all(tf.gather(loaded_length, indices) >= 0)
        return tf.cond(known, lambda: tf.map_fn(load_known, indices, fn_output_signature=image_spec,
                                                parallel_iterations=parallel),
                       lambda: decode_caught(indices))

    read_files = decode_checked if check else decode

    def read(
        indices: tf.Tensor, labels: tf.Tensor, repeats: tf.Tensor, slots: tf.Tensor, epoch: tf.Tensor, batch: tf.Tensor
    ) -> tuple[tf.Tensor, ...]:
        if banked_images is None:
            images = read_files(indices)
        else:
            in_bank = tf.cast(slots >= 0, tf.int32)
            positions = tf.dynamic_partition(tf.range(batch_size), in_bank, 2)
            slot_parts = tf.dynamic_partition(slots, in_bank, 2)
            index_parts = tf.dynamic_partition(indices, in_bank, 2)
            images = tf.dynamic_stitch(positions, [read_files(index_parts[0]), tf.gather(banked_images, slot_parts[1])])
        images = tf.ensure_shape(images, [batch_size, *spec.shape])
        return images, labels, repeats, indices, epoch, batch

    return read
