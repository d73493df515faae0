"""BalancedSampler: a plan's epochs as a Grain sampler (``__getitem__(index) -> RecordMetadata``).

Grain's DataLoader asks a sampler for *global* indices: shard s of S reads indices s, s + S,
s + 2S, ...; inside a shard, worker w of W reads every W-th of those and batches them itself;
the loader then takes one batch from each worker in turn. The sampler maps every global index
back to a position of this shard's stream (its epochs one after the other) so that this order
is the plan's:

- *local index* k = index // S: the shard's k-th record;
- with a batched plan and W workers, worker w = k mod W batches its records j = k // W in
  runs of B; its m-th batch is the shard's batch m * W + w, so the *position* of record k is
  (m * W + w) * B + j mod B. Without batch_size (or W = 1) the position is k.

Everything is a pure function of the index, so Grain's own checkpoint (the last index each worker
read) resumes exactly.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from typing import Any

import grain.python as grain
import numpy as np
import numpy.typing as npt

from .._checks import check_bool, check_int
from .._plan import Plan, check_plan, stream_key
from ..sampler import BalancedIndexSampler, Epoch

#: Domain of the per-record generators in docs/determinism.md.
RECORD_RNG_DOMAIN = 11  # csrc/random.hpp's StreamDomain numbers 1-10; docs/determinism.md
#: Slices of the stream kept per process (workers read a few slices apart at most), and their
#: size in samples (16 bytes each).
_CACHED_SLICES = 4
_SLICE = 1 << 20


@dataclasses.dataclass(slots=True)
class BalancedRecordMetadata(grain.RecordMetadata):
    """Grain's RecordMetadata, and what the plan says of the record."""

    label: int = -1  #: its class
    repeats: int = 0  #: times the same record was drawn earlier in the epoch (0 = first view)
    epoch: int = 0  #: the plan's epoch it belongs to


class BalancedSampler:
    """Class-balanced epochs for ``grain.python.DataLoader``, as Grain's `IndexSampler` gives plain ones.

    Follows Grain's Sampler protocol: ``sampler[index]`` is the `BalancedRecordMetadata` of global
    record ``index``: ``record_key`` (the dataset index to read), ``rng`` (a NumPy Generator of
    its own, for random transforms), ``label``, ``repeats`` and ``epoch``. The records of a shard
    are the plan's epochs one after the other, so ``grain.python.Batch(batch_size)`` makes the
    plan's stratified batches.

    Parameters
    ----------
    labels : array_like of int, 1-D
        Class of every record of the data source, as for `fast_balance.BalancedIndexSampler`.
    shard_options : grain.python.ShardOptions, optional
        This process's shard (``NoSharding()`` by default; ``ShardByJaxProcess()`` under JAX):
        the plan's ``num_shards`` and ``shard_index``. The DataLoader reads it from the sampler
        when given none of its own, and must not be given other ones.
    num_epochs : int, optional
        Epochs to go through; None (the default): without end.
    worker_count : int
        The DataLoader's ``worker_count``: each worker batches its own records, so the sampler
        hands each one whole batches of the plan. Only matters with ``batch_size``.
    with_repeats : bool
        ``record_key`` becomes ``index + num_records * repeats``; wrap the data source in
        `RepeatsSource` and every element becomes ``(record, repeats)``.
    **options
        Any other argument of `fast_balance.BalancedIndexSampler` (``target``, ``batch_size``,
        ``samples_per_epoch``, ``seed``, ...). `from_plan` wraps any sampler of this package.

    Examples
    --------
    >>> import grain.python as grain
    >>> from fast_balance.grain import BalancedSampler
    >>> labels = [0] * 6 + [1] * 2
    >>> sampler = BalancedSampler(labels, batch_size=4, num_epochs=1, seed=0)
    >>> loader = grain.DataLoader(data_source=labels, sampler=sampler, operations=[grain.Batch(4)])
    >>> [np.bincount(batch).tolist() for batch in loader]   # the records here are their labels
    [[2, 2], [2, 2], [2, 2]]
    """

    def __init__(
        self,
        labels: npt.ArrayLike,
        *,
        shard_options: grain.ShardOptions | None = None,
        num_epochs: int | None = None,
        worker_count: int = 0,
        with_repeats: bool = False,
        **options: Any,
    ) -> None:
        for name in ("num_shards", "shard_index"):
            if name in options:
                raise TypeError(f"BalancedSampler takes shard_options, not {name}")
        shard_options = grain.NoSharding() if shard_options is None else shard_options
        if not isinstance(shard_options, grain.ShardOptions):
            raise TypeError(f"shard_options must be a grain ShardOptions, got {type(shard_options).__name__}")
        plan = BalancedIndexSampler(labels, num_shards=shard_options.shard_count,
                                    shard_index=shard_options.shard_index, **options)
        self._setup(plan, num_epochs, worker_count, with_repeats, int(plan.class_counts.sum()))

    @classmethod
    def from_plan(cls, plan: Plan, *, num_epochs: int | None = None, worker_count: int = 0,
                  with_repeats: bool = False, num_records: int | None = None) -> BalancedSampler:
        """A Grain sampler over the epochs of ``plan`` (a sampler of this package, built for
        this process's shard: its ``num_shards``/``shard_index`` become the ShardOptions).

        ``num_records`` (the data source's length) is needed with ``with_repeats`` when the plan
        does not say it (``class_counts``).
        """
        plan = check_plan(plan)
        if num_records is None and hasattr(plan, "class_counts"):
            num_records = int(plan.class_counts.sum())
        if with_repeats and num_records is None:
            raise TypeError("with_repeats needs num_records, the data source's length")
        sampler = cls.__new__(cls)
        sampler._setup(plan, num_epochs, worker_count, with_repeats, num_records or 0)
        return sampler

    def _setup(self, plan: Plan, num_epochs: int | None, worker_count: int, with_repeats: bool,
               num_records: int) -> None:
        self._plan = plan
        self._num_epochs = None if num_epochs is None else check_int("num_epochs", num_epochs, minimum=1,
                                                                     maximum=plan.max_epoch + 1)
        self._worker_count = check_int("worker_count", worker_count, minimum=0)
        self._with_repeats = check_bool("with_repeats", with_repeats)
        self._num_records = check_int("num_records", num_records, minimum=0)
        # Grain reads a DataLoader's shards from the sampler's when it is given none.
        self._shard_options = grain.ShardOptions(shard_index=plan.shard_index, shard_count=plan.num_shards,
                                                 drop_remainder=True)
        epoch_size = len(plan) * plan.num_shards
        self._length = sys.maxsize if self._num_epochs is None else self._num_epochs * epoch_size
        # Encoded keys stay below Grain's limit for len(): repeats above it are written as the limit.
        self._repeats_limit = min(epoch_size, sys.maxsize // max(self._num_records, 1))
        self._seed = int(plan.fingerprint, 16)
        self._init_cache()

    def _init_cache(self) -> None:
        self._lock = threading.Lock()
        self._slices: OrderedDict[tuple[int, int], Epoch] = OrderedDict()
        step = self._plan.batch_size or 1
        self._slice = max(step, _SLICE // step * step)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"], state["_slices"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_cache()

    # -- description -----------------------------------------------------------------------------
    @property
    def plan(self) -> Plan:
        """The sampler of this package that decides every epoch (this process's shard)."""
        return self._plan

    @property
    def shard_options(self) -> grain.ShardOptions:
        return self._shard_options

    @property
    def num_records(self) -> int:
        """Records of the data source (the length `RepeatsSource` checks)."""
        return self._num_records

    @property
    def with_repeats(self) -> bool:
        return self._with_repeats

    @property
    def repeats_limit(self) -> int:
        """Record keys encode repeats up to this minus one (Grain's lengths are below 2^63)."""
        return self._repeats_limit

    def __len__(self) -> int:
        """Global indices: ``num_epochs`` epochs of all shards, or sys.maxsize without num_epochs."""
        return self._length

    def __repr__(self) -> str:
        # Grain compares it with a checkpoint's ("Sampler in checkpoint does not match ...").
        return (
            f"fast_balance.grain.BalancedSampler(fingerprint={self._plan.fingerprint}, "
            f"shard={self._plan.shard_index}/{self._plan.num_shards}, num_epochs={self._num_epochs}, "
            f"worker_count={self._worker_count}, with_repeats={self._with_repeats})"
        )

    # -- the protocol ------------------------------------------------------------------------------
    def position(self, index: int) -> tuple[int, int]:
        """``(epoch, position)`` in this shard's stream of global record ``index``."""
        index = check_int("index", index)
        if index < 0 or index >= self._length:
            raise IndexError(
                f"RecordMetadata object index is out of bounds; Got index {index}, allowed indices should be in "
                f"[0, {self._length - 1}]"
            )
        shards, shard = self._plan.num_shards, self._plan.shard_index
        local, owner = divmod(index, shards)
        if owner != shard:
            raise ValueError(
                f"index {index} is of shard {owner} of {shards}, this sampler is shard {shard}: give the "
                f"DataLoader the sampler's shard_options (or none)"
            )
        step, workers = self._plan.batch_size, max(self._worker_count, 1)
        position = local
        if step is not None and workers > 1:
            block = workers * step
            total = self._length // shards
            if (local // block + 1) * block <= total:  # a final incomplete round of batches stays as is
                run, worker = divmod(local, workers)
                batch, offset = divmod(run, step)
                position = (batch * workers + worker) * step + offset
        return divmod(position, len(self._plan))

    def __getitem__(self, index: int) -> BalancedRecordMetadata:
        epoch, position = self.position(index)
        start = position // self._slice * self._slice
        with self._lock:
            cached = self._slices.get((epoch, start))
            if cached is None:
                stop = min(len(self._plan), start + self._slice)
                cached = self._slices[epoch, start] = self._plan.epoch(epoch, start, stop)
                while len(self._slices) > _CACHED_SLICES:
                    self._slices.popitem(last=False)
            else:
                self._slices.move_to_end((epoch, start))
        offset = position - start
        record = int(cached.indices[offset])
        repeats = int(cached.repeats[offset])
        key = record + self._num_records * min(repeats, self._repeats_limit - 1) if self._with_repeats else record
        rng = np.random.Generator(np.random.Philox(key=stream_key(self._seed, RECORD_RNG_DOMAIN, index, 0)))
        return BalancedRecordMetadata(index=index, record_key=key, rng=rng, label=int(cached.labels[offset]),
                                      repeats=repeats, epoch=epoch)


__all__ = ["BalancedRecordMetadata", "BalancedSampler"]
