"""PNG reports (matplotlib, an optional dependency: ``pip install "fast_balance[plot]"``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def pyplot() -> Any:
    """matplotlib.pyplot on a file-only backend, or an ImportError that says what to install."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(
            'writing PNG reports needs matplotlib: pip install "fast_balance[plot]" (or pip install matplotlib)'
        ) from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bar_chart(axis: Any, names: Sequence[str], counts: np.ndarray, title: str, color: str = "tab:blue") -> None:
    """Counts per class as bars, the class names under them."""
    axis.bar(range(len(names)), counts, color=color)
    axis.set_xticks(range(len(names)), names, rotation=60 if len(names) > 10 else 45, ha="right", fontsize=7)
    axis.set_title(title)


def write_histogram(path: str, names: Sequence[str], counts: np.ndarray, title: str) -> None:
    """One bar chart of class counts, as a PNG."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(max(6, 0.4 * len(names)), 4), constrained_layout=True)
    bar_chart(axis, names, counts, title)
    axis.set_ylabel("images")
    figure.savefig(path, dpi=90)
    plt.close(figure)


def write_demo_report(
    path: str,
    names: Sequence[str],
    before: np.ndarray,
    after: np.ndarray,
    rows: Sequence[tuple[str, Sequence[tuple[str, np.ndarray]]]],
) -> None:
    """Histograms of the data and of a balanced epoch, then one row per minority sample: its first
    view and its augmented repeats, each with a caption (``rows``: (row title, [(caption, image)])).

    Images are float arrays in [0, 1].
    """
    plt = pyplot()
    columns = max([len(images) for _, images in rows] + [2])
    figure = plt.figure(figsize=(2.2 * max(columns, 5), 3.2 + 2.2 * len(rows)), constrained_layout=True)
    grid = figure.add_gridspec(1 + len(rows), 2 * columns, height_ratios=[1.6] + [1.0] * len(rows))
    bar_chart(figure.add_subplot(grid[0, :columns]), names, before, "class histogram: the data")
    bar_chart(figure.add_subplot(grid[0, columns:]), names, after, "class histogram: one balanced epoch",
              color="tab:green")
    for row, (title, images) in enumerate(rows, start=1):
        for column, (caption, image) in enumerate(images):
            axis = figure.add_subplot(grid[row, 2 * column : 2 * column + 2])
            axis.imshow(np.clip(image, 0.0, 1.0))
            axis.set_title(caption if column else f"{title}\n{caption}", fontsize=8)
            axis.axis("off")
    figure.suptitle("fast_balance: oversampled minority images, each repeat augmented differently")
    figure.savefig(path, dpi=80)
    plt.close(figure)
