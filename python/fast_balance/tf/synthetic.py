"""A long-tailed set of real-looking JPEGs, made on the spot (no download).

Each image is a smooth colour field with a few shapes and sensor-like noise; the class decides
the palette and the kind of shape, so a small CNN can learn the classes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from ..files import list_image_files

DEFAULT_COUNTS = (1000, 647, 418, 271, 175, 113, 73, 47, 31, 20)
_MARKER = "fast_balance_synthetic.json"


def _class_image(rng: np.random.Generator, label: int, height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    y /= height
    x /= width
    hue = (label * 0.37) % 1.0
    base = np.stack([np.cos(2 * np.pi * (hue + k / 3)) * 0.5 + 0.5 for k in range(3)]).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    field = 0.6 + 0.4 * (np.cos(angle) * x + np.sin(angle) * y)[..., None]
    image = field * (0.35 + 0.5 * base)
    for _ in range(int(rng.integers(2, 5))):
        cy, cx = rng.uniform(0.2, 0.8, 2)
        radius = rng.uniform(0.08, 0.22)
        colour = np.clip(1.0 - base + rng.normal(0, 0.08, 3), 0, 1).astype(np.float32)
        kind = label % 3
        if kind == 0:  # discs
            inside = (y - cy) ** 2 + (x - cx) ** 2 < radius**2
        elif kind == 1:  # squares
            inside = (np.abs(y - cy) < radius) & (np.abs(x - cx) < radius)
        else:  # stripes
            inside = (np.abs(y - cy) < radius * 0.3) | (np.abs(x - cx) < radius * 0.3)
        image = np.where(inside[..., None], colour, image)
    image += rng.normal(0, 0.03, image.shape).astype(np.float32)
    pixels: np.ndarray = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    return pixels


def make_long_tailed_images(
    directory: str,
    counts: Sequence[int] = DEFAULT_COUNTS,
    min_size: int = 160,
    max_size: int = 320,
    seed: int = 0,
    progress: bool = True,
) -> tuple[list[str], np.ndarray, list[str]]:
    """Writes ``directory/class_XX/img_XXXXX.jpg`` with ``counts[c]`` JPEGs of class c.

    Sizes are uniform in [min_size, max_size] per side. The same arguments give byte-identical
    files; a folder already made with them is reused, one made with other arguments is
    replaced, and a non-empty folder this function did not make is left alone (ValueError).

    Returns
    -------
    (paths, labels, class_names)
        As `fast_balance.files.list_image_files` lists the folder.

    Examples
    --------
    >>> paths, labels, names = make_long_tailed_images(tmp / "parts", counts=(50, 10), max_size=200, progress=False)
    >>> names, np.bincount(labels).tolist()
    (['class_00', 'class_01'], [50, 10])
    """
    directory = os.fspath(directory)
    counts = [int(n) for n in counts]
    if not counts or min(counts) < 1:
        raise ValueError(f"counts must be positive, got {counts}")
    if not 1 <= min_size <= max_size:
        raise ValueError(f"need 1 <= min_size <= max_size, got {min_size}, {max_size}")
    parameters = {"counts": counts, "min_size": min_size, "max_size": max_size, "seed": seed, "version": 1}
    marker = os.path.join(directory, _MARKER)
    if os.path.exists(marker):
        with open(marker) as file:
            if json.load(file) == parameters:
                return list_image_files(directory)
        for entry in os.scandir(directory):  # ours, made with other arguments: start over
            if entry.is_dir() and re.fullmatch(r"class_\d+", entry.name):
                shutil.rmtree(entry.path)
        os.remove(marker)
    elif os.path.isdir(directory) and os.listdir(directory):
        raise ValueError(f"{directory!r} is not empty and was not made by make_long_tailed_images; pick another folder")
    jobs = [(label, k) for label, n in enumerate(counts) for k in range(n)]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="writing demo images", unit="image")
    for label, k in jobs:
        folder = os.path.join(directory, f"class_{label:02d}")
        os.makedirs(folder, exist_ok=True)
        rng = np.random.default_rng([seed, label, k])
        height, width = rng.integers(min_size, max_size + 1, 2)
        pixels = _class_image(rng, label, int(height), int(width))
        tf.io.write_file(os.path.join(folder, f"img_{k:05d}.jpg"), tf.io.encode_jpeg(pixels, quality=90))
    with open(marker, "w") as file:
        json.dump(parameters, file)
    return list_image_files(directory)
