"""The decode bank: samples that an epoch draws more than once, decoded and resized once.

An oversampled minority image is drawn many times per epoch (50 times on a 1000:20 set). The bank
holds such images as uint8 at the target size, most-drawn classes first, up to a byte budget, so
the reading stage gathers them instead of reading and decoding the file again.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import cast

import numpy as np
import tensorflow as tf

from .._checks import is_int
from ..files import check_image_file, printable
from .decode import SKIP_HINT, ImageSize, as_image_spec, decode_resized, file_names

#: With ``decode_cache="auto"`` the bank takes at most this share of the memory available...
BANK_MEMORY_SHARE = 0.25
#: ...and at most this many bytes.
BANK_AUTO_LIMIT = 4 << 30


def available_memory() -> int:
    """Bytes of memory available now (2 GiB where the platform does not say)."""
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2 << 30


def bank_budget(decode_cache: object) -> int:
    """The bank's byte budget for a ``decode_cache`` argument: "auto" or a number of bytes >= 0."""
    if decode_cache == "auto":
        return int(min(available_memory() * BANK_MEMORY_SHARE, BANK_AUTO_LIMIT))
    if is_int(decode_cache) and int(cast(int, decode_cache)) >= 0:
        return int(cast(int, decode_cache))
    raise ValueError(f"decode_cache must be 'auto' or a number of bytes >= 0 (0 disables), got {decode_cache!r}")


def bank_members(quotas: np.ndarray, class_counts: np.ndarray, labels: np.ndarray, capacity: int) -> np.ndarray:
    """Samples drawn more than once per epoch on average, most-drawn classes first, at most ``capacity``.

    Examples
    --------
    >>> labels = np.array([0, 0, 0, 0, 1, 2])
    >>> bank_members(np.array([4, 4, 4]), np.array([4, 1, 1]), labels, capacity=5).tolist()
    [4, 5]
    """
    draws_per_sample = quotas / np.maximum(class_counts, 1)
    repeated = np.flatnonzero(draws_per_sample > 1)
    if capacity <= 0 or repeated.size == 0:
        return np.empty(0, dtype=np.int64)
    order = repeated[np.argsort(-draws_per_sample[repeated], kind="stable")]
    # Each class's members in index order, from one stable sort (not a scan of all labels per class).
    by_class = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[by_class], np.arange(len(quotas) + 1))
    members = np.concatenate([by_class[bounds[c] : bounds[c + 1]] for c in order])
    return members[:capacity].astype(np.int64)


def repeated_members(expected_counts: np.ndarray, capacity: int) -> np.ndarray:
    """Samples expected more than once per epoch, most-drawn first, at most ``capacity`` (for a
    sampler without classes, as for label sets).

    Examples
    --------
    >>> repeated_members(np.array([1.0, 2.5, 1.5, 0.5]), capacity=5).tolist()
    [1, 2]
    """
    repeated = np.flatnonzero(expected_counts > 1)
    if capacity <= 0 or repeated.size == 0:
        return np.empty(0, dtype=np.int64)
    order = repeated[np.argsort(-expected_counts[repeated], kind="stable")]
    return order[:capacity].astype(np.int64)


@dataclass
class DecodeBank:
    """Decoded images of some samples, and where each sample's image is (-1: not in the bank)."""

    slot_of: np.ndarray  #: int64 per sample: its row in ``images``, or -1
    images: tf.Tensor | tf.Variable | None  #: uint8 [members, H, W, C], None when empty

    @property
    def size(self) -> int:
        return 0 if self.images is None else int(self.images.shape[0])


def decode_pass(
    paths: np.ndarray, image_size: ImageSize, *, keep: bool, progress: bool, desc: str
) -> tuple[np.ndarray | None, np.ndarray]:
    """Decodes every file of ``paths`` once, in parallel (one tf.data pass), to ``image_size`` (an
    `ImageSpec` or ``(height, width)``).

    Returns the images (uint8 [len(paths), H, W, C], where ``keep``; rows of files that failed are
    zeros) and a boolean mask of the files that failed to load: a failure drops its element
    (``ignore_errors``) instead of ending the pass, and the numbers of the files that came through
    tell which.
    """
    spec = as_image_spec(image_size)
    count = len(paths)
    images = np.zeros((count, *spec.shape), dtype=np.uint8) if keep else None
    arrived = np.zeros(count, dtype=bool)
    if count == 0:
        return images, ~arrived

    def load(number: tf.Tensor, path: tf.Tensor) -> tuple[tf.Tensor, ...]:
        image = decode_resized(tf.io.read_file(path), spec)
        # Without keep, only the verdict is wanted; a value of the image is still returned, since a
        # decode that nothing reads (a control dependency alone) may be pruned from the graph.
        return number, image if keep else tf.reduce_max(image)

    files = tf.data.Dataset.from_tensor_slices((np.arange(count, dtype=np.int64), file_names(paths)))
    batches = files.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False).ignore_errors()
    batches = batches.batch(64).prefetch(2)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, total=-(-count // 64), desc=desc, unit="batch")
    for batch in batches:
        numbers = batch[0].numpy()
        arrived[numbers] = True
        if images is not None:
            images[numbers] = batch[1].numpy()
    return images, ~arrived


def load_failure(path: str, image_size: ImageSize) -> str:
    """Why a file that failed to load did: `check_image_file`'s reason, else the decoder's message
    (from decoding it again, eagerly)."""
    reason = check_image_file(path)
    if reason is not None:
        return reason
    try:
        decode_resized(tf.io.read_file(os.fsencode(path)), image_size)
    except tf.errors.OpError as error:
        message = re.sub(r"\{\{[^}]*\}\}|\[Op:\w+\]", "", error.message).strip()
        return f"TensorFlow cannot decode it ({message})"
    return "failed to load, then loaded (changed while it was read?)"


def unloadable(message: str, failures: dict[str, str], hint: str) -> tf.errors.InvalidArgumentError:
    """The error for files that failed to load: each named with its reason, then ``hint``."""
    listed = "; ".join(f"{printable(path)}: {reason}" for path, reason in list(failures.items())[:10])
    more = f"; and {len(failures) - 10} more" if len(failures) > 10 else ""
    return tf.errors.InvalidArgumentError(None, None, f"fast_balance: {message}: {listed}{more}. {hint}")


def build_bank(
    paths: np.ndarray,
    members: np.ndarray,
    image_size: ImageSize,
    *,
    constant: bool,
    progress: bool,
    hint: str = SKIP_HINT,
) -> DecodeBank:
    """Decodes ``members`` into a bank; ``constant`` makes it a graph constant (for graphs without
    resource variables, as the tf.data service needs), else a non-trainable variable.

    A member that cannot be loaded is an ``InvalidArgumentError`` naming it, its reason and ``hint``.
    """
    slot_of = np.full(paths.size, -1, dtype=np.int64)
    if members.size == 0:
        return DecodeBank(slot_of, None)
    decoded, failed = decode_pass(paths[members], image_size, keep=True, progress=progress, desc="decode bank")
    if failed.any():
        failures = {path: load_failure(path, image_size) for path in dict.fromkeys(paths[members][failed])}
        raise unloadable("cannot load image files for the decode bank", failures, hint)
    slot_of[members] = np.arange(members.size)
    images = tf.constant(decoded) if constant else tf.Variable(decoded, trainable=False, name="decode_bank")
    return DecodeBank(slot_of, images)
