"""PyTorch layer: class-balanced samplers for DataLoader, DistributedDataParallel and StatefulDataLoader.

Importing this module imports PyTorch; ``import fast_balance`` alone does not. PyTorch is not a
dependency of fast_balance: install the build that suits the machine as PyTorch's docs say.

- `BalancedSampler` (a ``Sampler[int]``) and `BalancedBatchSampler` (a ``Sampler[list[int]]``) wrap
  a plan (`fast_balance.BalancedIndexSampler`, or any sampler of this package via ``from_plan``);
- `Draw` and `RepeatsDataset` bring each index's ``repeats`` to the transform.
"""

from __future__ import annotations

_INSTALL_TORCH = """\
fast_balance.torch needs PyTorch, which is not installed. fast_balance never installs PyTorch itself, \
so that it cannot replace a build you chose (CPU, CUDA or ROCm); install the one that the "Get started" \
page of PyTorch gives for this machine (its command picks the build's package index), then import \
fast_balance.torch again."""


def _require_torch() -> None:
    """Raises ImportError naming what to install when PyTorch is missing."""
    try:
        import torch  # noqa: F401
    except ModuleNotFoundError as error:
        # Only a missing top-level package means "not installed"; a torch that fails to load keeps its error.
        if error.name != "torch":
            raise
        raise ImportError(_INSTALL_TORCH, name="torch") from error


_require_torch()

from .repeats import Draw, RepeatsDataset  # noqa: E402 (after the guard, so a missing torch is explained)
from .sampler import BalancedBatchSampler, BalancedSampler  # noqa: E402

__all__ = ["BalancedBatchSampler", "BalancedSampler", "Draw", "RepeatsDataset"]
