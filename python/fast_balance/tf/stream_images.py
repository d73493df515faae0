"""fast_balance.tf.decode_batches: image batches from a rebalanced stream of encoded images.

`rebalance` keeps a stream's records as they are (for images, the encoded bytes) and marks each
emission with ``repeats``; this stage decodes, batches and augments them the way `balanced_dataset`
does: `decode_resized`, then the policy of `apply_policy` keyed by `batch_key`, where the pass over
the dataset plays the part of the epoch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from .._checks import check_bool, check_int, check_seed
from .augment import AugmentPolicy, apply_policy, batch_key, check_policy, check_value_range
from .decode import decode_resized


def _check_element_spec(spec: Any) -> None:
    """TypeError unless elements are ``((bytes, label), repeats)``, all scalars."""
    try:
        (contents, label), repeats = spec
        valid = (
            contents.dtype == tf.string
            and label.dtype.is_integer
            and repeats.dtype.is_integer
            and all(part.shape.rank == 0 for part in (contents, label, repeats))
        )
    except (TypeError, ValueError, AttributeError):
        valid = False
    if not valid:
        raise TypeError(
            "decode_batches needs elements ((image bytes, label), repeats), scalars, as fast_balance.tf.rebalance "
            f"yields them from (bytes, label) records; got element_spec {spec!r}"
        )


def decode_batches(
    dataset: tf.data.Dataset,
    image_size: tuple[int, int],
    batch_size: int,
    *,
    value_range: tuple[float, float] = (0, 255),
    augment: AugmentPolicy = "repeats",
    augment_options: Mapping[str, object] | None = None,
    seed: int = 0,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Decoded, augmented image batches from `rebalance`'s ``((image bytes, label), repeats)``.

    Each image is decoded and resized as `balanced_dataset` does it (JPEGs with libjpeg's DCT
    scaling when much larger than ``image_size``; PNG, BMP and GIF too; grey and RGBA become
    RGB), the stream is batched, and each batch is augmented with whole-batch ops, by default
    only the replays (``repeats >= 1``): first views stay clean.

    Parameters
    ----------
    dataset : tf.data.Dataset
        Elements ``((image bytes, label), repeats)``: what ``rebalance(records, ...)`` yields for
        records ``(bytes, label)`` (map TFRecords to that pair first).
    image_size : (height, width)
    batch_size : int
    value_range : (low, high)
        Pixel values are float32 in this range: (0, 255) by default, as `balanced_dataset` and
        Keras give them.
    augment : "repeats", "all", "none" or callable
        As in `balanced_dataset`: ``"repeats"`` augments the replays only.
    augment_options : dict, optional
        Options of `augment_batch` (``crop``, ``flip``, ``brightness``, ``contrast``, ``saturation``,
        ``crop_scale``, ``crop_ratio``), e.g. ``{"flip": False}`` for digits or text.
    seed : int in [0, 2**64)
        Seeds the augmentation: batch ``b`` of pass ``p`` over the result is keyed by
        ``batch_key(seed, p, b)``, so, given the same input order, every run augments alike.
    drop_remainder : bool
        Drop a pass's last batch when it is short.

    Returns
    -------
    tf.data.Dataset
        ``(images float32 [B, H, W, 3] in value_range, labels int32 [B])``. Every iteration is a
        pass over ``dataset`` (a new rebalanced pass). Its length is unknown, as the rebalanced
        stream's is: for Keras, ``.repeat()`` it and give ``model.fit`` a ``steps_per_epoch``.

    Examples
    --------
    >>> from fast_balance.tf import rebalance
    >>> pixels = tf.io.encode_png(tf.fill([20, 30, 3], tf.constant(200, tf.uint8)))
    >>> records = tf.data.Dataset.from_tensor_slices(([pixels] * 4, [0, 0, 0, 1]))
    >>> balanced = rebalance(records, lambda image, label: label, num_classes=2)
    >>> [(int(y), int(r)) for (_, y), r in balanced]  # the fourth element replays class 1's only record
    [(0, 0), (1, 0), (0, 0), (1, 1), (0, 0)]
    >>> images, labels = next(iter(decode_batches(balanced, (16, 16), batch_size=4)))
    >>> images.shape.as_list(), labels.numpy().tolist()
    ([4, 16, 16, 3], [0, 1, 0, 1])
    >>> float(images[1, 0, 0, 0]), float(images[3, 0, 0, 0]) != 200.0  # first view clean, replay augmented
    (200.0, True)
    """
    _check_element_spec(dataset.element_spec)
    if len(image_size) != 2 or any(check_int("image_size", s) < 1 for s in image_size):
        raise ValueError(f"image_size must be (height, width) of positive ints, got {image_size!r}")
    size = (int(image_size[0]), int(image_size[1]))
    batch_size = check_int("batch_size", batch_size, minimum=1)
    value_range = check_value_range(value_range)
    options = check_policy(augment, augment_options)
    seed = check_seed(seed)
    drop_remainder = check_bool("drop_remainder", drop_remainder)

    def decode(element: tuple[tf.Tensor, tf.Tensor], repeats: tf.Tensor) -> tuple[tf.Tensor, ...]:
        contents, label = element
        return decode_resized(contents, size), tf.cast(label, tf.int32), tf.cast(repeats, tf.int32)

    # The number of the next pass: every iteration of the result reads it and advances it.
    passes = tf.Variable(0, dtype=tf.int64, trainable=False, name="stream_pass")

    def one_pass(_: tf.Tensor) -> tf.data.Dataset:
        number = passes.assign_add(1) - 1
        batches = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        batches = batches.batch(batch_size, drop_remainder=drop_remainder)

        def finish(batch: tf.Tensor, element: tuple[tf.Tensor, ...]) -> tuple[tf.Tensor, tf.Tensor]:
            images, labels, repeats = element
            key = batch_key(seed, number, batch)
            return apply_policy(images, repeats, key, augment, options, value_range), labels

        return batches.enumerate().map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    return tf.data.Dataset.from_tensors(0).flat_map(one_pass).prefetch(tf.data.AUTOTUNE)
