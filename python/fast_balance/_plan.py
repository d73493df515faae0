"""What the framework front ends (`fast_balance.torch`, `fast_balance.grain`) need of a sampler.

A *plan* is a pure sampler of this package (`BalancedIndexSampler`, or any other with the same
interface): ``plan.epoch(e, start, stop)`` gives positions ``[start, stop)`` of this shard's epoch
``e`` as an `Epoch` of indices, labels and repeats, and ``fingerprint`` names the stream. The
front ends wrap a plan and never look inside it, so any plan drops in.
"""

from __future__ import annotations

from typing import Protocol, cast

from .sampler import Epoch

#: What a front end reads of a plan (besides ``len(plan)``: samples per epoch in its shard).
PLAN_ATTRIBUTES = ("epoch", "batch_size", "num_batches", "fingerprint", "num_shards", "shard_index", "max_epoch")

#: An epoch is asked of the plan in slices of at most this many samples (16 bytes each), and at
#: most about this many slices per epoch: a slice of a batched epoch walks the epoch's schedule up
#: to its start (1.3 to 2.6 s per slice at 1e8 samples in 10 classes).
MAX_SLICE = 1 << 25
SLICES_PER_EPOCH = 4
MIN_SLICE = 1 << 22


class Plan(Protocol):
    """The interface of a pure sampler, as the framework front ends use it."""

    def epoch(self, epoch: int, start: int = 0, stop: int | None = None) -> Epoch: ...

    def __len__(self) -> int: ...

    @property
    def batch_size(self) -> int | None: ...

    @property
    def num_batches(self) -> int: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def num_shards(self) -> int: ...

    @property
    def shard_index(self) -> int: ...

    @property
    def max_epoch(self) -> int: ...


def check_plan(plan: object) -> Plan:
    """``plan`` if it has the interface of a sampler of this package, else TypeError naming what is missing."""
    missing = [name for name in PLAN_ATTRIBUTES if not hasattr(type(plan), name)]
    if not hasattr(type(plan), "__len__"):
        missing.append("__len__")
    if missing:
        raise TypeError(
            f"plan must be a sampler of fast_balance (such as fast_balance.BalancedIndexSampler); "
            f"{type(plan).__name__} has no {', '.join(missing)}"
        )
    return cast(Plan, plan)


def slice_size(plan: Plan) -> int:
    """Samples asked of ``plan`` per call: whole batches, few calls per epoch, bounded memory."""
    step = plan.batch_size or 1
    size = min(MAX_SLICE, max(MIN_SLICE, -(-len(plan) // SLICES_PER_EPOCH)))
    return max(step, size // step * step)


# The keyed derivation of docs/determinism.md ("Keys and streams"), for the few seeds the front
# ends derive in Python.
_MASK = (1 << 64) - 1


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def stream_key(seed: int, domain: int, a: int, b: int) -> int:
    """``key(seed, domain, a, b)`` of docs/determinism.md."""
    return _mix(_mix(_mix(_mix(seed) ^ domain) ^ a) ^ b)


def check_plan_state(state: object, plan: Plan) -> tuple[int, int]:
    """``(epoch, position)`` of a state of ``plan``'s stream (`fast_balance.iterator.check_state`)."""
    from .iterator import check_state

    return check_state(state, plan)  # it reads only what a Plan has
