"""One rank of the DistributedDataParallel test: trains a tiny model, records what it saw."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch_helpers import BATCH_SIZE, COUNTS, labels

from fast_balance.torch import BalancedBatchSampler

EPOCHS = 2


def train(rank: int, world_size: int, folder: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank, world_size=world_size)
    try:
        record = _train_and_record()
        Path(folder, f"rank{rank}.json").write_text(json.dumps(record))
    finally:
        dist.destroy_process_group()
    # Gloo's worker threads outlive destroy_process_group; one that frees its last finished work
    # (which holds a Python object) while the interpreter finalizes aborts the process with
    # std::terminate (seen here about once in 50 runs under load; pytorch/pytorch#179291). Everything
    # this rank has to say is written, so it leaves without finalizing, as multiprocessing's own
    # forked children do.
    os._exit(0)


def _train_and_record() -> dict[str, object]:
    values = torch.as_tensor(labels(), dtype=torch.int64)
    features = torch.nn.functional.one_hot(values, len(COUNTS)).float() + 0.1 * torch.randn(len(values), 4)
    dataset = TensorDataset(torch.arange(len(values)), features, values)
    sampler = BalancedBatchSampler(labels(), batch_size=BATCH_SIZE, seed=21)  # rank and world from the group
    loader = DataLoader(dataset, batch_sampler=sampler)
    torch.manual_seed(0)
    model = DistributedDataParallel(torch.nn.Linear(4, len(COUNTS)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    seen, losses = [], []
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        batches = []
        for indices, x, y in loader:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()  # all-reduces: a rank with fewer batches would hang here
            optimizer.step()
            batches.append(indices.tolist())
            losses.append(loss.item())
        seen.append(batches)
    return {"rank": sampler.rank, "num_replicas": sampler.num_replicas, "seen": seen, "losses": losses,
            "weight": model.module.weight.detach().flatten().tolist()}
