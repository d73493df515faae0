"""Repeat factor sampling on a generated long-tailed multi-label set: fast_balance against Detectron2's rounding.

    python benchmarks/repeat_factor_frequencies.py   # the table of docs/performance-repeat-factors.md

Both sample the same LVIS factors r(i) (threshold 1e-3): fast_balance's `repeat_factor_sampler`
(a `WeightedIndexSampler`, systematic rounding, an epoch of a fixed length) and Detectron2's
`RepeatFactorTrainingSampler` rounding (independent per image, re-implemented in
repeat_factor_baselines.py). Reported over several epochs: the epoch length, how far each image's
count is from r(i), and how far each class's count is from its expectation sum_i r(i)[c in i].
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from repeat_factor_baselines import detectron2_epoch, long_tailed_label_sets

import fast_balance


def class_counts(sets: fast_balance.LabelSets, indices: np.ndarray) -> np.ndarray:
    per_image = np.bincount(indices, minlength=sets.num_samples)
    return np.bincount(sets.indices, weights=np.repeat(per_image, sets.sizes), minlength=sets.num_classes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50_000)
    parser.add_argument("--classes", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--threshold", type=float, default=1e-3)
    args = parser.parse_args()

    sets = fast_balance.as_label_sets(long_tailed_label_sets(args.images, args.classes, seed=0))
    factors = fast_balance.repeat_factors(sets, threshold=args.threshold)
    before = sets.class_counts().astype(np.float64)
    expected = np.bincount(sets.indices, weights=np.repeat(factors, sets.sizes), minlength=sets.num_classes)
    sampler = fast_balance.repeat_factor_sampler(sets, threshold=args.threshold, seed=0)
    runs = {
        "fast_balance repeat_factor_sampler": [sampler.epoch(e).indices for e in range(args.epochs)],
        "Detectron2 rounding (re-implemented)": [detectron2_epoch(factors, e) for e in range(args.epochs)],
    }
    present = before > 0
    rare = present & (before <= np.quantile(before[present], 0.1))
    lines = [
        f"Produced by `python benchmarks/repeat_factor_frequencies.py` on {time.strftime('%Y-%m-%d %H:%M')} "
        f"(Python {platform.python_version()}): {args.images:,} images, {int(present.sum())} classes present of "
        f"{args.classes}, {sets.sizes.min()}-{sets.sizes.max()} labels per image, threshold {args.threshold:g}, "
        f"{args.epochs} epochs.",
        "",
        f"Before: the rarest class is in {int(before[present].min())} images, the most common in "
        f"{int(before.max()):,}; {int((factors > 1).sum()):,} images have r(i) > 1, sum r(i) = {factors.sum():,.1f}.",
        "",
        "| sampler | epoch length (min-max) | images off floor/ceil of r(i) | max abs(image count - r(i)) "
        "| class count / expected, rarest 10% (min-max over classes and epochs) "
        "| RMS of (class count - expected) / expected |",
        "|---|---|---|---|---|---|",
    ]
    for name, epochs in runs.items():
        lengths = [len(e) for e in epochs]
        per_image = np.stack([np.bincount(e, minlength=sets.num_samples) for e in epochs])
        off = int(np.sum((per_image < np.floor(factors)) | (per_image > np.ceil(factors))))
        deviation = float(np.abs(per_image - factors).max())
        classes = np.stack([class_counts(sets, e) for e in epochs])
        ratio = classes[:, present] / expected[present]
        rare_ratio = classes[:, rare] / expected[rare]
        rms = float(np.sqrt(np.mean((ratio - 1.0) ** 2)))
        lines.append(
            f"| {name} | {min(lengths):,}-{max(lengths):,} | {off} | {deviation:.2f} "
            f"| {rare_ratio.min():.2f}-{rare_ratio.max():.2f} | {rms:.4f} |"
        )
    share_before = before[rare].sum() / before.sum()
    share_after = expected[rare].sum() / expected.sum()
    lines += ["", f"The rarest 10% of classes hold {share_before:.2%} of the label occurrences before and "
                  f"{share_after:.2%} of them in expectation after repeat factor sampling."]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
