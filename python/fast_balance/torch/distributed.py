"""Which shard of the epoch this process reads: ``num_replicas`` and ``rank`` as DistributedSampler has them."""

from __future__ import annotations

import torch.distributed as dist

from .._checks import check_int


def replicas(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    """``(num_replicas, rank)``, each defaulting to the initialised default process group.

    Unlike DistributedSampler, which then needs one, a process without an initialised group
    defaults to ``(1, 0)``: the whole epoch, as a single-process DataLoader wants it.
    """
    grouped = dist.is_available() and dist.is_initialized()
    if num_replicas is None:
        num_replicas = dist.get_world_size() if grouped else 1
    if rank is None:
        rank = dist.get_rank() if grouped else 0
    num_replicas = check_int("num_replicas", num_replicas, minimum=1)
    rank = check_int("rank", rank)
    if rank >= num_replicas or rank < 0:
        raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
    return num_replicas, rank
