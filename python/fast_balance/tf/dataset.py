"""balanced_dataset: balanced, augmented image batches as a tf.data.Dataset.

The pipeline is composed of stages kept in their own modules: the rows of each pass (`source`),
the files it can read (`screening`), the decode bank (`bank`), reading (`reading`, decoding in
`decode`), augmentation (`augment`) and its placement (`placement`), and the labels' encoding
(`label_mode`). `fast_balance.tf.directory` builds it from a folder, as Keras does.

Labels given as label sets (multi-label) take repeat factor sampling instead of class pools: a
`WeightedIndexSampler` of the LVIS repeat factors, and multi-hot labels gathered in the graph.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

from .._checks import ON_ERROR, check_bool, check_choice, check_int, check_seed, is_number, suggest_keywords
from ..files import substitutes
from ..label_sets import LabelSets, as_label_sets, repeat_factor_weights, repeat_factors
from ..sampler import BalancedIndexSampler, SamplesPerEpoch
from ..weighted_sampler import WeightedIndexSampler
from ..weights import Target
from .augment import AugmentPolicy, apply_policy, batch_key, check_policy, check_value_range
from .bank import DecodeBank, bank_budget, bank_members, build_bank, repeated_members
from .decode import image_spec
from .label_mode import check_label_mode, encode_labels, multi_hot_encoder
from .placement import augment_device as resolve_device
from .placement import map_on_device
from .reading import batch_reader
from .screening import screen_files
from .source import RowMaker, counted_passes, fixed_rows


@dataclass
class PipelineReport:
    """What a balanced dataset did: the decode bank, and the files it skipped."""

    bank_images: int = 0  #: images held decoded in memory
    bank_bytes: int = 0
    bank_hit_rate: float = 0.0  #: share of the last epoch's samples served from the bank
    skipped: dict[str, str] = field(default_factory=dict)  #: {path: reason} of files replaced or left out
    epochs_started: int = 0

    def __str__(self) -> str:
        return (
            f"decode bank: {self.bank_images:,} images, {self.bank_bytes / 2**20:,.1f} MiB, "
            f"hit rate {self.bank_hit_rate:.1%} of the last epoch; skipped files: {len(self.skipped)}"
        )

    def epoch_started(self, hit_rate: float) -> None:
        self.bank_hit_rate = hit_rate
        self.epochs_started += 1


def _is_label_sets(labels: object) -> bool:
    """Whether ``labels`` are label sets (one set of classes per sample) rather than class ids."""
    if isinstance(labels, LabelSets) or (hasattr(labels, "tocsr") and hasattr(labels, "shape")):
        return True
    if isinstance(labels, np.ndarray):
        return labels.ndim == 2
    if isinstance(labels, (list, tuple)):
        return any(isinstance(row, (list, tuple, set, frozenset, range, np.ndarray)) for row in labels)
    return False


def _shards_of(options: dict[str, Any], input_context: tf.distribute.InputContext | None) -> dict[str, Any]:
    shards = dict(num_shards=options.pop("num_shards"), shard_index=options.pop("shard_index"))
    if input_context is not None:
        if shards != {"num_shards": 1, "shard_index": 0}:
            raise TypeError("give input_context or num_shards/shard_index, not both")
        shards = {"num_shards": input_context.num_input_pipelines, "shard_index": input_context.input_pipeline_id}
    return shards


def _check_shard(sampler: BalancedIndexSampler | WeightedIndexSampler, shards: dict[str, int], batch_size: int) -> None:
    if (sampler.num_shards, sampler.shard_index) != (shards["num_shards"], shards["shard_index"]):
        raise ValueError(
            f"the sampler is shard {sampler.shard_index} of {sampler.num_shards}, the arguments ask for "
            f"{shards['shard_index']} of {shards['num_shards']}"
        )
    if sampler.batch_size != batch_size:
        raise ValueError(f"batch_size {batch_size} differs from the sampler's {sampler.batch_size}")


def _repeat_factor_sampler(
    sets: LabelSets,
    sampler: object,
    batch_size: int,
    seed: int,
    input_context: tf.distribute.InputContext | None,
    options: dict[str, Any],
    threshold: object,
) -> WeightedIndexSampler:
    """Repeat factor sampling of label sets: the sampler given, checked, or a `WeightedIndexSampler`
    of the repeat factors with an epoch of their rounded sum."""
    shards = _shards_of(options, input_context)
    target, size = options["target"], options["samples_per_epoch"]
    if not (isinstance(target, str) and target == "balanced"):
        raise ValueError(
            f"labels are label sets: they are balanced by repeat factors, not a target; got target={target!r}")
    if not is_number(threshold) or not (math.isfinite(float(threshold)) and 0 < float(threshold) <= 1):  # type: ignore[arg-type]
        raise ValueError(f"repeat_threshold must be in (0, 1], got {threshold!r}")
    if sampler is not None:
        if not isinstance(sampler, WeightedIndexSampler):
            raise TypeError(f"with label sets, sampler must be a fast_balance.WeightedIndexSampler, got "
                            f"{type(sampler).__name__}")
        if sampler.num_samples != len(sets):
            raise ValueError(f"the sampler was built for {sampler.num_samples} samples, not {len(sets)}")
        _check_shard(sampler, shards, batch_size)
        return sampler
    factors = repeat_factors(sets, float(threshold))  # type: ignore[arg-type]
    if size is None or isinstance(size, str):
        if size not in (None, "max"):
            raise ValueError(f"with label sets, samples_per_epoch is the rounded sum of the repeat factors (the "
                             f"default) or an int, got {size!r}")
        unit = batch_size * shards.get("num_shards", 1)
        weights, size = repeat_factor_weights(factors, unit=unit)  # each image floor or ceil of r(i), exactly
        return WeightedIndexSampler(weights, samples_per_epoch=size, replacement=options["replacement"],
                                    batch_size=batch_size, seed=seed, **shards)
    return WeightedIndexSampler(factors, samples_per_epoch=size, replacement=options["replacement"],
                                batch_size=batch_size, seed=seed, **shards)


def _sampler_for(
    labels: np.ndarray,
    sampler: BalancedIndexSampler | WeightedIndexSampler | None,
    batch_size: int,
    seed: int,
    input_context: tf.distribute.InputContext | None,
    options: dict[str, Any],
    num_samples: int,
) -> BalancedIndexSampler:
    """The sampler given, checked against the other arguments, or one built from them."""
    shards = _shards_of(options, input_context)
    if sampler is None:
        return BalancedIndexSampler(labels, batch_size=batch_size, seed=seed, **shards, **options)
    if not isinstance(sampler, BalancedIndexSampler):
        raise TypeError(f"sampler must be a fast_balance.BalancedIndexSampler, got {type(sampler).__name__}")
    _check_shard(sampler, shards, batch_size)
    if int(sampler.class_counts.sum()) != num_samples:
        raise ValueError(f"the sampler was built for {int(sampler.class_counts.sum())} samples, not {num_samples}")
    return sampler


@suggest_keywords
def balanced_dataset(
    paths: Sequence[str | os.PathLike[str]] | np.ndarray,
    labels: object,
    *,
    image_size: int | tuple[int, int] = (224, 224),
    batch_size: int = 32,
    value_range: tuple[float, float] = (0, 255),
    color_mode: str = "rgb",
    interpolation: str = "bilinear",
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fast_jpeg: bool = True,
    label_mode: str | None = "int",
    num_classes: int | None = None,
    target: Target = "balanced",
    samples_per_epoch: SamplesPerEpoch | None = None,
    replacement: bool = False,
    num_shards: int = 1,
    shard_index: int = 0,
    sampler: BalancedIndexSampler | WeightedIndexSampler | None = None,
    repeat_threshold: float = 1e-3,
    augment: AugmentPolicy = "repeats",
    augment_options: Mapping[str, object] | None = None,
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
    """A ``tf.data.Dataset`` of balanced ``(images float32 [B, H, W, C], labels int32 [B])``.

    With label sets (multi-label), repeat factor sampling and ``(images, labels float32 [B, num_classes])``
    multi-hot: see ``labels``.

    Each pass over the dataset (each Keras epoch) is the sampler's next epoch, so
    ``model.fit(ds, epochs=3)`` sees three different balanced epochs.

    **How long an epoch is.** ``len(ds)`` is the number of batches of one pass:
    ``samples_per_epoch / batch_size`` (of this shard). The default here, ``"max"`` (``"n"`` under
    a target schedule), draws every class as often as the largest class has samples
    (``num_classes * largest`` when balanced), so an epoch is longer than one pass over the
    files, and longer than Keras' epoch on the same files; `from_directory` defaults to ``"n"``,
    one file's worth of draws per file, as Keras counts. Either idiom then trains whole epochs:

    - ``model.fit(ds, epochs=10)``: Keras takes ``len(ds)`` steps per epoch;
    - ``model.fit(ds.repeat(), epochs=10, steps_per_epoch=k)``: any ``k``, each repetition the
      sampler's next epoch. Do not give ``steps_per_epoch`` without ``.repeat()``: Keras 3 then
      stops when the pass runs out ("Your input ran out of data") and trains fewer steps.

    Parameters
    ----------
    paths : sequence of str
        Image files (JPEG, PNG, BMP, GIF).
    labels : array_like of int, or label sets
        Class of each path (a 1-D array of ints). Or, for multi-label data, the set of classes of
        each path: a list of lists, a 2-D multi-hot array, a SciPy sparse matrix or a
        `fast_balance.LabelSets` (anything `fast_balance.as_label_sets` reads). Label sets are
        sampled by repeat factors (LVIS): a `fast_balance.WeightedIndexSampler` of
        `fast_balance.repeat_factors` (``repeat_threshold``), with an epoch of the factors' rounded
        sum (or an int ``samples_per_epoch``), each image floor or ceil of its factor times;
        ``label_mode`` must be ``"multi_hot"``, ``target`` stays "balanced", and ``repeats`` drive
        augmentation as for classes. The decode bank holds the images expected more than once per
        epoch; with ``on_error="skip"`` a bad file is replaced by any readable one, whose own
        labels are yielded.
    image_size : (height, width) or int
    batch_size : int
    value_range : (low, high)
        Pixel values are float32 in this range: (0, 255) by default, as
        ``keras.utils.image_dataset_from_directory`` gives them (a ``Rescaling(1 / 255)`` layer or a
        Keras Applications model's own preprocessing then sees what it expects); (0, 1) or
        (-1, 1) map linearly.
    color_mode : str
        "rgb" (default), "grayscale" or "rgba": 3, 1 or 4 channels, as Keras decodes them (grey
        from colour by the decoder's luma; RGB given an opaque alpha channel).
    interpolation : str
        The ``tf.image.resize`` method: "bilinear", "nearest", "bicubic", "area", "lanczos3",
        "lanczos5", "gaussian" or "mitchellcubic". Images are rounded and clipped to [0, 255]
        (they are kept as uint8 between decoding and augmentation).
    crop_to_aspect_ratio : bool
        Keep the aspect ratio: Keras' centred crop of the largest window of the target's aspect
        ratio, then the resize.
    pad_to_aspect_ratio : bool
        Keep the aspect ratio with black borders (``tf.image.resize_with_pad``). Not together with
        ``crop_to_aspect_ratio``.
    fast_jpeg : bool
        True: JPEGs at least twice ``image_size`` on both sides decode at 1/2, 1/4 or 1/8 scale
        (libjpeg's DCT scaling), much faster for large photos, and smoother than a full decode
        resized without antialiasing (so not Keras' pixels). False: every JPEG decodes at full
        size, and pixels equal Keras' within rounding. Smaller JPEGs decode as Keras either way.
    label_mode : str or None
        As Keras: "int" (default), int32 [B]; "categorical", float32 one-hot [B, num_classes];
        "binary", float32 [B, 1] (two classes); None: the dataset yields images only.
        "multi_hot", float32 [B, num_classes] of 0 and 1: the only mode of label sets, and only
        for them.
    num_classes : int, optional
        Class ids are [0, num_classes); defaults to ``max(labels) + 1``. The width of the one-hot
        labels of ``label_mode="categorical"``.
    target : str, float, sequence, array or dict
        As `fast_balance.BalancedIndexSampler`, which is built from ``labels`` with this and the
        four below, ``batch_size``, ``num_classes`` and ``seed``.
    samples_per_epoch : {"max", "min", "n"}, int or None
        As `fast_balance.BalancedIndexSampler`. The default (None) is ``"max"`` (``"n"`` when
        ``target`` is a schedule), which draws every class as often as the largest one has
        samples: an epoch is longer than one pass over the files
        (see above for ``len(ds)``); ``"n"`` draws as many samples as there are files.
    replacement : bool
        As `fast_balance.BalancedIndexSampler`.
    num_shards : int
        As `fast_balance.BalancedIndexSampler`.
    shard_index : int
        As `fast_balance.BalancedIndexSampler`.
    sampler : BalancedIndexSampler or WeightedIndexSampler, optional
        A sampler to use instead (its batch size, shard and samples must match); a
        `fast_balance.WeightedIndexSampler` for label sets.
    repeat_threshold : float in (0, 1]
        Label sets only: the threshold t of the repeat factors, 1e-3 as in LVIS.
    augment : "repeats", "all", "none" or callable
        ``"repeats"``: augment oversampled duplicates (sampler ``repeats >= 1``) and leave first
        views clean. ``"all"``, ``"none"``, or ``fn(images, mask) -> images`` (for example Keras
        preprocessing layers applied where ``mask``). Augmentation is batched (whole-batch ops,
        per-sample parameters: horizontal flip, brightness, contrast, saturation, random resized
        crop; colour changes leave alpha alone, saturation applies to RGB only).
    augment_options : dict, optional
        Keyword arguments of `augment_batch` (``crop``, ``flip``, ``brightness``, ``contrast``,
        ``saturation``). **The default flips images left-right**: for digits, text, and anything
        whose mirror image means something else, pass ``augment_options={"flip": False}``.
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
        (what a resumed run trains first; see `InputCheckpoint`). Like every attribute set on a
        ``tf.data.Dataset``, they are not carried over by ``.map()``, ``.repeat()`` and the
        other transformations: keep the dataset itself to read them.

    Examples
    --------
    >>> import tempfile
    >>> from fast_balance.tf.synthetic import make_long_tailed_images
    >>> paths, labels, _ = make_long_tailed_images(tempfile.mkdtemp(), counts=(12, 6, 3), min_size=24,
    ...                                            max_size=32, progress=False)
    >>> ds = balanced_dataset(paths, labels, image_size=(16, 16), batch_size=12, progress=False)
    >>> len(ds), ds.sampler.samples_per_epoch  # "max": 3 classes x 12
    (3, 36)
    >>> images, batch_labels = next(iter(ds))
    >>> images.shape.as_list(), np.bincount(batch_labels.numpy()).tolist()
    ([12, 16, 16, 3], [4, 4, 4])
    """
    files = np.asarray([os.fspath(p) for p in paths], dtype=object)
    if files.size == 0:
        raise ValueError("paths is empty")
    sets = as_label_sets(labels, num_classes, name="labels") if _is_label_sets(labels) else None
    if sets is not None:
        if len(sets) != files.size:
            raise ValueError(f"paths and labels differ in length: {files.size} paths, {len(sets)} label sets")
        classes_of = np.zeros(files.size, dtype=np.int64)  # one pool: a bad file's substitute is any readable one
    else:
        classes_of = np.asarray(labels)
        if classes_of.ndim != 1 or classes_of.shape[0] != files.size:
            raise ValueError(f"paths and labels differ in length: {files.size} paths, {classes_of.shape} labels")
    spec = image_spec(image_size, color_mode, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio, fast_jpeg)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_seed(seed)
    initial_epoch = check_int("initial_epoch", initial_epoch, minimum=0)
    options = check_policy(augment, augment_options)
    value_range = check_value_range(value_range)
    check_choice("on_error", on_error, ON_ERROR)
    progress = check_bool("progress", progress)
    if epochs is not None:
        epochs = check_int("epochs", epochs, minimum=1)
    budget = 0 if (epochs is not None and decode_cache == "auto") else bank_budget(decode_cache)
    device = resolve_device(augment_device)
    sampler_options: dict[str, Any] = dict(target=target, samples_per_epoch=samples_per_epoch,
                                           replacement=replacement, num_shards=num_shards, shard_index=shard_index)
    if num_classes is not None:
        sampler_options["num_classes"] = check_int("num_classes", num_classes, minimum=1)
    chosen: BalancedIndexSampler | WeightedIndexSampler
    if sets is not None:
        chosen = _repeat_factor_sampler(sets, sampler, batch_size, seed, input_context, sampler_options,
                                        repeat_threshold)
        classes = sets.num_classes
    else:
        chosen = _sampler_for(classes_of, sampler, batch_size, seed, input_context, sampler_options, files.size)
        classes = chosen.num_classes
    sampler = chosen
    label_mode = check_label_mode(label_mode, classes, multi_label=sets is not None)
    if with_indices and label_mode is None:
        raise ValueError("with_indices yields (images, labels, indices): it needs a label_mode")

    report = PipelineReport()
    report.skipped, hint = screen_files(files, on_error, spec, progress)
    substitute = None
    if report.skipped:
        bad = np.array([p in report.skipped for p in files], dtype=bool)
        substitute = substitutes(classes_of.astype(np.int64), bad, seed, paths=list(files), reasons=report.skipped)

    if isinstance(chosen, WeightedIndexSampler):
        members = repeated_members(chosen.expected_counts, budget // spec.nbytes)
    else:
        members = bank_members(chosen.quotas, chosen.class_counts, classes_of, budget // spec.nbytes)
    if substitute is not None:
        members = members[substitute[members] == members]
    bank: DecodeBank = build_bank(files, members, spec, constant=epochs is not None, progress=progress)
    report.bank_images, report.bank_bytes = bank.size, bank.size * spec.nbytes

    maker = RowMaker(chosen, bank.slot_of, substitute, on_epoch=report.epoch_started)
    multi_hot = None if sets is None else multi_hot_encoder(sets.indptr, sets.indices, classes)
    read = batch_reader(files, spec, batch_size, bank, check=True, hint=hint, remember=epochs is None)

    def finish(
        images: tf.Tensor, batch_labels: tf.Tensor, repeats: tf.Tensor, indices: tf.Tensor, epoch: tf.Tensor,
        batch: tf.Tensor,
    ) -> tf.Tensor | tuple[tf.Tensor, ...]:
        images = apply_policy(images, repeats, batch_key(seed, epoch, batch), augment, options, value_range)
        encoded = encode_labels(batch_labels, label_mode, classes) if multi_hot is None else multi_hot(indices)
        if encoded is None:
            return images
        return (images, encoded, indices) if with_indices else (images, encoded)

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
