"""Image folders: listing them the Keras way, and cheap checks of image files (no TensorFlow)."""

from __future__ import annotations

import os

import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")

# Checking this many files or more shows a progress bar.
_PROGRESS_FROM = 1000


def list_image_files(directory) -> tuple[list[str], np.ndarray, list[str]]:
    """Image files of a folder with one sub-folder per class, as ``keras.utils.image_dataset_from_directory``.

    Class names are the sorted sub-folder names; files ending in .jpg, .jpeg, .png, .bmp or .gif
    (any case) anywhere inside a class folder belong to it, in sorted order.

    Returns
    -------
    (paths, labels, class_names)
        ``labels`` is int32, the index of each path's class in ``class_names``.

    Examples
    --------
    >>> paths, labels, class_names = list_image_files("parts/")
    >>> class_names
    ['crack', 'normal']
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"image directory {directory!r} does not exist or is not a directory")
    class_names = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not class_names:
        raise ValueError(f"image directory {directory!r} has no class sub-folders")
    paths: list[str] = []
    labels: list[int] = []
    empty = []
    for label, name in enumerate(class_names):
        found = sorted(
            os.path.join(root, file)
            for root, _, files in os.walk(os.path.join(directory, name))
            for file in files
            if file.lower().endswith(IMAGE_EXTENSIONS)
        )
        if not found:
            empty.append(name)
        paths.extend(found)
        labels.extend([label] * len(found))
    if empty:
        raise ValueError(
            f"class folders with no images ({', '.join(IMAGE_EXTENSIONS)}) in {directory!r}: {', '.join(empty)}"
        )
    return paths, np.asarray(labels, dtype=np.int32), class_names


def substitutes(labels: np.ndarray, bad: np.ndarray, seed: int) -> np.ndarray:
    """For every sample, itself if readable, else a readable sample of the same class.

    Examples
    --------
    >>> substitutes(np.array([0, 0, 1, 1]), np.array([False, True, False, False]), seed=0).tolist()
    [0, 0, 2, 3]
    """
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


def check_image_file(path) -> str | None:
    """Why `path` is not a whole image, or None. Reads only its first and last 16 bytes.

    Examples
    --------
    >>> check_image_file("notes.jpg")
    'not an image (unrecognised header)'
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as file:
            head = file.read(16)
            file.seek(max(size - 16, 0))
            tail = file.read(16)
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    if size == 0:
        return "empty file"
    if head.startswith(b"\xff\xd8\xff"):
        return None if tail.rstrip(b"\x00").endswith(b"\xff\xd9") else "truncated JPEG (no end marker)"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return None if b"IEND" in tail[-12:] else "truncated PNG (no IEND chunk)"
    if head.startswith((b"GIF87a", b"GIF89a", b"BM")):
        return None
    return "not an image (unrecognised header)"


def check_image_files(paths, progress: bool = True) -> dict[str, str]:
    """``{path: reason}`` for the files that `check_image_file` rejects; a progress bar on large lists."""
    paths = list(paths)
    iterable = paths
    if progress and len(paths) >= _PROGRESS_FROM:
        try:
            from tqdm.auto import tqdm

            iterable = tqdm(paths, desc="checking images", unit="file")
        except ImportError:  # the progress bar is a nicety
            pass
    problems = {}
    for path in iterable:
        reason = check_image_file(path)
        if reason is not None:
            problems[os.fspath(path)] = reason
    return problems
