"""What PyTorch users balance with today, for benchmarks/test_torch_speed.py.

- ``WeightedRandomSampler`` with weights 1 / n_c (each sample weighted by the inverse of its
  class's size), the usual recipe; it draws with replacement through ``torch.multinomial``, which
  refuses more than 2^24 categories (pytorch/pytorch#2576).
- The same wrapped for DistributedDataParallel as catalyst's ``DistributedSamplerWrapper`` does it
  (re-implemented here from catalyst's ``catalyst/data/sampler.py``): every rank runs the whole
  inner sampler into a list, a ``DistributedSampler`` over that list picks the rank's share of
  its positions, and the rank yields the list's entries there.
"""

from __future__ import annotations

from operator import itemgetter

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler, Sampler, WeightedRandomSampler


def inverse_frequency_sampler(labels: np.ndarray, seed: int = 0) -> WeightedRandomSampler:
    """``WeightedRandomSampler`` of ``len(labels)`` draws, sample i weighted 1 / n_(label i)."""
    counts = np.bincount(labels)
    weights = torch.from_numpy(1.0 / counts[labels])
    return WeightedRandomSampler(weights, num_samples=len(labels), replacement=True,
                                 generator=torch.Generator().manual_seed(seed))


class DatasetFromSampler(Dataset[int]):
    """The indices of one run of ``sampler``, as a dataset (catalyst's, as is)."""

    def __init__(self, sampler: Sampler[int]) -> None:
        self.sampler = sampler
        self.sampler_list: list[int] | None = None

    def __getitem__(self, index: int) -> int:
        if self.sampler_list is None:
            self.sampler_list = list(self.sampler)
        return self.sampler_list[index]

    def __len__(self) -> int:
        return len(self.sampler)  # type: ignore[arg-type]


class DistributedSamplerWrapper(DistributedSampler[int]):
    """catalyst's wrapper: the rank's share of one whole run of ``sampler``."""

    def __init__(self, sampler: Sampler[int], num_replicas: int, rank: int, shuffle: bool = True) -> None:
        super().__init__(DatasetFromSampler(sampler), num_replicas=num_replicas, rank=rank, shuffle=shuffle)
        self.sampler = sampler

    def __iter__(self):
        self.dataset = DatasetFromSampler(self.sampler)
        indexes_of_indexes = super().__iter__()
        subsampler_indexes = self.dataset
        return iter(itemgetter(*indexes_of_indexes)(subsampler_indexes))


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field))


def peak_extra(action):
    """Runs ``action`` and returns (its result, peak resident bytes above the level before it)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets the peak (VmHWM) to the current resident set
    before = _status("VmRSS:")
    result = action()
    return result, _status("VmHWM:") - before
