"""from_directory: ``keras.utils.image_dataset_from_directory``'s arguments and meaning, with
balanced training batches.

The folder is listed as Keras lists it (`fast_balance.files.list_image_files`), shuffled and split
as Keras splits it, so that the same ``seed`` and ``validation_split`` put the same files in each
subset; the training subset becomes a `balanced_dataset`, the validation subset an
`ordered_dataset` (every file once per pass, in order, unaugmented).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Union

import numpy as np
import tensorflow as tf

from .._checks import check_bool, check_seed, suggest_keywords
from ..files import list_image_files, walk_image_files
from ..labels import normalize_labels
from ..sampler import BalancedIndexSampler, SamplesPerEpoch
from ..weights import Target
from .augment import AugmentPolicy, check_value_range
from .dataset import balanced_dataset
from .decode import image_spec
from .label_mode import check_label_mode
from .ordered import ordered_dataset

#: ``subset`` names, as Keras has them.
SUBSETS = ("training", "validation", "both")
#: What ``seed=None`` means: Keras draws a seed at random; here runs repeat.
DEFAULT_SEED = 0

Directory = Union[str, "os.PathLike[str]"]


def keras_file_order(count: int, seed: int) -> np.ndarray:
    """The permutation Keras applies to the listed files with ``shuffle=True``:
    ``np.random.RandomState(seed).shuffle``, here as ``permutation`` (the same draws).

    Seeds from 2**32 on, which ``RandomState`` refuses as an int, seed it with their two 32-bit
    halves (a different initialisation, so no smaller seed gives their order).

    Examples
    --------
    >>> keras_file_order(5, seed=1).tolist()
    [2, 1, 4, 0, 3]
    """
    state = seed if seed < 1 << 32 else [seed & 0xFFFFFFFF, seed >> 32]
    return np.random.RandomState(state).permutation(count)


def _check_split(validation_split: object, subset: object) -> float | None:
    if validation_split is not None and not isinstance(validation_split, (int, float, np.floating)):
        raise TypeError(f"validation_split must be a float between 0 and 1, got {validation_split!r}")
    split = float(validation_split) if validation_split else None
    if split is not None and not 0 < split < 1:
        raise ValueError(f"validation_split must be between 0 and 1, got {validation_split!r}")
    if subset is not None and subset not in SUBSETS:
        raise ValueError(f"subset must be 'training', 'validation' or 'both', got {subset!r}")
    if (split is None) != (subset is None):
        raise ValueError("give validation_split and subset together: subset chooses the part of the split returned")
    return split


def _listing(
    directory: Directory, labels: object, class_names: Sequence[str] | None, follow_links: bool
) -> tuple[list[str], np.ndarray, list[str], int]:
    """``(paths, labels, class_names, num_classes)`` of the folder, in Keras' order."""
    if labels is None:
        raise ValueError(
            "labels=None: from_directory balances the classes, so it needs labels; for images without labels in "
            "the batches, give label_mode=None (the classes, from the folders, still balance them)"
        )
    if isinstance(labels, str):
        if labels != "inferred":
            raise ValueError(f"labels must be 'inferred' or a list of ints, one per file; got {labels!r}")
        paths, inferred, names = list_image_files(directory, class_names, follow_links)
        return paths, inferred, names, len(names)
    if class_names is not None:
        raise ValueError("class_names goes with labels='inferred' only: given labels, the class names are their values")
    folder = os.fspath(directory)
    if not os.path.isdir(folder):
        raise ValueError(f"image directory {folder!r} does not exist or is not a directory")
    paths = walk_image_files(folder, follow_links)
    given, num_classes = normalize_labels(labels)
    if given.size != len(paths):
        raise ValueError(
            f"labels has {given.size} values, but {folder!r} holds {len(paths)} image files: one label per file, "
            "in the order of fast_balance.files.walk_image_files (Keras' order)"
        )
    present = np.unique(given)
    return paths, given.astype(np.int32), [str(c) for c in present.tolist()], num_classes


@suggest_keywords
def from_directory(
    directory: Directory,
    labels: object = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int = 32,
    image_size: int | tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    verbose: bool = True,
    *,
    data_format: str | None = None,
    format: str = "tf",
    value_range: tuple[float, float] = (0, 255),
    fast_jpeg: bool = True,
    target: Target = "balanced",
    samples_per_epoch: SamplesPerEpoch = "n",
    replacement: bool = False,
    sampler: BalancedIndexSampler | None = None,
    augment: AugmentPolicy = "repeats",
    augment_options: Mapping[str, object] | None = None,
    augment_device: str | None = "auto",
    decode_cache: str | int = "auto",
    on_error: str = "raise",
    progress: bool | None = None,
    num_shards: int = 1,
    shard_index: int = 0,
    input_context: tf.distribute.InputContext | None = None,
    initial_epoch: int = 0,
    epochs: int | None = None,
    with_indices: bool = False,
) -> Any:
    """Balanced image batches from a folder of class sub-folders, as ``keras.utils.image_dataset_from_directory``.

    The arguments up to ``verbose`` are Keras', with Keras' names, order and meaning (the
    differences are listed below); the keyword-only ones after them are `balanced_dataset`'s. The
    training data (all files, or the ``"training"`` subset) is a `balanced_dataset`: every batch
    stratified, minority samples oversampled and their repeats augmented. The ``"validation"``
    subset is every validation file exactly once per pass, in the data's own order and class
    distribution, unaugmented, deterministic, with the same preprocessing (size, colour,
    interpolation, ``value_range``, ``label_mode``), the last batch partial, as Keras gives it.

    **Epochs.** ``len(ds)`` of the training dataset is ``samples_per_epoch / batch_size``
    batches. The default ``samples_per_epoch="n"`` draws as many samples per epoch as there are
    training files, rounded up to whole batches, so ``len(ds)`` is Keras' ``ceil(files /
    batch_size)`` and ``epochs=10`` trains as many steps as with Keras' loader (each epoch a new
    balanced draw; ``"max"`` would draw every class as often as the largest class has files).
    Both of these train whole epochs:

    - ``model.fit(train, validation_data=val, epochs=10)``: Keras takes ``len(train)`` steps per
      epoch;
    - ``model.fit(train.repeat(), epochs=10, steps_per_epoch=k, validation_data=val)``: any ``k``,
      each repetition the sampler's next epoch. ``steps_per_epoch`` without ``.repeat()`` makes
      Keras 3 stop early with "Your input ran out of data".

    **Flips.** The default augmentation flips images left-right: for digits, text, and anything
    whose mirror image means something else, pass ``augment_options={"flip": False}``
    (``augment="none"`` turns augmentation off).

    Parameters
    ----------
    directory : str or os.PathLike
        One sub-folder per class (with ``labels="inferred"``); files ending in .jpg, .jpeg, .png,
        .bmp or .gif anywhere inside a class folder belong to it.
    labels : "inferred" or array_like of int
        ``"inferred"``: the class of a file is its sub-folder. Or one int per image file of the
        whole folder, in Keras' order (folder by folder in sorted order, files sorted by name:
        `fast_balance.files.walk_image_files`); class names are then the sorted label values, as
        strings. None (Keras: no labels) is refused: balancing needs classes; use
        ``label_mode=None`` for batches of images only.
    label_mode : "int", "categorical", "binary" or None
        int32 [B]; float32 one-hot [B, num_classes]; float32 [B, 1] of 0 and 1 (exactly two
        classes); None: the dataset yields images only.
    class_names : list of str, optional
        With ``labels="inferred"``: the class folders to read, in this order (class i is
        ``class_names[i]``); some or all of the sub-folders.
    color_mode : "rgb", "grayscale" or "rgba"
        3, 1 or 4 channels. Where TensorFlow's decoders (and so Keras) refuse one (RGBA from JPEG
        or GIF, grey from BMP or GIF), the image is decoded as RGB and converted.
    batch_size : int
        Samples per batch. None (Keras: unbatched) is refused: balanced batches need a size.
    image_size : (height, width) or int
        Every image is resized to it. (256, 256) by default, as in Keras.
    shuffle : bool
        True (default): the files are shuffled before the split as Keras shuffles them, and the
        training data is balanced. False: the files keep their sorted order and every dataset
        returned reads each of its files once per pass in that order, neither balanced nor
        augmented (Keras' meaning, for a test folder whose predictions must line up with
        ``file_paths``); the options that shape balanced training (``target``,
        ``samples_per_epoch``, ``augment``, ...) then do not apply.
    seed : int, optional
        Seeds the file shuffle (Keras' ``np.random.RandomState(seed)``, so the split equals
        Keras' for the same seed), the sampler and the augmentation. None means 0, not a random
        seed as in Keras: runs repeat, and a training and a validation call split alike. Any int
        in [0, 2**64); ``ds.seed`` tells which was used.
    validation_split : float, optional
        Share of the files held out for validation, in (0, 1): the last ``int(validation_split
        * files)`` files of the shuffled list, as in Keras.
    subset : "training", "validation" or "both"
        With ``validation_split``: which part to return; ``"both"`` returns ``(train, val)``.
    interpolation : str
        The ``tf.image.resize`` method: "bilinear" (default), "nearest", "bicubic", "area",
        "lanczos3", "lanczos5", "gaussian" or "mitchellcubic".
    follow_links : bool
        Enter symbolic links to folders inside the class folders.
    crop_to_aspect_ratio, pad_to_aspect_ratio : bool
        Keep the aspect ratio: Keras' centred crop of the largest window with the target's
        aspect ratio, or black borders (``tf.image.resize_with_pad``). At most one.
    verbose : bool
        Print the number of files and classes found and of each subset, as Keras does, and show
        the progress bars (unless ``progress`` says otherwise).
    data_format : None or "channels_last"
        Images are always channels-last (Keras' ``data_format="channels_first"`` is refused).
    format : "tf"
        A ``tf.data.Dataset`` (Keras' ``"grain"`` is refused).
    value_range, fast_jpeg, target, samples_per_epoch, replacement, sampler, augment, augment_options,
    augment_device, decode_cache, on_error, progress, num_shards, shard_index, input_context,
    initial_epoch, epochs, with_indices
        As `balanced_dataset`, for the training data. ``samples_per_epoch`` defaults to ``"n"``
        here (``"max"`` there). ``value_range``, ``fast_jpeg`` and ``on_error`` apply to the
        validation data too (with ``on_error="skip"``, a validation file that fails is left out,
        not replaced); the validation data is never sharded. ``progress`` None follows
        ``verbose``.

    Returns
    -------
    tf.data.Dataset, or (train, val) with ``subset="both"``
        Each with ``class_names``, ``file_paths`` (its own files, in Keras' order; a list) and
        ``labels`` (int32, its files' classes), ``seed``, ``report`` and ``batch_size``; the
        balanced one also has the attributes `balanced_dataset` gives (``sampler``, ...). These
        attributes are not carried over by ``.map()``, ``.repeat()`` and the other
        transformations (no attribute of a ``tf.data.Dataset`` is): keep the dataset itself to
        read them.

    Notes
    -----
    Differences from ``keras.utils.image_dataset_from_directory`` (Keras 3):

    - Training batches are balanced (``target``) and their repeats augmented (``augment``);
      ``len(ds)`` is ``samples_per_epoch / batch_size`` (by default Keras' length).
    - ``seed=None`` is 0, not random; with ``validation_split`` Keras requires a seed, here
      None works and the two calls agree.
    - Hidden files and folders (names starting with ".") are ignored at every level (Keras reads
      hidden files inside class folders); a class folder without images is an error (Keras
      returns a class with no samples, which cannot be balanced); so is ``labels=None``,
      ``batch_size=None``, and a ``validation_split`` that leaves a subset or a class of the
      training subset without files.
    - Pixels are float32 in ``value_range``, rounded to integers and clipped to [0, 255] before
      the mapping: within 0.5 of Keras' float values for PNG, BMP, GIF and JPEG (the same
      decoder), except JPEGs at least twice ``image_size`` on both sides, which ``fast_jpeg``
      decodes at reduced scale (``fast_jpeg=False`` for Keras' pixels), and the cubic and
      Lanczos kernels' overshoot past [0, 255], which is clipped. ``interpolation="nearest"``
      gives float32 too (Keras: uint8).
    - With ``labels`` given as a list, the one-hot width is ``max(labels) + 1`` (Keras:
      ``len(class_names)``, which gives all-zero rows when some label value is missing).
    - The validation subset alone is deterministic (Keras reshuffles it each pass unless it comes
      from ``subset="both"``); its order is the order of ``file_paths``.

    Examples
    --------
    >>> import tempfile
    >>> from fast_balance.tf.synthetic import make_long_tailed_images
    >>> folder = tempfile.mkdtemp()
    >>> _ = make_long_tailed_images(folder, counts=(20, 8, 4), min_size=24, max_size=32, progress=False)
    >>> train, val = from_directory(folder, image_size=(16, 16), batch_size=8, seed=1, validation_split=0.25,
    ...                             subset="both", augment_options={"flip": False}, verbose=False)
    >>> train.class_names, len(train.file_paths), len(val.file_paths)
    (['class_00', 'class_01', 'class_02'], 24, 8)
    >>> len(train), len(val)  # 24 training files in batches of 8; 8 validation files
    (3, 1)
    >>> images, labels = next(iter(train))
    >>> images.shape.as_list(), images.dtype.name
    ([8, 16, 16, 3], 'float32')
    >>> from_directory(folder, bath_size=8)
    Traceback (most recent call last):
    TypeError: from_directory() got an unexpected keyword argument 'bath_size'; did you mean 'batch_size'?
    """
    if data_format not in (None, "channels_last"):
        raise ValueError(f"data_format must be None or 'channels_last' (images are channels-last), got {data_format!r}")
    if format != "tf":
        raise ValueError(f"format must be 'tf': from_directory returns tf.data datasets, got {format!r}")
    if batch_size is None:
        raise ValueError("batch_size=None (unbatched) is not supported: balanced batches need a batch size")
    spec = image_spec(image_size, color_mode, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio, fast_jpeg)
    shuffle = check_bool("shuffle", shuffle)
    verbose = check_bool("verbose", verbose)
    follow_links = check_bool("follow_links", follow_links)
    seed = DEFAULT_SEED if seed is None else check_seed(seed)
    split = _check_split(validation_split, subset)
    progress = verbose if progress is None else check_bool("progress", progress)
    value_range = check_value_range(value_range)

    paths, classes_of, names, num_classes = _listing(directory, labels, class_names, follow_links)
    check_label_mode(label_mode, len(names))
    if label_mode == "binary" and num_classes != 2:
        raise ValueError(f'label_mode="binary" needs labels of 0 and 1, got {names}')
    if verbose:
        print(f"Found {len(paths)} files belonging to {len(names)} classes.")
        if not shuffle:
            print("shuffle=False: every file once per pass, in sorted order, neither balanced nor augmented.")
    files = np.asarray(paths, dtype=object)
    if shuffle:
        order = keras_file_order(files.size, seed)
        files, classes_of = files[order], classes_of[order]

    parts: dict[str | None, tuple[np.ndarray, np.ndarray]] = {None: (files, classes_of)}
    if split is not None:
        held_out = int(split * files.size)
        if not 0 < held_out < files.size:
            raise ValueError(
                f"validation_split={validation_split} of {files.size} files holds out {held_out}: "
                "both subsets need files"
            )
        parts = {"training": (files[:-held_out], classes_of[:-held_out]),
                 "validation": (files[-held_out:], classes_of[-held_out:])}
    wanted = ["training", "validation"] if subset == "both" else [subset]

    common: dict[str, Any] = dict(batch_size=batch_size, value_range=value_range, label_mode=label_mode,
                                  num_classes=num_classes, on_error=on_error)
    built = []
    for part in wanted:
        part_files, part_labels = parts[part]
        if verbose and part is not None:
            print(f"Using {part_files.size} files for {part}.")
        if part == "validation" or not shuffle:
            dataset = ordered_dataset(part_files, part_labels, spec=spec, progress=progress, **common)
        else:
            missing = sorted(set(np.unique(classes_of).tolist()) - set(np.unique(part_labels).tolist()))
            if missing:
                listed = ", ".join(repr(names[c]) if isinstance(labels, str) else str(c) for c in missing)
                raise ValueError(
                    f"validation_split={validation_split} leaves no training file of class {listed}: "
                    "a smaller validation_split or more files of the class are needed"
                )
            dataset = balanced_dataset(
                part_files, part_labels, image_size=spec.size, color_mode=color_mode, interpolation=spec.interpolation,
                crop_to_aspect_ratio=spec.aspect == "crop", pad_to_aspect_ratio=spec.aspect == "pad",
                fast_jpeg=spec.fast_jpeg, target=target, samples_per_epoch=samples_per_epoch, replacement=replacement,
                num_shards=num_shards, shard_index=shard_index, sampler=sampler, augment=augment,
                augment_options=augment_options, augment_device=augment_device, decode_cache=decode_cache,
                seed=seed, progress=progress, input_context=input_context, initial_epoch=initial_epoch, epochs=epochs,
                with_indices=with_indices, **common,
            )
            dataset.file_paths = [str(p) for p in part_files]
            dataset.labels = part_labels.astype(np.int32)
        dataset.class_names = list(names)
        dataset.seed = seed
        built.append(dataset)
    return tuple(built) if subset == "both" else built[0]
