"""What every sampler of this package shares: an epoch of a fixed length, cut into shards and
batches, identified by a fingerprint. The samplers set the attributes in their constructors."""

from __future__ import annotations

from typing import NamedTuple

from ._checks import check_bool, check_int, check_seed
from ._memory import check_fits

#: Largest epoch (samples over all shards) of a sampler: draws are numbered in 62 bits.
MAX_SAMPLES_PER_EPOCH = 1 << 46
MAX_BATCH_SIZE = 1 << 26


class Layout(NamedTuple):
    """How an epoch is cut and drawn: the arguments every sampler of this package shares."""

    batch_size: int | None
    replacement: bool
    seed: int
    num_shards: int
    shard_index: int


def check_layout(batch_size: object, replacement: object, seed: object, num_shards: object,
                 shard_index: object) -> Layout:
    """The shared arguments checked, each error naming its argument.

    >>> check_layout(None, False, 0, 2, 2)
    Traceback (most recent call last):
    ...
    ValueError: shard_index must be < num_shards (2), got 2
    """
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1, maximum=MAX_BATCH_SIZE)
    replacement = check_bool("replacement", replacement)
    seed = check_seed(seed)
    num_shards = check_int("num_shards", num_shards, minimum=1, maximum=MAX_SAMPLES_PER_EPOCH)
    shard_index = check_int("shard_index", shard_index, minimum=0)
    if shard_index >= num_shards:
        raise ValueError(f"shard_index must be < num_shards ({num_shards}), got {shard_index}")
    return Layout(batch_size, replacement, seed, num_shards, shard_index)


class PlanBase:
    """The shard, batch and identity properties of a pure sampler (`BalancedIndexSampler`,
    `WeightedIndexSampler`)."""

    _batch_size: int | None
    _replacement: bool
    _seed: int
    _num_shards: int
    _shard_index: int
    _fingerprint: str
    _max_epoch: int
    _samples_per_epoch: int

    def _set_layout(self, layout: Layout, samples_per_epoch: int) -> None:
        self._batch_size, self._replacement, self._seed, self._num_shards, self._shard_index = layout
        self._samples_per_epoch = samples_per_epoch

    @property
    def batch_size(self) -> int | None:
        """Samples per batch, or None (unbatched)."""
        return self._batch_size

    @property
    def replacement(self) -> bool:
        """Whether draws are with replacement."""
        return self._replacement

    @property
    def seed(self) -> int:
        """The seed the whole stream is derived from."""
        return self._seed

    @property
    def num_shards(self) -> int:
        """Number of disjoint shards of the global epoch."""
        return self._num_shards

    @property
    def shard_index(self) -> int:
        """This sampler's shard."""
        return self._shard_index

    @property
    def fingerprint(self) -> str:
        """Identifies the stream: equal for samplers built with the same data and options."""
        return self._fingerprint

    @property
    def max_epoch(self) -> int:
        """The largest epoch number the stream reaches (its draws are numbered in 62 bits)."""
        return self._max_epoch

    @property
    def num_batches(self) -> int:
        """Batches per epoch in this shard (requires batch_size)."""
        if self._batch_size is None:
            raise ValueError("num_batches needs batch_size")
        return len(self) // self._batch_size

    def __len__(self) -> int:
        """Samples per epoch in this shard."""
        return self._samples_per_epoch // self._num_shards

    def _checked_slice(
        self, epoch: object, start: object, stop: object, bytes_per_sample: int | None
    ) -> tuple[int, int, int]:
        """``epoch(e, start, stop)``'s arguments checked; with ``bytes_per_sample`` (new output
        arrays, not ``out=``), also that the output fits in this machine's memory."""
        epoch = check_int("epoch", epoch, minimum=0, maximum=self._max_epoch)
        length = len(self)
        stop = length if stop is None else check_int("stop", stop, minimum=0)
        start = check_int("start", start, minimum=0)
        if not start <= stop <= length:
            raise ValueError(f"need 0 <= start <= stop <= {length}, got start={start}, stop={stop}")
        if bytes_per_sample is not None:
            what = f"epoch({epoch}, {start}, {stop}) of {stop - start:,} samples"
            check_fits(bytes_per_sample * (stop - start), what, "; ask for slices with start and stop")
        return epoch, start, stop
