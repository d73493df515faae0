"""DataLoader and StatefulDataLoader: worker processes, repeats, and a resume after SIGKILL."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader  # noqa: E402
from torch_helpers import BATCH_SIZE, labels, stratified, tag_repeats  # noqa: E402
from workers import run_worker_script  # noqa: E402

from fast_balance import BalancedIndexSampler  # noqa: E402
from fast_balance.torch import BalancedBatchSampler, BalancedSampler, RepeatsDataset  # noqa: E402

HERE = Path(__file__).resolve().parent
# torchdata 0.11 calls an API that torch 2.13 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:.set_vital. is deprecated:UserWarning")


def plan_batches(plan, epoch):
    return plan.epoch(epoch).indices.reshape(-1, plan.batch_size).tolist()


def test_two_spawned_workers_give_the_plans_batches_with_their_repeats():
    sampler = BalancedBatchSampler(labels(), batch_size=BATCH_SIZE, seed=2, with_repeats=True)
    dataset = RepeatsDataset(list(range(len(labels()))), tag_repeats)
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=2, multiprocessing_context="spawn",
                        persistent_workers=True)
    epochs = []
    for epoch in range(2):
        sampler.set_epoch(epoch)
        epochs.append([(items.tolist(), repeats.tolist()) for items, repeats in loader])
    for epoch, batches in enumerate(epochs):
        expected = sampler.plan.epoch(epoch)
        assert [items for items, _ in batches] == expected.indices.reshape(-1, BATCH_SIZE).tolist()
        assert [repeats for _, repeats in batches] == expected.repeats.reshape(-1, BATCH_SIZE).tolist()
        assert all(stratified(labels()[items]) for items, _ in batches)
    assert epochs[0] != epochs[1]


def test_index_sampler_with_the_loaders_batch_size_gives_the_same_batches():
    sampler = BalancedSampler(labels(), batch_size=BATCH_SIZE, seed=2)
    loader = DataLoader(torch.arange(len(labels())), sampler=sampler, batch_size=BATCH_SIZE)
    assert len(loader) == 48 and [batch.tolist() for batch in loader] == plan_batches(sampler.plan, 0)


@pytest.mark.parametrize("num_workers", [0, 2])
@pytest.mark.parametrize("stop", [5, 48, 50])  # mid-epoch, just after the last batch of epoch 0, in epoch 1
def test_stateful_dataloader_resumes_in_process(num_workers, stop):
    stateful = pytest.importorskip("torchdata.stateful_dataloader")

    def loader():
        sampler = BalancedBatchSampler(labels(), batch_size=BATCH_SIZE, seed=9)
        return sampler, stateful.StatefulDataLoader(torch.arange(len(labels())), batch_sampler=sampler,
                                                    num_workers=num_workers)

    sampler, first = loader()
    seen, state, stopped_in = [], None, None
    for epoch in range(2):
        sampler.set_epoch(epoch)
        for batch in first:
            seen.append(batch.tolist())
            if len(seen) == stop:
                state, stopped_in = first.state_dict(), epoch
                break
        if state is not None:
            break
    sampler, second = loader()
    second.load_state_dict(state)
    for epoch in range(stopped_in, 2):  # the loop resumes in the epoch it stopped in
        sampler.set_epoch(epoch)
        seen += [batch.tolist() for batch in second]
    assert seen == plan_batches(sampler.plan, 0) + plan_batches(sampler.plan, 1)


def run_worker(state: Path, stop_after: int | None = None, timeout: float = 300) -> None:
    """Runs resume_worker.py; with ``stop_after``, SIGKILLs its process group from outside once it
    has saved that many batches."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    command = [sys.executable, str(HERE / "resume_worker.py"), str(state)]
    # The process group: the trainer and its DataLoader workers.
    run_worker_script(command, env, stop_after, Path(f"{state}.stopped"), timeout, process_group=True)


def test_killed_stateful_dataloader_resumes_as_the_uninterrupted_run(tmp_path):
    stateful = pytest.importorskip("torchdata.stateful_dataloader")  # noqa: F841
    state = tmp_path / "state.pt"
    run_worker(state, stop_after=53)  # in the second epoch, with batches prefetched by the workers
    assert len(torch.load(state, weights_only=False)["seen"]) == 53
    run_worker(state)
    seen = torch.load(state, weights_only=False)["seen"]
    plan = BalancedIndexSampler(labels(), batch_size=BATCH_SIZE, seed=11)
    assert seen == plan_batches(plan, 0) + plan_batches(plan, 1)
