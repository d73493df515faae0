"""BalancedSampler and BalancedBatchSampler: a plan's epochs as torch.utils.data samplers.

A torch sampler here wraps a *plan* (`fast_balance.BalancedIndexSampler`, or any sampler of this
package with the same interface), which decides everything; the torch sampler only adds what a
DataLoader expects of a sampler: ``__iter__`` and ``__len__``, ``set_epoch``, ``num_replicas`` and
``rank`` from the process group, and a checkpoint of the *pass*, the one iteration in progress.

A pass reads its epoch from the plan in large slices and hands the indices to Python a part at a
time; its position is the end of the part minus what is still unread of it, so counting costs
nothing per index.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
import torch.distributed as dist
from torch.utils.data import Sampler

from .._checks import check_bool, check_int
from .._plan import Plan, check_plan, check_plan_state, slice_size
from ..iterator import STATE_KEYS
from ..sampler import BalancedIndexSampler
from .distributed import replicas
from .repeats import Draw

#: Samples turned into Python objects at a time.
_PART = 1 << 16

T = TypeVar("T")
S = TypeVar("S", bound="_PlanSampler[Any]")


class _Pass:
    """The position of one iteration over an epoch: ``stop`` minus the unread items of the part."""

    __slots__ = ("epoch", "items", "start", "started", "step", "stop")

    def __init__(self, epoch: int, position: int, step: int) -> None:
        self.epoch = epoch
        self.start = position
        self.started = False  # asked for an item yet
        self.stop = position  # samples up to the end of the current part
        self.step = step  # samples per item
        self.items: Iterator[Any] = iter(())

    @property
    def position(self) -> int:
        return self.stop - operator.length_hint(self.items) * self.step


class _PlanSampler(Generic[T]):
    """What both samplers share: the plan, the epoch, the pass, the state."""

    _plan: Plan
    _with_repeats: bool
    _epoch: int
    _resume: tuple[int, int] | None
    _pass: _Pass | None
    _step: int

    def _setup(self, plan: Plan, with_repeats: bool) -> None:
        self._plan = plan
        self._with_repeats = check_bool("with_repeats", with_repeats)
        self._epoch = 0
        self._resume = None
        self._pass = None
        self._step = self._items_step()

    def _items_step(self) -> int:
        return 1

    def __len__(self) -> int:
        raise NotImplementedError

    @classmethod
    def _plan_for(cls, labels: npt.ArrayLike, num_replicas: int | None, rank: int | None,
                  options: dict[str, Any]) -> BalancedIndexSampler:
        for name in ("num_shards", "shard_index"):
            if name in options:
                raise TypeError(f"{cls.__name__} takes num_replicas and rank, not {name}")
        num_replicas, rank = replicas(num_replicas, rank)
        return BalancedIndexSampler(labels, num_shards=num_replicas, shard_index=rank, **options)

    @classmethod
    def from_plan(cls: type[S], plan: Plan, *, num_replicas: int | None = None, rank: int | None = None,
                  with_repeats: bool = False) -> S:
        """A sampler over the epochs of ``plan``, a sampler of this package built for one shard.

        ``plan`` must be this process's shard (``num_shards``, ``shard_index``): checked against
        ``num_replicas`` and ``rank`` when given, else against an initialised process group.
        """
        plan = check_plan(plan)
        shard = (plan.num_shards, plan.shard_index)
        if num_replicas is not None or rank is not None:
            expected = replicas(num_replicas if num_replicas is not None else plan.num_shards,
                                rank if rank is not None else plan.shard_index)
            source = "num_replicas and rank"
        elif dist.is_available() and dist.is_initialized():
            expected, source = replicas(None, None), "torch.distributed"
        else:
            expected, source = shard, ""
        if shard != expected:
            raise ValueError(
                f"the plan is shard {shard[1]} of {shard[0]}, {source} says rank {expected[1]} of {expected[0]}: "
                f"build the plan with num_shards={expected[0]}, shard_index={expected[1]}"
            )
        sampler = cls.__new__(cls)
        sampler._setup(plan, with_repeats)
        return sampler

    # -- description ---------------------------------------------------------------------------
    @property
    def plan(self) -> Plan:
        """The sampler of this package that decides every epoch (this rank's shard)."""
        return self._plan

    @property
    def num_replicas(self) -> int:
        return self._plan.num_shards

    @property
    def rank(self) -> int:
        return self._plan.shard_index

    @property
    def batch_size(self) -> int | None:
        return self._plan.batch_size

    @property
    def with_repeats(self) -> bool:
        return self._with_repeats

    @property
    def epoch(self) -> int:
        """The epoch the next iteration goes through."""
        return self._resume[0] if self._resume is not None else self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Makes the next iteration go through epoch ``epoch`` (as DistributedSampler.set_epoch).

        Optional: after an iteration that went to the end of its epoch, the next one goes
        through the following epoch on its own. Setting the epoch a loaded state resumes in
        keeps the resume.
        """
        epoch = check_int("epoch", epoch, minimum=0, maximum=self._plan.max_epoch)
        if self._resume is not None and self._resume[0] == epoch:
            return
        self._epoch, self._resume, self._pass = epoch, None, None

    # -- state -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"fingerprint", "epoch", "position"}``: the plan, and the sample position in its
        epoch just after the last item the current iteration yielded.

        torchdata's StatefulDataLoader saves it with its own state and gives it back to
        `load_state_dict` on restore.
        """
        if self._resume is not None:
            epoch, position = self._resume
        elif self._pass is not None:
            epoch, position = self._pass.epoch, self._pass.position
        else:
            epoch, position = self._epoch, 0
        return {"fingerprint": self._plan.fingerprint, "epoch": epoch, "position": position}

    def state_at(self, epoch: int, step: int) -> dict[str, Any]:
        """The state after ``step`` items (indices, or batches) of epoch ``epoch``: what to give
        `load_state_dict` when a training loop, not the loader, counts what it consumed."""
        epoch = check_int("epoch", epoch, minimum=0, maximum=self._plan.max_epoch)
        step = check_int("step", step, minimum=0, maximum=len(self))
        return {"fingerprint": self._plan.fingerprint, "epoch": epoch, "position": step * self._step}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Makes the next iteration continue where the iteration of `state_dict` stopped."""
        epoch, position = check_plan_state(state_dict, self._plan)
        if state_dict["position"] == len(self._plan):
            # Kept as "epoch e, nothing left" (not "epoch e + 1, from 0"): a loop that resumes in
            # epoch e then ends that epoch at once, as the uninterrupted one did.
            epoch, position = epoch - 1, len(self._plan)
        self._resume, self._epoch, self._pass = (epoch, position), epoch, None

    def __getstate__(self) -> dict[str, Any]:
        return {"plan": self._plan, "with_repeats": self._with_repeats, "state": self.state_dict()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup(state["plan"], state["with_repeats"])
        self.load_state_dict(state["state"])

    # -- iteration ---------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[T]:
        run = self._pass
        if self._resume is not None:
            epoch, position = self._resume
            self._resume = None
        elif run is not None and not run.started and run.start < len(self._plan):
            # DataLoader makes an iterator and replaces it before reading (workers), StatefulDataLoader
            # before restoring: an iteration that has not begun is begun again where it was to begin.
            epoch, position = run.epoch, run.start
        else:
            epoch, position = self._epoch, 0
        # An epoch with nothing left is done before its (empty) iteration is even started.
        self._epoch = epoch if position < len(self._plan) else epoch + 1
        run = self._pass = _Pass(epoch, position, self._step)
        # chain takes the items of each part at C speed; the generator runs once per part.
        return itertools.chain.from_iterable(self._parts(run))

    def _parts(self, run: _Pass) -> Iterator[Iterator[T]]:
        run.started = True
        plan = self._plan
        length, size = len(plan), slice_size(plan)
        part = max(self._step, _PART // self._step * self._step)
        start = run.stop
        while start < length:
            stop = min(length, start + size)
            epoch = plan.epoch(run.epoch, start, stop)
            for begin in range(0, stop - start, part):
                end = min(stop - start, begin + part)
                repeats = epoch.repeats[begin:end] if self._with_repeats else None
                run.items = iter(self._items(epoch.indices[begin:end], repeats))
                run.stop = start + end
                yield run.items
            start = stop
        if self._pass is run:  # the epoch is done: the next iteration goes through the next one
            self._epoch = run.epoch + 1

    def _items(self, indices: np.ndarray, repeats: np.ndarray | None) -> list[Any]:
        if repeats is None:
            values: list[Any] = indices.tolist()
            return values
        return [Draw(index, count) for index, count in zip(indices.tolist(), repeats.tolist())]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self._plan!r}, rank={self.rank}/{self.num_replicas}, epoch={self.epoch}, "
            f"with_repeats={self._with_repeats})"
        )


class BalancedSampler(_PlanSampler[int], Sampler[int]):
    """Sample indices of class-balanced epochs, one after the other: a ``Sampler[int]``.

    Every epoch is the plan's (`fast_balance.BalancedIndexSampler`): exact class quotas, a
    fresh order every epoch, pools that carry over. With ``batch_size`` in the options, every
    consecutive ``batch_size`` indices are a stratified batch; give the DataLoader the same
    ``batch_size`` (or use `BalancedBatchSampler`). ``len()`` is the samples of an epoch in this
    rank's shard.

    Parameters
    ----------
    labels : array_like of int, 1-D
        Class of every sample of the dataset, as for `fast_balance.BalancedIndexSampler`.
    num_replicas, rank : int, optional
        This process reads shard ``rank`` of ``num_replicas``: disjoint shards of whole batches
        which together are exactly the epoch, each as long as the others. Default: the world
        size and rank of the initialised default process group, or 1 and 0 without one.
    with_repeats : bool
        Yield `Draw` objects (ints that carry ``repeats``, the times the index was already drawn
        in the epoch) instead of ints; `RepeatsDataset` hands them to a transform.
    **options
        Any other argument of `fast_balance.BalancedIndexSampler`: ``target``,
        ``samples_per_epoch``, ``replacement``, ``seed``, ``num_classes``, ...
        (``num_shards`` and ``shard_index`` come from ``num_replicas`` and ``rank``).
        `from_plan` wraps any other sampler of this package instead.

    Examples
    --------
    >>> from fast_balance.torch import BalancedSampler
    >>> sampler = BalancedSampler([0] * 6 + [1] * 2, seed=0)
    >>> len(sampler), sorted(list(sampler))
    (12, [0, 1, 2, 3, 4, 5, 6, 6, 6, 7, 7, 7])
    >>> sampler.epoch        # the next iteration goes through the next epoch
    1
    """

    def __init__(self, labels: npt.ArrayLike, *, num_replicas: int | None = None, rank: int | None = None,
                 with_repeats: bool = False, **options: Any) -> None:
        self._setup(self._plan_for(labels, num_replicas, rank, options), with_repeats)

    def __len__(self) -> int:
        return len(self._plan)


class BalancedBatchSampler(_PlanSampler[list[int]], Sampler[list[int]]):
    """Stratified batches of class-balanced epochs: a ``Sampler[list[int]]`` for
    ``DataLoader(batch_sampler=...)``.

    Every batch holds floor or ceil of ``batch_size * p_c`` samples of each class c, and every
    rank gets the same number of batches. ``len()`` is the batches of an epoch in this rank's
    shard; `state_dict` positions are in samples (batches times ``batch_size``).

    Parameters
    ----------
    labels : array_like of int, 1-D
        Class of every sample of the dataset, as for `fast_balance.BalancedIndexSampler`.
    batch_size : int
        Samples per batch.
    num_replicas, rank : int, optional
        This process reads shard ``rank`` of ``num_replicas``: disjoint shards of whole batches
        which together are exactly the epoch, each as long as the others. Default: the world
        size and rank of the initialised default process group, or 1 and 0 without one.
    with_repeats : bool
        Yield `Draw` objects (ints that carry ``repeats``, the times the index was already drawn
        in the epoch) instead of ints; `RepeatsDataset` hands them to a transform.
    **options
        Any other argument of `fast_balance.BalancedIndexSampler`: ``target``,
        ``samples_per_epoch``, ``replacement``, ``seed``, ``num_classes``, ...
        (``num_shards`` and ``shard_index`` come from ``num_replicas`` and ``rank``).
        `from_plan` wraps any other sampler of this package instead.

    Examples
    --------
    >>> from fast_balance.torch import BalancedBatchSampler
    >>> sampler = BalancedBatchSampler([0] * 90 + [1] * 10, batch_size=20, seed=0)
    >>> batches = list(sampler)
    >>> len(sampler), len(batches), sorted(np.bincount([int(i >= 90) for i in batches[0]]).tolist())
    (9, 9, [10, 10])
    """

    def __init__(self, labels: npt.ArrayLike, *, batch_size: int, num_replicas: int | None = None,
                 rank: int | None = None, with_repeats: bool = False, **options: Any) -> None:
        plan = self._plan_for(labels, num_replicas, rank, dict(options, batch_size=batch_size))
        self._setup(plan, with_repeats)

    def _items_step(self) -> int:
        if self._plan.batch_size is None:
            raise ValueError("BalancedBatchSampler needs a plan with batch_size")
        return self._plan.batch_size

    def _items(self, indices: np.ndarray, repeats: np.ndarray | None) -> list[Any]:
        flat = super()._items(indices, repeats)
        size = self._step
        return [flat[begin : begin + size] for begin in range(0, len(flat), size)]

    def __len__(self) -> int:
        return self._plan.num_batches


__all__ = ["STATE_KEYS", "BalancedBatchSampler", "BalancedSampler"]
