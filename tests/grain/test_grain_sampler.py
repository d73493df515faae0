"""fast_balance.grain: Grain's DataLoader yields the plan's balanced records, resumes, shards."""

from __future__ import annotations

import doctest
import pickle
import subprocess
import sys

import numpy as np
import pytest

grain = pytest.importorskip("grain.python")

import fast_balance  # noqa: E402
import fast_balance.grain.sampler  # noqa: E402
import fast_balance.grain.source  # noqa: E402
from fast_balance import BalancedIndexSampler  # noqa: E402
from fast_balance.grain import BalancedRecordMetadata, BalancedSampler, RepeatsSource  # noqa: E402

COUNTS = (50, 10, 4)
BATCH = 6


def labels() -> np.ndarray:
    values = np.repeat(np.arange(len(COUNTS)), COUNTS)
    np.random.default_rng(2).shuffle(values)
    return values


def batches(plan, epochs):
    return [batch for epoch in range(epochs) for batch in plan.epoch(epoch).indices.reshape(-1, BATCH).tolist()]


def run(sampler, *, worker_count=0, data_source=None, operations=None, stop=None, state=None):
    """Batches of a DataLoader over ``sampler``; with ``stop``, the state after that many."""
    loader = grain.DataLoader(data_source=np.arange(len(labels())) if data_source is None else data_source,
                              sampler=sampler, operations=[grain.Batch(BATCH)] if operations is None else operations,
                              worker_count=worker_count)
    iterator = iter(loader)
    if state is not None:
        iterator.set_state(state)
    out = []
    for batch in iterator:
        out.append(batch.tolist() if isinstance(batch, np.ndarray) else batch)
        if stop is not None and len(out) == stop:
            state = iterator.get_state()
            break
    return out, state


def test_docstring_examples_run():
    for module in (fast_balance.grain.sampler, fast_balance.grain.source):
        result = doctest.testmod(module, extraglobs={"np": np, "fast_balance": fast_balance},
                                 optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0


def test_import_fast_balance_does_not_import_grain():
    code = "import sys, fast_balance; print('grain' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_records_carry_the_plans_metadata():
    sampler = BalancedSampler(labels(), batch_size=BATCH, seed=1)
    epoch = sampler.plan.epoch(0)
    record = sampler[5]
    assert isinstance(record, BalancedRecordMetadata) and isinstance(record, grain.RecordMetadata)
    assert (record.index, record.record_key, record.label, record.repeats, record.epoch) == (
        5, int(epoch.indices[5]), int(epoch.labels[5]), int(epoch.repeats[5]), 0)
    assert record.rng.integers(1 << 30) == sampler[5].rng.integers(1 << 30) != sampler[6].rng.integers(1 << 30)
    assert sampler[len(sampler.plan)].epoch == 1 and len(sampler) == sys.maxsize
    with pytest.raises(IndexError, match="out of bounds"):
        BalancedSampler(labels(), num_epochs=1)[192]


@pytest.mark.parametrize("worker_count", [0, 2])
def test_loader_yields_the_plans_stratified_batches_and_resumes_exactly(worker_count):
    sampler = BalancedSampler(labels(), batch_size=BATCH, num_epochs=2, worker_count=worker_count, seed=1)
    whole, _ = run(sampler, worker_count=worker_count)
    assert whole == batches(sampler.plan, 2)
    assert all(np.bincount(labels()[batch], minlength=3).tolist() == [2, 2, 2] for batch in whole)
    head, state = run(sampler, worker_count=worker_count, stop=29)  # in the second epoch
    tail, _ = run(pickle.loads(pickle.dumps(sampler)), worker_count=worker_count, state=state)
    assert head + tail == whole


def test_a_checkpoint_of_another_sampler_is_refused():
    sampler = BalancedSampler(labels(), batch_size=BATCH, seed=1)
    _, state = run(sampler, stop=2)
    with pytest.raises(ValueError, match="Sampler in checkpoint does not match dataloader sampler"):
        run(BalancedSampler(labels(), batch_size=BATCH, seed=2), state=state)


def test_shards_from_shard_options_are_disjoint_and_together_the_epoch():
    shards = [BalancedSampler(labels(), batch_size=BATCH, num_epochs=1, seed=3,
                              shard_options=grain.ShardOptions(index, 2, drop_remainder=True)) for index in range(2)]
    seen = [run(sampler)[0] for sampler in shards]  # each DataLoader takes the sampler's shard options
    assert len(seen[0]) == len(seen[1])
    size = len(seen[0]) * BATCH * 2
    whole = batches(BalancedIndexSampler(labels(), batch_size=BATCH, seed=3, samples_per_epoch=size), 1)
    assert seen[0] == whole[0::2] and seen[1] == whole[1::2]
    with pytest.raises(ValueError, match="index 0 is of shard 0 of 2, this sampler is shard 1"):
        shards[1][0]


def test_repeats_travel_with_the_record_to_the_transform():
    sampler = BalancedSampler(labels(), with_repeats=True, num_epochs=1, seed=4)
    source = RepeatsSource(np.arange(len(labels())) * 10, sampler)

    class Mark(grain.MapTransform):
        def map(self, element):
            record, repeats = element
            return record + repeats  # a real pipeline augments where repeats > 0

    out, _ = run(sampler, data_source=source, operations=[Mark()])
    epoch = sampler.plan.epoch(0)
    assert out == (epoch.indices * 10 + epoch.repeats).tolist()
    plain, _ = run(sampler, operations=[])  # unwrapped, the same records, without repeats
    assert plain == epoch.indices.tolist()
    with pytest.raises(ValueError, match="with_repeats=True"):
        RepeatsSource(np.arange(len(labels())), BalancedSampler(labels()))
    with pytest.raises(ValueError, match="data_source has 3 records"):
        RepeatsSource([1, 2, 3], sampler)


def test_from_plan_takes_the_plans_shard():
    plan = BalancedIndexSampler(labels(), batch_size=BATCH, num_shards=2, shard_index=1, seed=0)
    sampler = BalancedSampler.from_plan(plan, num_epochs=1)
    assert sampler.shard_options == grain.ShardOptions(1, 2, drop_remainder=True)
    assert run(sampler)[0] == batches(plan, 1)
    with pytest.raises(TypeError, match="takes shard_options, not num_shards"):
        BalancedSampler(labels(), num_shards=2)
