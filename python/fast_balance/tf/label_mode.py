"""How labels are yielded: ``label_mode`` as ``keras.utils.image_dataset_from_directory`` defines it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

#: ``"int"``: int32 [B] (for ``sparse_categorical_crossentropy``); ``"categorical"``: float32 one-hot
#: [B, num_classes]; ``"binary"``: float32 [B, 1] of 0 and 1 (two classes only); None: no labels.
LABEL_MODES = ("int", "categorical", "binary", None)
#: For label sets (multi-label), the only mode: float32 multi-hot [B, num_classes].
MULTI_HOT = "multi_hot"


def check_label_mode(label_mode: object, num_classes: int, multi_label: bool = False) -> str | None:
    """``label_mode`` if it is one of `LABEL_MODES` and fits ``num_classes`` (`MULTI_HOT` for
    label sets, ``multi_label``), else ValueError."""
    if multi_label:
        if label_mode != MULTI_HOT:
            raise ValueError(f'labels are label sets (multi-label): they are yielded with label_mode="multi_hot", '
                             f"got label_mode={label_mode!r}")
        return MULTI_HOT
    if label_mode == MULTI_HOT:
        raise ValueError('label_mode="multi_hot" needs label sets (a list of lists, a 2-D multi-hot array, a SciPy '
                         "sparse matrix or a LabelSets); these labels are one class id per sample")
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


def multi_hot_encoder(indptr: np.ndarray, indices: np.ndarray, num_classes: int) -> Callable[[tf.Tensor], tf.Tensor]:
    """``encode(sample_indices int64 [B]) -> float32 multi-hot [B, num_classes]``, gathered in the
    graph from the CSR arrays of the label sets (never a dense [samples, classes] table).

    Examples
    --------
    >>> encode = multi_hot_encoder(np.array([0, 2, 2, 3]), np.array([0, 2, 1]), 3)
    >>> encode(tf.constant([2, 0, 1], tf.int64)).numpy().tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    """
    sets = tf.RaggedTensor.from_row_splits(tf.constant(indices, tf.int32), tf.constant(indptr, tf.int64))

    def encode(sample_indices: tf.Tensor) -> tf.Tensor:
        rows = tf.gather(sets, sample_indices)
        hot = tf.ragged.map_flat_values(tf.one_hot, rows, num_classes, dtype=tf.float32)
        # reduce_max of an empty set is the lowest float: an image without labels is all zeros.
        return tf.maximum(tf.reduce_max(hot, axis=1), 0.0)

    return encode
