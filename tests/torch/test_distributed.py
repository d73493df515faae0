"""A real two-process DistributedDataParallel run (gloo, CPU): what each rank saw is its shard."""

from __future__ import annotations

import json

import pytest

multiprocessing = pytest.importorskip("torch.multiprocessing")
from ddp_worker import EPOCHS, train  # noqa: E402
from torch_helpers import BATCH_SIZE, labels, stratified  # noqa: E402

from fast_balance import BalancedIndexSampler  # noqa: E402

WORLD = 2


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp")
    multiprocessing.spawn(train, args=(WORLD, str(folder)), nprocs=WORLD, join=True)
    return [json.loads((folder / f"rank{rank}.json").read_text()) for rank in range(WORLD)]


def test_ranks_took_rank_and_world_size_from_the_process_group(ranks):
    assert [(record["rank"], record["num_replicas"]) for record in ranks] == [(0, 2), (1, 2)]


def test_each_rank_saw_its_shard_and_together_the_global_epoch(ranks):
    for epoch in range(EPOCHS):
        per_rank = [record["seen"][epoch] for record in ranks]
        assert len(per_rank[0]) == len(per_rank[1]) > 0  # same batch count: no rank waits at the last step
        size = len(per_rank[0]) * BATCH_SIZE * WORLD
        whole = BalancedIndexSampler(labels(), batch_size=BATCH_SIZE, seed=21, samples_per_epoch=size).epoch(epoch)
        batches = whole.indices.reshape(-1, BATCH_SIZE).tolist()
        assert per_rank[0] == batches[0::2] and per_rank[1] == batches[1::2]  # disjoint; union = the epoch
        assert all(stratified(labels()[batch]) for rank in per_rank for batch in rank)
    assert ranks[0]["seen"][0] != ranks[0]["seen"][1]


def test_the_model_trained_in_step(ranks):
    assert ranks[0]["weight"] == ranks[1]["weight"]  # DDP kept the replicas equal
    losses = ranks[0]["losses"]
    assert sum(losses[-5:]) < sum(losses[:5])
