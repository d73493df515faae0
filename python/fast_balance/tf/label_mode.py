"""How labels are yielded: ``label_mode`` as ``keras.utils.image_dataset_from_directory`` defines it."""

from __future__ import annotations

import tensorflow as tf

#: ``"int"``: int32 [B] (for ``sparse_categorical_crossentropy``); ``"categorical"``: float32 one-hot
#: [B, num_classes]; ``"binary"``: float32 [B, 1] of 0 and 1 (two classes only); None: no labels.
LABEL_MODES = ("int", "categorical", "binary", None)


def check_label_mode(label_mode: object, num_classes: int) -> str | None:
    """``label_mode`` if it is one of `LABEL_MODES` and fits ``num_classes``, else ValueError."""
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label_mode must be one of 'int', 'categorical', 'binary' or None; got {label_mode!r}")
    if label_mode == "binary" and num_classes != 2:
        raise ValueError(f'label_mode="binary" needs exactly 2 classes, got {num_classes}')
    return label_mode


def encode_labels(labels: tf.Tensor, label_mode: str | None, num_classes: int) -> tf.Tensor | None:
    """int32 class ids [B] as ``label_mode`` yields them (None for no labels).

    Examples
    --------
    >>> encode_labels(tf.constant([0, 2]), "categorical", 3).numpy().tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    >>> encode_labels(tf.constant([1, 0]), "binary", 2).numpy().tolist()
    [[1.0], [0.0]]
    """
    if label_mode is None:
        return None
    if label_mode == "categorical":
        return tf.one_hot(labels, num_classes, dtype=tf.float32)
    if label_mode == "binary":
        return tf.cast(labels, tf.float32)[:, None]
    return tf.cast(labels, tf.int32)
