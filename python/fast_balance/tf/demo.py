"""The main job's image part: a generated long-tailed JPEG set through the balanced pipeline."""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

from ..histogram import histogram_text
from .dataset import from_directory
from .synthetic import DEFAULT_COUNTS, make_long_tailed_images


def write_report_png(path: str, before: np.ndarray, after: np.ndarray, names: list[str], samples: np.ndarray) -> None:
    """Histograms before/after balancing and a grid of augmented minority samples."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(12, 8), constrained_layout=True)
    grid = figure.add_gridspec(2, 8)
    for column, (counts, title) in enumerate(((before, "data"), (after, "one balanced epoch"))):
        axis = figure.add_subplot(grid[0, column * 4 : column * 4 + 4])
        axis.bar(range(len(counts)), counts, color="tab:blue" if column == 0 else "tab:green")
        axis.set_xticks(range(len(counts)), names, rotation=45, ha="right", fontsize=8)
        axis.set_title(f"class histogram: {title}")
    for k, image in enumerate(samples[:8]):
        axis = figure.add_subplot(grid[1, k])
        axis.imshow(image)
        axis.axis("off")
    figure.suptitle("fast_balance: augmented repeats of minority samples (bottom row)")
    figure.savefig(path, dpi=80)
    plt.close(figure)


def run(
    directory: str | None,
    png: str,
    image_size: int = 128,
    batch_size: int = 64,
    seed: int = 0,
    counts=DEFAULT_COUNTS,
) -> None:
    """Generates (or reuses) the image set, runs one balanced epoch, prints and plots what it saw."""
    directory = directory or os.path.join(tempfile.gettempdir(), "fast_balance_demo_images")
    print(f"\nGenerating the demo image set in {directory} (JPEGs, {len(counts)} classes, "
          f"{max(counts)} down to {min(counts)})...")
    make_long_tailed_images(directory, counts=counts, seed=seed)
    ds = from_directory(directory, image_size=(image_size, image_size), batch_size=batch_size, seed=seed)
    before = ds.sampler.class_counts
    names = ds.class_names
    print("Class histogram of the images:")
    print(histogram_text(before, names))

    start = time.perf_counter()
    after = np.zeros(len(names), dtype=np.int64)
    minority = []
    for images, labels in ds:
        after += np.bincount(labels.numpy(), minlength=len(names))
        if len(minority) < 8:
            rare = np.flatnonzero(labels.numpy() == len(names) - 1)
            minority.extend(images.numpy()[rare[: 8 - len(minority)]] / 255.0)
    seconds = time.perf_counter() - start
    print(f"\nOne balanced epoch of {int(after.sum()):,} images ({len(ds)} batches of {batch_size}, "
          f"{image_size}x{image_size}, augmented repeats):")
    print(histogram_text(after, names))
    print(f"\nPipeline speed: {after.sum() / seconds:,.0f} images/s ({seconds:.1f} s for the epoch, decode + "
          f"augment, {os.cpu_count()} CPU cores)")
    print(str(ds.report))
    write_report_png(png, before, after, names, np.stack(minority))
    print(f"Wrote {png}: histograms and augmented minority samples.")
