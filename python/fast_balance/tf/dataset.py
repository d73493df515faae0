"""balanced_dataset / from_directory: balanced, augmented image batches as a tf.data.Dataset."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Sequence, Union

import numpy as np
import tensorflow as tf

from ..files import check_image_files, list_image_files
from ..sampler import BalancedIndexSampler
from .augment import augment_batch
from .decode import load_image

AugmentPolicy = Union[str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]]
AUGMENT_POLICIES = ("repeats", "all", "none")
ON_ERROR = ("raise", "skip")

# The decode bank takes at most this share of the memory available when it is built.
_BANK_MEMORY_SHARE = 0.25
_BANK_AUTO_LIMIT = 4 << 30


@dataclass
class PipelineReport:
    """What a balanced dataset did: the decode bank, and the files it skipped."""

    bank_images: int = 0  #: images held decoded in memory
    bank_bytes: int = 0
    bank_hit_rate: float = 0.0  #: share of the last epoch's samples served from the bank
    skipped: dict = field(default_factory=dict)  #: {path: reason} of files replaced by another draw
    epochs_started: int = 0

    def __str__(self) -> str:
        return (
            f"decode bank: {self.bank_images:,} images, {self.bank_bytes / 2**20:,.1f} MiB, "
            f"hit rate {self.bank_hit_rate:.1%} of the last epoch; skipped files: {len(self.skipped)}"
        )


def _available_memory() -> int:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2 << 30


def _bank_budget(decode_cache) -> int:
    if decode_cache == "auto":
        return int(min(_available_memory() * _BANK_MEMORY_SHARE, _BANK_AUTO_LIMIT))
    if isinstance(decode_cache, (int, np.integer)) and not isinstance(decode_cache, bool) and decode_cache >= 0:
        return int(decode_cache)
    raise ValueError(f"decode_cache must be 'auto' or a number of bytes >= 0 (0 disables), got {decode_cache!r}")


def _bank_members(sampler: BalancedIndexSampler, labels: np.ndarray, capacity: int) -> np.ndarray:
    """Samples drawn more than once per epoch on average, most-drawn classes first, up to `capacity`."""
    draws_per_sample = sampler.quotas / np.maximum(sampler.class_counts, 1)
    repeated = np.flatnonzero(draws_per_sample > 1)
    if capacity <= 0 or repeated.size == 0:
        return np.empty(0, dtype=np.int64)
    order = repeated[np.argsort(-draws_per_sample[repeated], kind="stable")]
    # Each class's members in index order, from one stable sort (not a scan of all labels per class).
    by_class = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[by_class], np.arange(sampler.num_classes + 1))
    members = np.concatenate([by_class[bounds[c] : bounds[c + 1]] for c in order])
    return members[:capacity]


def _build_bank(paths: np.ndarray, members: np.ndarray, image_size, progress: bool) -> np.ndarray:
    height, width = image_size
    bank = np.empty((members.size, height, width, 3), dtype=np.uint8)
    files = tf.data.Dataset.from_tensor_slices(paths[members]).map(
        lambda path: load_image(path, image_size), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    batches = files.batch(64).prefetch(2)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, total=-(-members.size // 64), desc="decode bank", unit="batch")
    position = 0
    for batch in batches:
        bank[position : position + batch.shape[0]] = batch.numpy()
        position += batch.shape[0]
    return bank


def _substitutes(labels: np.ndarray, bad: np.ndarray, seed: int) -> np.ndarray:
    """For every sample, itself if readable, else a readable sample of the same class."""
    substitute = np.arange(labels.size, dtype=np.int64)
    if not bad.any():
        return substitute
    rng = np.random.default_rng(seed)
    for c in np.unique(labels[bad]):
        good = np.flatnonzero((labels == c) & ~bad)
        broken = np.flatnonzero((labels == c) & bad)
        if good.size == 0:
            raise ValueError(f"class {c} has no readable image left ({broken.size} files failed the check)")
        substitute[broken] = rng.choice(good, size=broken.size)
    return substitute


def _augment_device(requested: str | None) -> str | None:
    """Where the batched augmentation runs: ``None`` means inside the CPU input pipeline."""
    if requested == "auto":
        return "/GPU:0" if tf.config.list_logical_devices("GPU") else None
    if requested is None or (isinstance(requested, str) and requested.strip()):
        return requested
    raise ValueError(f"augment_device must be 'auto', None or a device name such as '/GPU:0', got {requested!r}")


def balanced_dataset(
    paths: Sequence[str],
    labels,
    *,
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    sampler: BalancedIndexSampler | None = None,
    augment: AugmentPolicy = "repeats",
    augment_options: dict | None = None,
    augment_device: str | None = "auto",
    decode_cache: Union[str, int] = "auto",
    on_error: str = "raise",
    seed: int = 0,
    progress: bool = True,
    input_context: tf.distribute.InputContext | None = None,
    epochs: int | None = None,
    with_indices: bool = False,
    **sampler_options,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of balanced ``(images float32 [B, H, W, 3] in [0, 1], labels int32 [B])``.

    Each pass over the dataset (each Keras epoch) is the sampler's next epoch, so
    ``model.fit(ds, epochs=3)`` sees three different balanced epochs; ``len(ds)`` is the number of
    batches per epoch.

    Parameters
    ----------
    paths : sequence of str
        Image files (JPEG, PNG, BMP, GIF). JPEGs much larger than ``image_size`` are decoded at
        reduced scale.
    labels : array_like of int
        Class of each path.
    image_size : (height, width)
    batch_size : int
    sampler : BalancedIndexSampler, optional
        Built from ``labels`` with ``batch_size``, ``seed`` and ``sampler_options`` (``target``,
        ``samples_per_epoch``, ``replacement``, ``num_shards``, ``shard_index``...) when not given.
    augment : "repeats", "all", "none" or callable
        ``"repeats"``: augment oversampled duplicates (sampler ``repeats >= 1``) and leave first
        views clean. ``"all"``, ``"none"``, or ``fn(images, mask) -> images`` (for example Keras
        preprocessing layers applied where ``mask``). Augmentation is batched (whole-batch ops,
        per-sample parameters: flip, brightness, contrast, saturation, random resized crop) and
        runs on ``/GPU:0`` when a GPU is visible (see the README for how to verify), else on the CPU.
    augment_options : dict, optional
        Keyword arguments of `augment_batch` (``crop``, ``flip``, ``brightness``, ``contrast``,
        ``saturation``), e.g. ``{"crop": False}``.
    augment_device : "auto", None or str
        ``"auto"``: ``/GPU:0`` when a GPU is visible, else the CPU. A device name copies each
        batch there (``tf.data.experimental.copy_to_device``) and runs the augmentation on it;
        None keeps it in the CPU input pipeline. ``ds.augment_device`` tells what was chosen.
    decode_cache : "auto", int
        Byte budget of the decode bank: samples drawn more than once per epoch are decoded once
        and kept in memory as uint8. ``"auto"``: a quarter of the available memory, at most 4 GiB;
        0 disables.
    on_error : "raise" or "skip"
        ``"raise"``: a missing or unreadable file fails with its path (missing files before any
        work). ``"skip"``: files failing a header check are replaced by another draw of the same
        class, so balance holds; they are listed in ``ds.report.skipped``.
    seed : int
        Seeds the sampler (when built here) and the augmentation.
    progress : bool
        Progress bars while checking files and filling the decode bank.
    input_context : tf.distribute.InputContext, optional
        From ``strategy.distribute_datasets_from_function``: this input pipeline reads shard
        ``input_pipeline_id`` of ``num_input_pipelines`` (disjoint; together exactly the global
        epoch; each shard's batches stratified). ``batch_size`` is then the per-replica batch,
        ``input_context.get_per_replica_batch_size(global_batch_size)``.
    epochs : int, optional
        None (default): every pass over the dataset asks the sampler for its next epoch, through
        one ``tf.numpy_function`` call per pass. An int: the next ``epochs`` epochs are computed
        now and held in the graph as tensors, one pass covers them all, and the graph holds no
        Python callback, as ``tf.data.experimental.service`` needs. The decode bank is then a
        graph constant, off unless ``decode_cache`` is a number of bytes.
    with_indices : bool
        Yield ``(images, labels, indices)``, the sample index of every image, for audits and
        custom training loops (``model.fit`` would take the third element as sample weights).

    Returns
    -------
    tf.data.Dataset
        With attributes ``sampler``, ``report`` (a `PipelineReport`), ``batch_size``,
        ``augment_device``, ``start_state`` (the sampler state its first batch comes from) and
        ``remainder``. A sampler whose position is inside an epoch (``load_state_dict`` when
        resuming) makes ``remainder`` a dataset of the rest of that epoch, and the dataset itself
        starts at the next epoch, so every pass keeps a fixed length (Keras needs that); otherwise
        ``remainder`` is None. With ``epochs``, the rest of the epoch simply comes first.

    Examples
    --------
    >>> ds = balanced_dataset(paths, labels, image_size=(128, 128), batch_size=64)
    >>> model.fit(ds, epochs=3)
    """
    paths = np.asarray([os.fspath(p) for p in paths], dtype=object)
    labels = np.asarray(labels)
    if paths.size == 0:
        raise ValueError("paths is empty")
    if labels.ndim != 1 or labels.shape[0] != paths.size:
        raise ValueError(f"paths and labels differ in length: {paths.size} paths, {labels.shape} labels")
    if len(image_size) != 2 or any(int(s) < 1 for s in image_size):
        raise ValueError(f"image_size must be (height, width) of positive ints, got {image_size!r}")
    image_size = (int(image_size[0]), int(image_size[1]))
    if not (isinstance(augment, str) and augment in AUGMENT_POLICIES) and not callable(augment):
        raise ValueError(f"augment must be one of {AUGMENT_POLICIES} or a callable(images, mask), got {augment!r}")
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    budget = 0 if (epochs is not None and decode_cache == "auto") else _bank_budget(decode_cache)
    device = _augment_device(augment_device)
    augment_options = dict(augment_options or {})
    unknown = set(augment_options) - {"crop", "flip", "brightness", "contrast", "saturation"}
    if unknown:
        raise ValueError(f"augment_options: unknown {sorted(unknown)}")

    if epochs is not None and (not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 1):
        raise ValueError(f"epochs must be None (a new epoch per pass) or a positive int, got {epochs!r}")
    if input_context is not None:
        shards = {"num_shards": input_context.num_input_pipelines, "shard_index": input_context.input_pipeline_id}
        clash = {"num_shards", "shard_index"} & set(sampler_options)
        if clash:
            raise TypeError(f"give input_context or {sorted(clash)}, not both")
        if sampler is not None and (sampler.num_shards, sampler.shard_index) != tuple(shards.values()):
            raise ValueError(
                f"the sampler is shard {sampler.shard_index} of {sampler.num_shards}, the input context asks for "
                f"{shards['shard_index']} of {shards['num_shards']}"
            )
        if sampler is None:
            sampler_options.update(shards)
    if sampler is None:
        sampler = BalancedIndexSampler(labels, batch_size=batch_size, seed=seed, **sampler_options)
    elif sampler_options:
        raise TypeError(f"pass sampler options to the sampler, not here: {sorted(sampler_options)}")
    if len(sampler.class_counts) and int(sampler.class_counts.sum()) != paths.size:
        raise ValueError(f"the sampler was built for {int(sampler.class_counts.sum())} samples, not {paths.size}")
    if sampler.batch_size not in (None, batch_size):
        raise ValueError(f"batch_size {batch_size} differs from the sampler's {sampler.batch_size}")
    if sampler.position % batch_size:
        raise ValueError(f"the sampler's position {sampler.position} is not a whole number of batches of {batch_size}")
    if len(sampler) % batch_size:
        raise ValueError(f"the sampler's {len(sampler)} samples per epoch are not whole batches of {batch_size}; "
                         "build it with batch_size")

    report = PipelineReport()
    if on_error == "raise":
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            listed = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise FileNotFoundError(f"{len(missing)} image files are missing: {listed}")
        substitute = None
    else:
        report.skipped = check_image_files(list(paths), progress=progress)
        bad = np.isin(paths, list(report.skipped)) if report.skipped else np.zeros(paths.size, bool)
        substitute = _substitutes(labels.astype(np.int64), bad, seed) if bad.any() else None

    height, width = image_size
    members = _bank_members(sampler, labels, budget // (height * width * 3))
    if substitute is not None:
        members = members[substitute[members] == members]
    bank_slot = np.full(paths.size, -1, dtype=np.int64)
    bank_slot[members] = np.arange(members.size)
    bank = None
    if members.size:
        decoded = _build_bank(paths, members, image_size, progress)
        # With `epochs`, the graph must stand alone (no resource variables): the bank is a constant.
        bank = tf.constant(decoded) if epochs is not None else tf.Variable(decoded, trainable=False, name="decode_bank")
        report.bank_images, report.bank_bytes = int(members.size), int(members.size * height * width * 3)

    start_epoch, start_position = sampler.current_epoch, sampler.position
    samples_per_shard = len(sampler)

    def draw(epoch: int, start: int) -> tuple[np.ndarray, ...]:
        """One epoch's elements from ``start`` on, as the vectors the reading stage takes."""
        drawn = sampler.epoch(epoch, start)
        indices, repeats = drawn.indices, drawn.repeats
        if substitute is not None:
            replaced = substitute[indices] != indices
            indices = substitute[indices]
            repeats = np.where(replaced, np.maximum(repeats, 1), repeats).astype(np.int32)
        slots = bank_slot[indices]
        report.bank_hit_rate = float(np.mean(slots >= 0)) if slots.size else 0.0
        report.epochs_started += 1
        # (epoch, batch of the epoch) seeds the augmentation, so a resumed run repeats it exactly.
        batch_numbers = np.arange(start, samples_per_shard, dtype=np.int64) // batch_size
        epoch_numbers = np.full(indices.size, epoch, dtype=np.int64)
        return indices, drawn.labels, repeats, slots, epoch_numbers, batch_numbers

    def materialized(parts: list[tuple[np.ndarray, ...]]) -> tf.data.Dataset:
        """Fixed rows as constant tensors: no Python in the graph, a length known without running
        it, and a split of the source (tf.data service) is a whole stratified batch."""
        return tf.data.Dataset.from_tensor_slices(
            tuple(np.concatenate(column).reshape(-1, batch_size) for column in zip(*parts))
        )

    remainder_parts = None
    if epochs is None:
        if start_position:  # resuming inside an epoch: its rest is a dataset of its own (below)
            remainder_parts = [draw(start_epoch, start_position)]
            sampler.set_epoch(start_epoch + 1)
        element_types = [tf.int64, tf.int32, tf.int32, tf.int64, tf.int64, tf.int64]

        # One Python call per pass over the dataset returns the whole epoch, as rows of one batch
        # each; no per-sample Python.
        def next_epoch():
            epoch = sampler.current_epoch
            vectors = draw(epoch, 0)
            sampler.set_epoch(epoch + 1)
            return vectors

        def epoch_elements(_):
            vectors = tf.numpy_function(next_epoch, [], element_types, stateful=True)
            return tf.data.Dataset.from_tensor_slices(tuple(tf.reshape(v, [-1, batch_size]) for v in vectors))

        source = tf.data.Dataset.from_tensors(0).flat_map(epoch_elements)
        num_batches = samples_per_shard // batch_size
        first_state = (sampler.current_epoch, 0)
    else:
        parts = [draw(start_epoch + e, start_position if e == 0 else 0) for e in range(epochs)]
        sampler.set_epoch(start_epoch + epochs)
        source = materialized(parts)
        num_batches = None
        first_state = (start_epoch, start_position)

    path_table = tf.constant(paths.astype(str))
    check = on_error == "raise"

    seed_value = int(seed)

    def finish(images, batch_labels, repeats, indices, epoch_numbers, batch_numbers):
        mask = tf.ones_like(repeats, tf.bool) if augment == "all" else repeats >= 1
        if augment == "none":
            images = tf.cast(images, tf.float32) / 255.0
        elif callable(augment):
            images = augment(tf.cast(images, tf.float32) / 255.0, mask)
        else:  # takes the uint8 batch: the conversion rides along with the first augmentation op
            batch_seed = tf.stack([tf.bitwise.bitwise_xor(epoch_numbers[0], seed_value), batch_numbers[0]])
            images = augment_batch(images, mask, batch_seed, **augment_options)
        return (images, batch_labels, indices) if with_indices else (images, batch_labels)

    image_spec = tf.TensorSpec([height, width, 3], tf.uint8)

    def decode(which):
        return tf.map_fn(lambda index: load_image(tf.gather(path_table, index), image_size, check), which,
                         fn_output_signature=image_spec, parallel_iterations=batch_size)

    def load_row(indices, labels, repeats, slots, epoch_numbers, batch_numbers):
        """A whole batch: banked images in one gather, the others read and decoded."""
        if bank is None:
            images = decode(indices)
        else:
            banked = tf.cast(slots >= 0, tf.int32)
            positions = tf.dynamic_partition(tf.range(batch_size), banked, 2)
            slot_parts = tf.dynamic_partition(slots, banked, 2)
            index_parts = tf.dynamic_partition(indices, banked, 2)
            images = tf.dynamic_stitch(positions, [decode(index_parts[0]), tf.gather(bank, slot_parts[1])])
        images = tf.ensure_shape(images, [batch_size, height, width, 3])
        return images, labels, repeats, indices, epoch_numbers, batch_numbers

    def pipeline(source: tf.data.Dataset, batches: int | None, state: tuple[int, int]) -> tf.data.Dataset:
        """Reading and augmentation of a stream of rows (whole batches); `batches` asserts its
        length where the source cannot know it."""
        # Whole batches per call: one gather from the bank instead of a call per image.
        dataset = source.map(load_row, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if device is not None:
            dataset = dataset.apply(tf.data.experimental.copy_to_device(device))
            with tf.device(device):
                dataset = dataset.map(finish)
        else:
            dataset = dataset.map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if batches is not None:
            dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
        dataset = dataset.prefetch(tf.data.AUTOTUNE)
        dataset.sampler = sampler
        dataset.report = report
        dataset.augment_device = device
        dataset.batch_size = batch_size
        dataset.start_state = {"seed": sampler.seed, "epoch": state[0], "position": state[1]}
        return dataset

    dataset = pipeline(source, num_batches, first_state)
    dataset.remainder = None
    if remainder_parts is not None:
        dataset.remainder = pipeline(materialized(remainder_parts), None, (start_epoch, start_position))
    return dataset


def from_directory(directory, **options) -> tf.data.Dataset:
    """`balanced_dataset` over a folder of class sub-folders, as ``keras.utils.image_dataset_from_directory``.

    Class names are the sorted sub-folder names; files ending in .jpg, .jpeg, .png, .bmp or .gif
    are used. The returned dataset also has ``class_names`` and ``file_paths``.

    Examples
    --------
    >>> ds = from_directory("parts/", image_size=(128, 128), batch_size=64)
    >>> ds.class_names
    ['crack', 'normal', 'scratch']
    """
    paths, labels, class_names = list_image_files(directory)
    dataset = balanced_dataset(paths, labels, **options)
    dataset.class_names = class_names
    dataset.file_paths = paths
    return dataset
