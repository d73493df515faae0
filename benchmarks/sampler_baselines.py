"""The index samplers fast_balance is compared with, written for the benchmark, and its data.

- `blog_class_indices` + `blog_example_1_indices`: the blog post's Example 1 class iterators
  (per-class `np.where`, one Python iterator per class, classes in order, no shuffle).
- `NumpyBalancedSampler`: what a practitioner writes in vectorised NumPy for balanced epochs of
  ``num_classes * largest class`` without replacement: per-class permutation tiled to the quota,
  concatenated, shuffled globally.
- `tf_sample_from_datasets`: TensorFlow's own balancing over per-class datasets of indices.

None of them stratifies batches, carries pools over epochs, or shards; they are the cheapest
honest versions of "give me a balanced epoch of indices".
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from fast_balance.synthetic import long_tailed_counts, long_tailed_labels

RATIO = 100.0  # largest class / smallest class in every benchmark label set


def largest_for(total: int, num_classes: int, ratio: float = RATIO) -> int:
    """The ``largest`` for which `long_tailed_counts` sums closest to ``total`` (bisection).

    The sum grows monotonically with ``largest``; with the minimum class size of 1 it is at
    least ``num_classes``, so ``total`` must be at least that.
    """
    if total < num_classes:
        raise ValueError(f"total ({total}) must be >= num_classes ({num_classes})")

    def size(largest: int) -> int:
        return int(long_tailed_counts(num_classes, largest, ratio).sum())

    low, high = 1, total  # size(high) >= total since the largest class alone holds `total`
    while low < high:
        middle = (low + high) // 2
        if size(middle) < total:
            low = middle + 1
        else:
            high = middle
    # `low` is the smallest with size >= total; the one below may be closer.
    if low > 1 and total - size(low - 1) < size(low) - total:
        return low - 1
    return low


def labels_for(total: int, num_classes: int, ratio: float = RATIO, seed: int = 0) -> np.ndarray:
    """About ``total`` shuffled int32 labels in ``num_classes`` long-tailed classes (largest/smallest = ratio).

    Examples
    --------
    >>> labels = labels_for(10_000, 10)
    >>> abs(labels.size - 10_000) <= 10, int(labels.max()) + 1
    (True, 10)
    """
    return long_tailed_labels(num_classes, largest_for(total, num_classes, ratio), ratio, seed=seed)


# -- a. the blog post's Example 1 -------------------------------------------------------------------

def blog_class_indices(labels, num_classes: int | None = None) -> dict:
    """Example 1's set-up: ``{class: np.where(labels == class)[0]}``, one full pass per class.

    The post calls ``np.array(labels)`` inside the comprehension (a copy per class); converting
    once here is slightly kinder to it.
    """
    labels = np.asarray(labels)
    class_names = np.unique(labels).tolist() if num_classes is None else list(range(num_classes))
    return {c: np.where(labels == c)[0] for c in class_names}


def blog_example_1_indices(class_indices: dict, batch_size: int) -> Iterator[np.int64]:
    """Example 1's sampling loop as an endless generator of indices (no images, no augmentation).

    Every batch takes ``batch_size // num_classes`` samples from each class in order, through
    one Python iterator per class restarted on StopIteration. With more classes than
    ``batch_size`` that quotient is 0 and the post's loop yields nothing, so each class gives
    ``max(1, batch_size // num_classes)`` here to keep it producing.
    """
    class_names = list(class_indices)
    per_class = max(1, batch_size // len(class_names))
    class_iters = {c: iter(idx) for c, idx in class_indices.items()}
    while True:
        for c in class_names:
            for _ in range(per_class):
                try:
                    index = next(class_iters[c])
                except StopIteration:
                    class_iters[c] = iter(class_indices[c])
                    index = next(class_iters[c])
                yield index


# -- b. vectorised NumPy ----------------------------------------------------------------------------

class NumpyBalancedSampler:
    """Balanced epochs of ``num_classes * largest`` samples without replacement, in NumPy.

    Same quotas and output as ``BalancedIndexSampler(labels)`` (target "balanced",
    samples_per_epoch "max", replacement False, unbatched): int64 indices, int32 labels and
    int32 repeats. It differs in that each class reuses one permutation for all its passes in an
    epoch and starts afresh every epoch (no pool carried over).

    Examples
    --------
    >>> sampler = NumpyBalancedSampler(np.array([0, 0, 0, 1]))
    >>> epoch = sampler.epoch(0)
    >>> sampler.samples_per_epoch, np.bincount(epoch[1]).tolist(), int(epoch[2].max())
    (6, [3, 3], 2)
    """

    def __init__(self, labels, seed: int = 0) -> None:
        labels = np.asarray(labels)
        counts = np.bincount(labels)
        self.classes = np.flatnonzero(counts)
        self.counts = counts[self.classes]
        # Class members side by side, so each class is a slice: one sort at set-up.
        self.members = np.argsort(labels, kind="stable")
        self.starts = np.concatenate([[0], np.cumsum(self.counts)])
        self.quota = int(self.counts.max())
        self.samples_per_epoch = self.quota * self.classes.size
        # Labels and repeats before the shuffle do not change between epochs.
        self.slot_labels = np.repeat(self.classes.astype(np.int32), self.quota)
        self.slot_repeats = (np.tile(np.arange(self.quota, dtype=np.int32), self.classes.size)
                             // np.repeat(self.counts.astype(np.int32), self.quota))
        self.seed = seed

    def epoch(self, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indices, labels, repeats)`` of epoch ``epoch``, from ``default_rng([seed, epoch])``."""
        rng = np.random.default_rng([self.seed, epoch])
        quota = self.quota
        indices = np.empty(self.samples_per_epoch, dtype=np.int64)
        for k in range(self.classes.size):
            order = rng.permutation(self.members[self.starts[k]:self.starts[k + 1]])
            passes, rest = divmod(quota, order.size)
            block = indices[k * quota:(k + 1) * quota]
            block[:passes * order.size].reshape(passes, order.size)[:] = order
            block[passes * order.size:] = order[:rest]
        shuffle = rng.permutation(self.samples_per_epoch)
        return indices[shuffle], self.slot_labels[shuffle], self.slot_repeats[shuffle]


# -- c. tf.data.Dataset.sample_from_datasets ------------------------------------------------------

def tf_sample_from_datasets(labels, seed: int = 0):
    """One ``from_tensor_slices(idx).shuffle(len).repeat()`` per class, drawn with equal weights.

    Returns the unbatched dataset of int64 indices. TensorFlow is imported here only, so that the
    other baselines run without it.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    labels = np.asarray(labels)
    members = np.argsort(labels, kind="stable")
    counts = np.bincount(labels)
    classes = np.flatnonzero(counts)
    per_class = [
        tf.data.Dataset.from_tensor_slices(idx).shuffle(idx.size, seed=seed).repeat()
        for idx in np.split(members, np.cumsum(counts[classes])[:-1])
    ]
    return tf.data.Dataset.sample_from_datasets(per_class, weights=[1.0 / classes.size] * classes.size, seed=seed)
