"""Command line: ``fast-balance demo`` (the default) balances generated long-tailed data;
``fast-balance inspect DIR`` describes an image folder."""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from . import inspect_dir
from .histogram import histogram_text
from .sampler import BalancedIndexSampler
from .synthetic import long_tailed_labels


def demo(args: argparse.Namespace) -> None:
    labels = long_tailed_labels(args.classes, args.largest, args.ratio, seed=args.seed)
    counts = np.bincount(labels)
    print(f"Generated long-tailed labels: {labels.size:,} samples, {args.classes} classes, "
          f"imbalance {counts.max() / counts.min():.0f}:1\n")
    print("Class histogram of the data:")
    print(histogram_text(counts))

    sampler = BalancedIndexSampler(labels, batch_size=args.batch_size, seed=args.seed)
    epoch = sampler.epoch(0)
    print(f"\nOne balanced epoch ({sampler.samples_per_epoch:,} samples, {sampler.num_batches:,} batches of "
          f"{args.batch_size}):")
    print(histogram_text(np.bincount(epoch.labels, minlength=args.classes)))
    first = np.bincount(epoch.labels[: args.batch_size], minlength=args.classes)
    print(f"\nFirst batch by class: {first.tolist()}")
    fresh = np.mean(epoch.repeats == 0)
    print(f"First views: {fresh:.1%} of the epoch; the rest are repeats of minority samples (to augment).")

    timed = BalancedIndexSampler(labels, seed=args.seed)
    best = float("inf")
    for e in range(3):
        begin = time.perf_counter()
        timed.epoch(e)
        best = min(best, time.perf_counter() - begin)
    print(f"\nSampler speed: {timed.samples_per_epoch / best / 1e6:,.0f} M indices/s "
          f"({timed.samples_per_epoch:,} indices in {best * 1e3:.1f} ms, best of 3, one core)")


def image_demo(args: argparse.Namespace) -> None:
    try:
        from .tf import demo as tf_demo
    except ImportError as error:
        print(f"\nThe image pipeline part of the demo needs TensorFlow. {error}")
        return
    counts = args.image_counts or tf_demo.DEFAULT_COUNTS
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    image_dir = args.image_dir or os.path.join(out, "images")
    png = args.png or os.path.join(out, "fast_balance_demo.png")
    tf_demo.run(image_dir, png, image_size=args.image_size, batch_size=args.batch_size, seed=args.seed, counts=counts)


def default_out() -> str:
    """Where the demo keeps what it makes: the user's cache folder, not the current directory."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "fast_balance", "demo")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fast-balance", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    demo_parser = commands.add_parser("demo", help="balance a generated label set and a generated image set")
    for p in (parser, demo_parser):
        p.add_argument("--classes", type=int, default=10)
        p.add_argument("--largest", type=int, default=300_000, help="samples of the largest class")
        p.add_argument("--ratio", type=float, default=100.0, help="largest / smallest class")
        p.add_argument("--batch-size", type=int, default=64)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--no-images", action="store_true", help="skip the image pipeline part")
        p.add_argument("--out", default=default_out(),
                       help="folder for the generated images (about 50 MB, kept and reused by later runs; delete "
                            "it to free the space) and the report PNG (default: %(default)s)")
        p.add_argument("--image-dir", help="where the generated JPEGs go instead of OUT/images")
        p.add_argument("--image-size", type=int, default=128)
        p.add_argument("--image-counts", type=int, nargs="+", help="images per class (default: 1000 down to 20)")
        p.add_argument("--png", help="report picture to write instead of OUT/fast_balance_demo.png")
    inspect_dir.add_parser(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "inspect":
            args.func(args)
            return
        demo(args)
        if not args.no_images:
            image_demo(args)
    except (ValueError, OSError) as error:  # bad input: a message, not a traceback
        parser.exit(2, f"fast-balance: error: {error}\n")


if __name__ == "__main__":
    main()
