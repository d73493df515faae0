"""fast_balance.torch samplers: epochs of the plan, shards, set_epoch, state, pickling, repeats."""

from __future__ import annotations

import doctest
import pickle
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_helpers import BATCH_SIZE, labels, stratified  # noqa: E402

import fast_balance  # noqa: E402
import fast_balance.torch.repeats  # noqa: E402
import fast_balance.torch.sampler  # noqa: E402
from fast_balance import BalancedIndexSampler  # noqa: E402
from fast_balance.torch import BalancedBatchSampler, BalancedSampler, Draw, RepeatsDataset  # noqa: E402


def plan_batches(plan, epoch):
    return plan.epoch(epoch).indices.reshape(-1, plan.batch_size).tolist()


def test_docstring_examples_run():
    for module in (fast_balance.torch.sampler, fast_balance.torch.repeats):
        result = doctest.testmod(module, extraglobs={"np": np, "fast_balance": fast_balance},
                                 optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0


def test_import_fast_balance_does_not_import_torch():
    code = "import sys, fast_balance; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_without_torch_the_layer_says_what_to_install():
    code = "import sys; sys.modules['torch'] = None\nimport fast_balance.torch"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode != 0 and "ImportError: fast_balance.torch needs PyTorch" in run.stderr


def test_sampler_yields_the_plans_epochs_and_its_length():
    sampler = BalancedSampler(labels(), seed=3)
    plan = BalancedIndexSampler(labels(), seed=3)
    assert isinstance(sampler, torch.utils.data.Sampler)
    assert len(sampler) == len(plan) == 384
    assert list(sampler) == plan.epoch(0).indices.tolist()
    assert list(sampler) == plan.epoch(1).indices.tolist()  # the next epoch without set_epoch
    sampler.set_epoch(7)
    assert list(sampler) == plan.epoch(7).indices.tolist()


def test_batch_sampler_yields_stratified_batches_and_len_counts_batches():
    sampler = BalancedBatchSampler(labels(), batch_size=BATCH_SIZE, seed=3)
    plan = BalancedIndexSampler(labels(), batch_size=BATCH_SIZE, seed=3)
    batches = list(sampler)
    assert len(sampler) == len(batches) == 48
    assert batches == plan_batches(plan, 0)
    assert all(stratified(labels()[batch]) for batch in batches)
    loader = torch.utils.data.DataLoader(range(len(labels())), batch_sampler=sampler)
    assert len(loader) == 48  # batches, not samples


@pytest.mark.parametrize("num_replicas", [2, 3])
def test_ranks_are_disjoint_equal_shards_of_the_global_epoch(num_replicas):
    ranks = [BalancedBatchSampler(labels(), batch_size=BATCH_SIZE, seed=1, num_replicas=num_replicas, rank=rank)
             for rank in range(num_replicas)]
    assert len({len(sampler) for sampler in ranks}) == 1
    size = len(ranks[0]) * BATCH_SIZE * num_replicas
    whole = plan_batches(BalancedIndexSampler(labels(), batch_size=BATCH_SIZE, seed=1, samples_per_epoch=size), 0)
    seen = [list(sampler) for sampler in ranks]
    # rank r holds batches r, r + R, ... of the global epoch: disjoint positions, union the epoch
    assert all(seen[rank] == whole[rank::num_replicas] for rank in range(num_replicas))
    assert all(stratified(labels()[batch]) for rank in seen for batch in rank)


def test_rank_errors_use_distributed_samplers_wording():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        BalancedSampler(labels(), num_replicas=2, rank=2)
    with pytest.raises(TypeError, match="takes num_replicas and rank, not num_shards"):
        BalancedSampler(labels(), num_shards=2)
    with pytest.raises(TypeError, match="batch_size"):
        BalancedBatchSampler(labels())  # type: ignore[call-arg]


def test_from_plan_wraps_any_plan_of_its_shard():
    plan = BalancedIndexSampler(labels(), batch_size=BATCH_SIZE, seed=2, num_shards=2, shard_index=1)
    sampler = BalancedBatchSampler.from_plan(plan)
    assert (sampler.num_replicas, sampler.rank) == (2, 1) and list(sampler) == plan_batches(plan, 0)
    with pytest.raises(ValueError, match="the plan is shard 1 of 2, num_replicas and rank says rank 0 of 2"):
        BalancedBatchSampler.from_plan(plan, rank=0)
    with pytest.raises(TypeError, match="plan must be a sampler of fast_balance"):
        BalancedSampler.from_plan(list(range(10)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a plan with batch_size"):
        BalancedBatchSampler.from_plan(BalancedIndexSampler(labels()))


def test_state_resumes_mid_epoch_and_at_the_end_of_one():
    sampler = BalancedBatchSampler(labels(), batch_size=BATCH_SIZE, seed=4)
    plan = sampler.plan
    stream = iter(sampler)
    taken = [next(stream) for _ in range(5)]
    state = sampler.state_dict()
    assert state == {"fingerprint": plan.fingerprint, "epoch": 0, "position": 5 * BATCH_SIZE}
    assert state == sampler.state_at(0, 5)
    again = BalancedBatchSampler(labels(), batch_size=BATCH_SIZE, seed=4)
    again.load_state_dict(state)
    assert again.epoch == 0 and taken + list(again) == plan_batches(plan, 0)
    assert list(again) == plan_batches(plan, 1)  # then the next epoch

    finished = BalancedBatchSampler(labels(), batch_size=BATCH_SIZE, seed=4)
    finished.load_state_dict(sampler.state_at(0, len(sampler)))  # epoch 0, nothing left
    assert list(finished) == [] and finished.epoch == 1
    assert list(finished) == plan_batches(plan, 1)


def test_set_epoch_keeps_a_resume_of_the_same_epoch_and_drops_another():
    sampler = BalancedSampler(labels(), seed=4)
    sampler.load_state_dict(sampler.state_at(3, 100))
    sampler.set_epoch(3)  # the usual loop sets the epoch it resumes in
    assert list(sampler) == sampler.plan.epoch(3, 100).indices.tolist()
    sampler.load_state_dict(sampler.state_at(3, 100))
    sampler.set_epoch(5)
    assert list(sampler) == sampler.plan.epoch(5).indices.tolist()


def test_a_state_of_another_plan_is_refused():
    sampler = BalancedSampler(labels(), seed=4)
    other = BalancedSampler(labels(), seed=5)
    with pytest.raises(ValueError, match="state is of another sampler"):
        sampler.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="not a whole number of batches"):
        BalancedBatchSampler(labels(), batch_size=8).load_state_dict({**BalancedBatchSampler(
            labels(), batch_size=8).state_dict(), "position": 3})


def test_pickled_sampler_continues_where_it_was():
    sampler = BalancedBatchSampler(labels(), batch_size=BATCH_SIZE, seed=6, with_repeats=True)
    stream = iter(sampler)
    head = [next(stream) for _ in range(3)]
    copy = pickle.loads(pickle.dumps(sampler))
    assert copy.state_dict() == sampler.state_dict() and copy.with_repeats
    rest = list(copy)
    assert [[int(i) for i in batch] for batch in head + rest] == plan_batches(sampler.plan, 0)


def test_draws_carry_the_plans_repeats_to_the_transform():
    sampler = BalancedSampler(labels(), seed=8, with_repeats=True)
    epoch = sampler.plan.epoch(0)
    draws = list(sampler)
    assert all(isinstance(draw, Draw) for draw in draws)
    assert [int(d) for d in draws] == epoch.indices.tolist()
    assert [d.repeats for d in draws] == epoch.repeats.tolist()
    assert pickle.loads(pickle.dumps(draws[-1])).repeats == draws[-1].repeats
    items = RepeatsDataset(torch.arange(len(labels())) * 10, lambda x, r: int(x) + r)
    assert [items[d] for d in draws[:20]] == [10 * i + r for i, r in zip(epoch.indices[:20], epoch.repeats[:20])]
    assert torch.arange(5)[Draw(3, 1)] == 3 and np.arange(5)[Draw(4, 0)] == 4  # still an index everywhere


def test_more_than_2_24_samples():
    # WeightedRandomSampler cannot draw from more than 2^24 categories (torch.multinomial).
    size = (1 << 24) + 4096
    rare = np.zeros(size, dtype=np.int8)
    rare[-1000:] = 1
    sampler = BalancedBatchSampler(rare, batch_size=64, samples_per_epoch=4096, seed=0, num_replicas=2, rank=1)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 32
    assert max(max(batch) for batch in batches) > 1 << 24
    assert all(np.bincount(rare[batch], minlength=2).tolist() == [32, 32] for batch in batches)
    with pytest.raises(RuntimeError, match="2\\^24"):
        next(iter(torch.utils.data.WeightedRandomSampler(torch.ones(size, dtype=torch.float64), 10)))


def test_an_iteration_that_has_not_begun_is_begun_again_where_it_was_to_begin():
    # DataLoader with workers calls iter() twice before reading; a resume survives that.
    sampler = BalancedSampler(labels(), seed=4)
    sampler.load_state_dict(sampler.state_at(2, 100))
    iter(sampler)
    assert list(sampler) == sampler.plan.epoch(2, 100).indices.tolist()
    stream = iter(sampler)  # epoch 3, begun: a new iteration starts the epoch again
    next(stream)
    assert list(sampler) == sampler.plan.epoch(3).indices.tolist()
