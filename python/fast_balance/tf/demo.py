"""The main job's image part: a generated long-tailed JPEG set through the balanced pipeline."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ..histogram import histogram_text
from ..plots import write_demo_report
from .directory import from_directory
from .synthetic import DEFAULT_COUNTS as DEFAULT_COUNTS
from .synthetic import make_long_tailed_images

# Rows of the report picture: minority samples shown with their first view and this many repeats.
_SHOWN_SAMPLES = 4
_SHOWN_REPEATS = 3


def run(
    directory: str,
    png: str | None,
    image_size: int = 128,
    batch_size: int = 64,
    seed: int = 0,
    counts: Sequence[int] = DEFAULT_COUNTS,
) -> None:
    """Generates (or reuses) the image set in ``directory``, runs one balanced epoch, prints what it
    saw and, with ``png``, draws it: histograms and the augmented repeats of minority images."""
    print(f"\nThe demo image set: {directory} (JPEGs, {len(counts)} classes, {max(counts)} down to "
          f"{min(counts)}; made once, reused by later runs)")
    make_long_tailed_images(directory, counts=counts, seed=seed)
    ds = from_directory(directory, image_size=(image_size, image_size), batch_size=batch_size, seed=seed,
                        samples_per_epoch="max", with_indices=True)
    before = ds.sampler.class_counts
    names = ds.class_names
    print("Class histogram of the images:")
    print(histogram_text(before, names))

    repeats = ds.sampler.epoch(0).repeats  # the first pass is sampler epoch 0
    rarest = int(np.argmin(before))
    views: dict[int, list[tuple[int, np.ndarray]]] = defaultdict(list)
    start = time.perf_counter()
    after = np.zeros(len(names), dtype=np.int64)
    position = 0
    for images, labels, indices in ds:
        labels, indices = labels.numpy(), indices.numpy()
        after += np.bincount(labels, minlength=len(names))
        for k in np.flatnonzero(labels == rarest):
            index = int(indices[k])
            if (len(views) < _SHOWN_SAMPLES or index in views) and len(views[index]) <= _SHOWN_REPEATS:
                views[index].append((int(repeats[position + k]), images[k].numpy() / 255.0))
        position += labels.size
    seconds = time.perf_counter() - start
    print(f"\nOne balanced epoch of {int(after.sum()):,} images ({len(ds)} batches of {batch_size}, "
          f"{image_size}x{image_size}, augmented repeats):")
    print(histogram_text(after, names))
    print(f"\nPipeline speed: {after.sum() / seconds:,.0f} images/s ({seconds:.1f} s for the epoch, decode + "
          f"augment, {os.cpu_count()} CPU cores)")
    print(str(ds.report))
    if png is None:
        return
    rows = []
    for index, shown in views.items():
        captions = [("first view" if r == 0 else f"repeat {r}, augmented", image) for r, image in shown]
        rows.append((f"{names[rarest]}, image {index}", captions))
    try:
        write_demo_report(png, names, before, after, rows)
    except ImportError as error:
        print(f"No picture written: {error}")
        return
    print(f"Wrote {png}: the histograms, and {len(rows)} minority images beside their augmented repeats.")
