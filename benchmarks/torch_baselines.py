"""What PyTorch users balance with today, for benchmarks/test_torch_speed.py.

- ``WeightedRandomSampler`` with weights 1 / n_c (each sample weighted by the inverse of its
  class's size), the usual recipe; it draws with replacement through ``torch.multinomial``, which
  refuses more than 2^24 categories (pytorch/pytorch#2576).
- The same wrapped for DistributedDataParallel the way catalyst's ``DistributedSamplerWrapper``
  does it (its logic written anew here): every rank runs the whole inner sampler into a list, a
  ``DistributedSampler`` over that list's positions picks the rank's share, and the rank yields
  the list's entries there.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DistributedSampler, Sampler, WeightedRandomSampler


def inverse_frequency_sampler(labels: np.ndarray, seed: int = 0) -> WeightedRandomSampler:
    """``WeightedRandomSampler`` of ``len(labels)`` draws, sample i weighted 1 / n_(label i)."""
    counts = np.bincount(labels)
    weights = torch.from_numpy(1.0 / counts[labels])
    return WeightedRandomSampler(weights, num_samples=len(labels), replacement=True,
                                 generator=torch.Generator().manual_seed(seed))


class DistributedSamplerWrapper(Sampler[int]):
    """The rank's share of one whole run of ``sampler``, picked as catalyst's wrapper picks it:
    every rank lists the entire run, then keeps the positions a ``DistributedSampler`` over the
    run's length gives it (shuffled, padded to equal shares)."""

    def __init__(self, sampler: Sampler[int], num_replicas: int, rank: int, shuffle: bool = True) -> None:
        self.sampler = sampler
        self.positions = DistributedSampler(range(len(sampler)), num_replicas=num_replicas,  # type: ignore[arg-type]
                                            rank=rank, shuffle=shuffle)

    def set_epoch(self, epoch: int) -> None:
        self.positions.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.positions)

    def __iter__(self) -> Iterator[int]:
        run = list(self.sampler)
        return iter([run[position] for position in self.positions])
