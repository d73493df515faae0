"""Where the batched augmentation runs: in the CPU input pipeline, or on an accelerator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf


def augment_device(requested: object) -> str | None:
    """The device of ``augment_device=``: "auto" picks ``/GPU:0`` when one is visible; None means
    inside the CPU input pipeline."""
    if requested == "auto":
        return "/GPU:0" if tf.config.list_logical_devices("GPU") else None
    if requested is None or (isinstance(requested, str) and requested.strip()):
        return requested
    raise ValueError(f"augment_device must be 'auto', None or a device name such as '/GPU:0', got {requested!r}")


def map_on_device(dataset: tf.data.Dataset, device: str | None, fn: Callable[..., Any]) -> tf.data.Dataset:
    """``dataset.map(fn)``, with ``fn`` run on ``device`` after the batches are copied there
    (``tf.data.experimental.copy_to_device``); in the input pipeline, in parallel, when None."""
    if device is None:
        return dataset.map(fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.apply(tf.data.experimental.copy_to_device(device))
    with tf.device(device):
        return dataset.map(fn)
