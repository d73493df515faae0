"""Every file once per pass, in order: the validation subset of `from_directory`, and its
``shuffle=False`` reading.

The same preprocessing as the balanced pipeline (decoding, size, colour, interpolation, pixel
range, label encoding; the same reading stage, so a file that cannot be loaded is named), without
sampling or augmentation; the last batch holds what is left, as in Keras.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .augment import from_uint8
from .bank import DecodeBank
from .dataset import PipelineReport
from .decode import ImageSpec
from .label_mode import encode_labels
from .reading import batch_reader
from .screening import screen_files


def ordered_dataset(
    paths: np.ndarray,
    labels: np.ndarray,
    *,
    spec: ImageSpec,
    batch_size: int,
    value_range: tuple[float, float],
    label_mode: str | None,
    num_classes: int,
    on_error: str,
    progress: bool,
) -> tf.data.Dataset:
    """``(images, labels)`` batches of ``paths`` in their order, each file once per pass.

    With ``on_error="skip"``, files that fail the check or the decode are left out (not replaced:
    that would change the data's distribution) and listed in ``ds.report.skipped``; the dataset's
    ``file_paths`` and ``labels`` are then those of the files it reads.

    Returns
    -------
    tf.data.Dataset
        ``len(ds)`` is ``ceil(files / batch_size)``. Attributes ``report``, ``batch_size``,
        ``file_paths`` (a list) and ``labels`` (int32).
    """
    files = np.asarray(paths, dtype=object)
    classes_of = np.asarray(labels, dtype=np.int32)
    report = PipelineReport()
    report.skipped, hint = screen_files(files, on_error, spec, progress)
    if report.skipped:
        kept = np.array([p not in report.skipped for p in files], dtype=bool)
        files, classes_of = files[kept], classes_of[kept]
        if files.size == 0:
            raise ValueError(f"none of the {kept.size} files can be loaded: {report.skipped}")
    no_bank = DecodeBank(np.full(files.size, -1, dtype=np.int64), None)
    read = batch_reader(files, spec, None, no_bank, check=True, hint=hint, remember=True)

    def load(indices: tf.Tensor, batch_labels: tf.Tensor) -> tf.Tensor | tuple[tf.Tensor, tf.Tensor]:
        zeros = tf.zeros_like(batch_labels)
        images = read(indices, batch_labels, zeros, tf.fill(tf.shape(indices), tf.constant(-1, tf.int64)),
                      tf.constant(0, tf.int64), tf.constant(0, tf.int64))[0]
        images = from_uint8(images, value_range)
        encoded = encode_labels(batch_labels, label_mode, num_classes)
        return images if encoded is None else (images, encoded)

    rows = tf.data.Dataset.from_tensor_slices((np.arange(files.size, dtype=np.int64), classes_of))
    dataset = rows.batch(batch_size).map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    dataset.report = report
    dataset.batch_size = batch_size
    dataset.file_paths = [str(p) for p in files]
    dataset.labels = classes_of
    return dataset
