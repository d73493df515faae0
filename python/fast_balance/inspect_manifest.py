"""``fast-balance inspect --manifest FILE.csv``: per-class frequencies of a multi-label set, before
and after repeat factor sampling.

A manifest is a CSV of two columns, the image's path and its labels, the labels separated by
spaces or ``;`` (an optional header row ``path,labels``). Class names are strings, given ids in
sorted order. The files themselves are not opened.
"""

from __future__ import annotations

import argparse
import csv
import re

import numpy as np

from .label_sets import LabelSets, as_label_sets, repeat_factor_sampler, repeat_factors

#: What separates the labels of one image.
LABEL_SEPARATOR = re.compile(r"[;\s]+")


def read_manifest(path: str) -> tuple[list[str], LabelSets, list[str]]:
    """The paths, label sets and class names of a manifest; a malformed line is a ValueError naming it.

    Examples
    --------
    >>> import os, tempfile
    >>> manifest = os.path.join(tempfile.mkdtemp(), "m.csv")
    >>> _ = open(manifest, "w").write("path,labels\\na.jpg,dog;cat\\nb.jpg,cat\\n")
    >>> paths, sets, names = read_manifest(manifest)
    >>> paths, names, sets.indices.tolist()
    (['a.jpg', 'b.jpg'], ['cat', 'dog'], [0, 1, 0])
    """
    paths: list[str] = []
    rows: list[list[str]] = []
    with open(path, newline="", encoding="utf-8") as file:
        for line, fields in enumerate(csv.reader(file), start=1):
            if not fields or all(not f.strip() for f in fields):
                continue
            if line == 1 and [f.strip().lower() for f in fields] == ["path", "labels"]:
                continue
            if len(fields) != 2:
                raise ValueError(f"{path}, line {line}: expected 2 columns (path, labels), got {len(fields)}: "
                                 f"{','.join(fields)!r}")
            image, labels = fields[0].strip(), fields[1].strip()
            if not image:
                raise ValueError(f"{path}, line {line}: the path is empty")
            paths.append(image)
            rows.append([name for name in LABEL_SEPARATOR.split(labels) if name])
    if not paths:
        raise ValueError(f"{path}: no images (expected lines of path,labels)")
    names = sorted({name for row in rows for name in row})
    ids = {name: c for c, name in enumerate(names)}
    return paths, as_label_sets([[ids[n] for n in row] for row in rows], num_classes=max(len(names), 1)), names


def class_frequencies_table(
    sets: LabelSets, names: list[str], threshold: float, seed: int = 0
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """The report's text and, per class, images, expected samples (sum_i r(i)·[c in i]) and one
    sampled epoch's samples containing the class."""
    factors = repeat_factors(sets, threshold)
    sampler = repeat_factor_sampler(sets, threshold, seed=seed)
    draws = np.bincount(sampler.epoch(0).indices, minlength=len(sets))
    images = sets.class_counts()
    expected = np.bincount(sets.indices, weights=np.repeat(factors, sets.sizes), minlength=sets.num_classes)
    sampled = np.bincount(sets.indices, weights=np.repeat(draws, sets.sizes), minlength=sets.num_classes)
    width = max([len(n) for n in names] + [5])
    lines = [
        f"repeat factors (threshold {threshold:g}): from {factors.min():.3g} to {factors.max():.3g}, sum "
        f"{factors.sum():,.1f}; an epoch of {sampler.samples_per_epoch:,} samples (epoch 0 below, seed {seed})",
        f"  {'class':>{width}}  {'images':>8} {'freq':>7}  {'expected':>9} {'freq':>7}  {'sampled':>8} {'freq':>7}",
    ]
    for c, name in enumerate(names):
        lines.append(
            f"  {name:>{width}}  {images[c]:>8,} {images[c] / len(sets):>7.2%}  {expected[c]:>9,.1f} "
            f"{expected[c] / factors.sum():>7.2%}  {int(sampled[c]):>8,} {sampled[c] / sampler.samples_per_epoch:>7.2%}"
        )
    return "\n".join(lines), images, expected, sampled.astype(np.int64)


def run(args: argparse.Namespace) -> None:
    paths, sets, names = read_manifest(args.manifest)
    sizes = sets.sizes
    print(f"{args.manifest}: {len(paths):,} images, {len(names)} classes, {int(sizes.min())}-{int(sizes.max())} "
          f"labels per image (mean {sizes.mean():.2f})")
    print("freq: the share of the images (before) or of the epoch's samples (after) holding the class")
    text, *_ = class_frequencies_table(sets, names, args.threshold, args.seed)
    print(text)
