"""``fast-balance inspect DIR``: class counts, imbalance, unreadable files and a histogram PNG.
``fast-balance inspect --manifest FILE.csv``: a multi-label manifest (`inspect_manifest`).

The folder is listed as ``from_directory`` lists it (hidden files and folders ignored) and every
file gets `fast_balance.files.check_image_file`'s structure check, without decoding.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from .files import check_image_files, list_image_files, printable
from .plots import write_histogram


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Registers the ``inspect`` sub-command."""
    parser = commands.add_parser("inspect", help="describe a folder of class sub-folders of images, or a "
                                                 "multi-label manifest (--manifest)")
    parser.add_argument("directory", nargs="?")
    parser.add_argument("--manifest", help="a CSV of path,labels (labels separated by spaces or ';'): per-class "
                                           "frequencies before and after repeat factor sampling")
    parser.add_argument("--threshold", type=float, default=1e-3, help="repeat factor threshold t (default: 1e-3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampled epoch (--manifest)")
    parser.add_argument("--png", help="histogram image to write (default: DIRECTORY_histogram.png beside the "
                                      "folder, never inside it)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def default_png(directory: str) -> str:
    """Where the histogram goes unless asked: beside the folder, named after it, never inside it.

    Examples
    --------
    >>> default_png("/data/parts/")
    '/data/parts_histogram.png'
    >>> import os
    >>> default_png(".") == os.path.join(os.path.dirname(os.getcwd()), os.path.basename(os.getcwd()) + "_histogram.png")
    True
    """
    parent, name = os.path.split(os.path.abspath(directory))  # "." and "parts/" name the folder itself
    return os.path.join(parent, f"{name or 'root'}_histogram.png")


def run(args: argparse.Namespace) -> None:
    if (args.directory is None) == (args.manifest is None):
        raise ValueError("inspect takes a DIRECTORY or --manifest FILE.csv (one of them)")
    if args.manifest is not None:
        from . import inspect_manifest

        inspect_manifest.run(args)
        return
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
    png = os.path.abspath(args.png) if args.png else default_png(args.directory)
    title = f"{os.path.basename(os.path.abspath(args.directory))}: imbalance {ratio:.1f}:1"
    try:
        write_histogram(png, names, counts, title)
    except ImportError as error:
        print(f"no histogram written: {error}")
        return
    print(f"wrote the histogram to {png}")
