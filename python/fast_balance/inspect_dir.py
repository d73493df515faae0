"""``fast-balance inspect DIR``: class counts, imbalance, unreadable files and a histogram PNG.

The folder is listed as ``from_directory`` lists it (hidden files and folders ignored) and every
file gets `fast_balance.files.check_image_file`'s structure check, without decoding.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from .files import check_image_files, list_image_files, printable


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Registers the ``inspect`` sub-command."""
    parser = commands.add_parser("inspect", help="describe a folder of class sub-folders of images")
    parser.add_argument("directory")
    parser.add_argument("--png", help="histogram image to write (default: DIRECTORY_histogram.png beside it)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def write_histogram(path: str, names: list[str], counts: np.ndarray, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(max(6, 0.4 * len(names)), 4), constrained_layout=True)
    axis.bar(range(len(names)), counts)
    axis.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    axis.set_ylabel("images")
    axis.set_title(title)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def run(args: argparse.Namespace) -> None:
    paths, labels, names = list_image_files(args.directory)
    names = [printable(name) for name in names]
    problems = check_image_files(paths, progress=not args.no_progress)
    counts = np.bincount(labels, minlength=len(names))
    ratio = counts.max() / counts.min()
    print(f"{args.directory}: {len(paths):,} images in {len(names)} classes, imbalance {ratio:.1f}:1 "
          f"(largest {counts.max():,}, smallest {counts.min():,})")
    width = max(len(n) for n in names)
    for name, count in zip(names, counts):
        print(f"  {name:>{width}}  {count:>8,}")
    if problems:
        print(f"{len(problems)} unreadable files:")
        for path, reason in problems.items():
            print(f"  {printable(path)}: {reason}")
    else:
        print("all files passed the structure check (whole images; their compressed data is not decoded)")
    png = args.png or os.path.normpath(args.directory).rstrip(os.sep) + "_histogram.png"
    folder = os.path.basename(os.path.normpath(args.directory))
    write_histogram(png, names, counts, f"{folder}: imbalance {ratio:.1f}:1")
    print(f"wrote {png}")
