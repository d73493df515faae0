"""balanced_dataset / from_directory: balanced, augmented image batches as a tf.data.Dataset.

The pipeline is composed of stages kept in their own modules: the rows of each pass (`source`),
the decode bank (`bank`), reading (`reading`), augmentation (`augment`) and its placement
(`placement`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from .._checks import ON_ERROR, check_choice, check_int, check_seed
from ..files import check_image_files, check_readable, list_image_files, substitutes
from ..sampler import BalancedIndexSampler, SamplesPerEpoch
from ..weights import Target
from .augment import AugmentPolicy, apply_policy, batch_key, check_policy, check_value_range
from .bank import DecodeBank, bank_budget, bank_members, build_bank, decode_pass, load_failure
from .decode import CHANGED_HINT, SKIP_HINT
from .placement import augment_device as resolve_device
from .placement import map_on_device
from .reading import batch_reader
from .source import RowMaker, counted_passes, fixed_rows


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

    def epoch_started(self, hit_rate: float) -> None:
        self.bank_hit_rate = hit_rate
        self.epochs_started += 1


def _sampler_for(
    labels: np.ndarray,
    sampler: BalancedIndexSampler | None,
    batch_size: int,
    seed: int,
    input_context: tf.distribute.InputContext | None,
    options: dict,
    num_samples: int,
) -> BalancedIndexSampler:
    """The sampler given, checked against the other arguments, or one built from them."""
    shards = dict(num_shards=options.pop("num_shards"), shard_index=options.pop("shard_index"))
    if input_context is not None:
        if shards != {"num_shards": 1, "shard_index": 0}:
            raise TypeError("give input_context or num_shards/shard_index, not both")
        shards = {"num_shards": input_context.num_input_pipelines, "shard_index": input_context.input_pipeline_id}
    if sampler is None:
        return BalancedIndexSampler(labels, batch_size=batch_size, seed=seed, **shards, **options)
    if not isinstance(sampler, BalancedIndexSampler):
        raise TypeError(f"sampler must be a fast_balance.BalancedIndexSampler, got {type(sampler).__name__}")
    if (sampler.num_shards, sampler.shard_index) != (shards["num_shards"], shards["shard_index"]):
        raise ValueError(
            f"the sampler is shard {sampler.shard_index} of {sampler.num_shards}, the arguments ask for "
            f"{shards['shard_index']} of {shards['num_shards']}"
        )
    if int(sampler.class_counts.sum()) != num_samples:
        raise ValueError(f"the sampler was built for {int(sampler.class_counts.sum())} samples, not {num_samples}")
    if sampler.batch_size != batch_size:
        raise ValueError(f"batch_size {batch_size} differs from the sampler's {sampler.batch_size}")
    return sampler


def balanced_dataset(
    paths: Sequence[str],
    labels,
    *,
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    value_range: tuple[float, float] = (0, 255),
    target: Target = "balanced",
    samples_per_epoch: SamplesPerEpoch = "max",
    replacement: bool = False,
    num_shards: int = 1,
    shard_index: int = 0,
    sampler: BalancedIndexSampler | None = None,
    augment: AugmentPolicy = "repeats",
    augment_options: dict | None = None,
    augment_device: str | None = "auto",
    decode_cache: str | int = "auto",
    on_error: str = "raise",
    seed: int = 0,
    progress: bool = True,
    input_context: tf.distribute.InputContext | None = None,
    initial_epoch: int = 0,
    epochs: int | None = None,
    with_indices: bool = False,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of balanced ``(images float32 [B, H, W, 3], labels int32 [B])``.

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
    value_range : (low, high)
        Pixel values are float32 in this range: (0, 255) by default, as
        ``keras.utils.image_dataset_from_directory`` gives them (a ``Rescaling(1 / 255)`` layer or a
        Keras Applications model's own preprocessing then sees what it expects); (0, 1) or
        (-1, 1) map linearly.
    target : str, float, sequence, array or dict
        As `fast_balance.BalancedIndexSampler`, which is built from ``labels`` with this and the
        four below, ``batch_size`` and ``seed``.
    samples_per_epoch : {"max", "min", "n"} or int
        As `fast_balance.BalancedIndexSampler`. The default, ``"max"``, draws every class as
        often as the largest one has samples: an epoch is longer than one pass over the files.
    replacement : bool
        As `fast_balance.BalancedIndexSampler`.
    num_shards : int
        As `fast_balance.BalancedIndexSampler`.
    shard_index : int
        As `fast_balance.BalancedIndexSampler`.
    sampler : BalancedIndexSampler, optional
        A sampler to use instead (its batch size, shard and samples must match).
    augment : "repeats", "all", "none" or callable
        ``"repeats"``: augment oversampled duplicates (sampler ``repeats >= 1``) and leave first
        views clean. ``"all"``, ``"none"``, or ``fn(images, mask) -> images`` (for example Keras
        preprocessing layers applied where ``mask``). Augmentation is batched (whole-batch ops,
        per-sample parameters: flip, brightness, contrast, saturation, random resized crop).
    augment_options : dict, optional
        Keyword arguments of `augment_batch` (``crop``, ``flip``, ``brightness``, ``contrast``,
        ``saturation``), e.g. ``{"flip": False}`` for digits or text.
    augment_device : "auto", None or str
        ``"auto"``: ``/GPU:0`` when a GPU is visible, else the CPU input pipeline. A device name
        copies each batch there (``tf.data.experimental.copy_to_device``) and augments there;
        None keeps it in the CPU input pipeline. ``ds.augment_device`` tells what was chosen.
    decode_cache : "auto", int
        Byte budget of the decode bank: samples drawn more than once per epoch are decoded once
        and kept in memory as uint8. ``"auto"``: a quarter of the available memory, at most 4 GiB;
        0 disables.
    on_error : "raise" or "skip"
        ``"raise"``: a file that cannot be loaded fails with its path, the reason and this advice
        (``InvalidArgumentError``, where the pipeline or the decode bank meets it; a missing file
        or a folder before any work, ``FileNotFoundError``). ``"skip"``: every file is checked
        (`fast_balance.files.check_image_file`) and decoded once while the dataset is built (a
        progress bar); files failing either are replaced by another draw of the same class, so
        balance holds, and listed in ``ds.report.skipped`` with the reason. A file that changes
        afterwards and fails still raises, with its path (not when, after loading once, it
        changes in place to the same length: `fast_balance.tf.reading`).
    seed : int
        Seeds the sampler (when built here) and the augmentation; any int in [0, 2**64).
    progress : bool
        Progress bars while checking files and filling the decode bank.
    input_context : tf.distribute.InputContext, optional
        From ``strategy.distribute_datasets_from_function``: this input pipeline reads shard
        ``input_pipeline_id`` of ``num_input_pipelines`` (disjoint; together exactly the global
        epoch; each shard's batches stratified). ``batch_size`` is then the per-replica batch,
        ``input_context.get_per_replica_batch_size(global_batch_size)``.
    initial_epoch : int
        The sampler epoch of the first pass.
    epochs : int, optional
        None (default): every pass computes its epoch when it begins (one NumPy call per pass).
        An int: the ``epochs`` epochs from ``initial_epoch`` on are computed now and held in the
        graph as tensors, one pass covers them all, and the graph holds no Python callback, as
        ``tf.data.experimental.service`` needs. The decode bank is then a graph constant, off
        unless ``decode_cache`` is a number of bytes.
    with_indices : bool
        Yield ``(images, labels, indices)``, the sample index of every image, for audits and
        custom training loops (``model.fit`` would take the third element as sample weights).

    Returns
    -------
    tf.data.Dataset
        With attributes ``sampler``, ``report`` (a `PipelineReport`), ``batch_size``,
        ``augment_device``, ``next_epoch`` (a ``tf.Variable``: the sampler epoch the next pass
        reads; None with ``epochs``), ``pinned`` (a boolean ``tf.Variable``: passes read
        ``next_epoch`` without advancing it), ``first_epoch`` and ``epochs_per_pass``, and
        ``rest_of_epoch(epoch, position)``, a dataset of one epoch from a sample position on
        (what a resumed run trains first; see `InputCheckpoint`).

    Examples
    --------
    >>> ds = balanced_dataset(paths, labels, image_size=(64, 64), batch_size=12, progress=False)
    >>> images, labels = next(iter(ds))
    >>> images.shape.as_list(), np.bincount(labels.numpy()).tolist()
    ([12, 64, 64, 3], [4, 4, 4])
    """
    paths = np.asarray([os.fspath(p) for p in paths], dtype=object)
    labels = np.asarray(labels)
    if paths.size == 0:
        raise ValueError("paths is empty")
    if labels.ndim != 1 or labels.shape[0] != paths.size:
        raise ValueError(f"paths and labels differ in length: {paths.size} paths, {labels.shape} labels")
    if len(image_size) != 2 or any(check_int("image_size", s) < 1 for s in image_size):
        raise ValueError(f"image_size must be (height, width) of positive ints, got {image_size!r}")
    image_size = (int(image_size[0]), int(image_size[1]))
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_seed(seed)
    initial_epoch = check_int("initial_epoch", initial_epoch, minimum=0)
    augment_options = check_policy(augment, augment_options)
    value_range = check_value_range(value_range)
    check_choice("on_error", on_error, ON_ERROR)
    if epochs is not None:
        epochs = check_int("epochs", epochs, minimum=1)
    budget = 0 if (epochs is not None and decode_cache == "auto") else bank_budget(decode_cache)
    device = resolve_device(augment_device)
    options = dict(target=target, samples_per_epoch=samples_per_epoch, replacement=replacement,
                   num_shards=num_shards, shard_index=shard_index)
    sampler = _sampler_for(labels, sampler, batch_size, seed, input_context, options, paths.size)

    report = PipelineReport()
    if on_error == "raise":
        unreadable = {p: reason for p in dict.fromkeys(paths) if (reason := check_readable(p)) is not None}
        if unreadable:
            listed = "; ".join(f"{p}: {reason}" for p, reason in list(unreadable.items())[:5])
            more = f"; and {len(unreadable) - 5} more" if len(unreadable) > 5 else ""
            raise FileNotFoundError(f"{len(unreadable)} image files cannot be read: {listed}{more}. {SKIP_HINT}")
        substitute, hint = None, SKIP_HINT
    else:
        # The structure check first (reasons worth reading), then one decode of every file that
        # passes it, so that what iteration decodes is known to decode.
        report.skipped = check_image_files(paths, progress=progress)
        passed = paths[np.fromiter((p not in report.skipped for p in paths), bool, paths.size)]
        _, failed = decode_pass(passed, image_size, keep=False, progress=progress, desc="decoding images")
        report.skipped.update({p: load_failure(p, image_size) for p in dict.fromkeys(passed[failed])})
        bad = np.fromiter((p in report.skipped for p in paths), bool, paths.size)
        substitute = None
        if bad.any():
            substitute = substitutes(labels.astype(np.int64), bad, seed, paths=list(paths), reasons=report.skipped)
        hint = CHANGED_HINT

    height, width = image_size
    members = bank_members(sampler.quotas, sampler.class_counts, labels, budget // (height * width * 3))
    if substitute is not None:
        members = members[substitute[members] == members]
    bank: DecodeBank = build_bank(paths, members, image_size, constant=epochs is not None, progress=progress)
    report.bank_images, report.bank_bytes = bank.size, bank.size * height * width * 3

    maker = RowMaker(sampler, bank.slot_of, substitute, on_epoch=report.epoch_started)
    read = batch_reader(paths, image_size, batch_size, bank, check=True, hint=hint, remember=epochs is None)

    def finish(images, batch_labels, repeats, indices, epoch, batch):
        images = apply_policy(images, repeats, batch_key(seed, epoch, batch), augment, augment_options, value_range)
        return (images, batch_labels, indices) if with_indices else (images, batch_labels)

    def pipeline(rows: tf.data.Dataset, batches: int | None) -> tf.data.Dataset:
        """Reading and augmentation of a stream of rows; ``batches`` asserts a length that the
        rows cannot know."""
        dataset = rows.map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        dataset = map_on_device(dataset, device, finish)
        if batches is not None:
            dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
        dataset = dataset.prefetch(tf.data.AUTOTUNE)
        dataset.sampler = sampler
        dataset.report = report
        dataset.augment_device = device
        dataset.batch_size = batch_size
        return dataset

    def rest_of_epoch(epoch: int, position: int) -> tf.data.Dataset:
        epoch = check_int("epoch", epoch, minimum=0)
        position = check_int("position", position, minimum=0, maximum=len(sampler))
        if position % batch_size:
            raise ValueError(f"position {position} is not a whole number of batches of {batch_size}")
        return pipeline(fixed_rows(maker, [(epoch, position)]), None)

    if epochs is None:
        next_epoch = tf.Variable(initial_epoch, dtype=tf.int64, trainable=False, name="next_epoch")
        pinned = tf.Variable(False, trainable=False, name="pinned")
        dataset = pipeline(counted_passes(maker, next_epoch, pinned), sampler.num_batches)
        dataset.epochs_per_pass = 1
    else:
        next_epoch = pinned = None
        dataset = pipeline(fixed_rows(maker, [(initial_epoch + e, 0) for e in range(epochs)]), None)
        dataset.epochs_per_pass = epochs
    dataset.next_epoch = next_epoch
    dataset.pinned = pinned
    dataset.first_epoch = initial_epoch
    dataset.rest_of_epoch = rest_of_epoch
    return dataset


def from_directory(directory, **options) -> tf.data.Dataset:
    """`balanced_dataset` over a folder of class sub-folders, as ``keras.utils.image_dataset_from_directory``.

    Class names are the sorted sub-folder names; files ending in .jpg, .jpeg, .png, .bmp or .gif
    are used. The returned dataset also has ``class_names`` and ``file_paths``.

    Examples
    --------
    >>> ds = from_directory(folder, image_size=(64, 64), batch_size=12, progress=False)
    >>> ds.class_names
    ['class_0', 'class_1', 'class_2']
    """
    paths, labels, class_names = list_image_files(directory)
    dataset = balanced_dataset(paths, labels, **options)
    dataset.class_names = class_names
    dataset.file_paths = paths
    return dataset
