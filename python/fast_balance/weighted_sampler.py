"""WeightedIndexSampler: exact, reproducible index streams in proportion to per-sample weights."""

from __future__ import annotations

from typing import Any, NamedTuple, Union

import numpy as np
import numpy.typing as npt

from . import _core
from ._checks import check_int
from ._memory import check_fits
from ._plan_base import MAX_SAMPLES_PER_EPOCH, PlanBase, check_layout
from .iterator import SamplerIterator
from .sample_weights import normalize_sample_weights
from .sampler import output_views

WeightedSamplesPerEpoch = Union[str, int]

#: Samples a WeightedIndexSampler takes (the core keeps them as one weighted class).
MAX_SAMPLES: int = _core.WeightedSampler._max_samples
#: With replacement a sample may be drawn every time, and repeats are int32.
MAX_SAMPLES_PER_EPOCH_WITH_REPLACEMENT = (1 << 31) - 1
# Draws are numbered over all epochs (epoch * samples_per_epoch + k) below this.
_DRAW_LIMIT = 1 << 62

_FIELDS = (("indices", np.int64), ("repeats", np.int32))


class WeightedEpoch(NamedTuple):
    """One epoch (or a slice of it) of a WeightedIndexSampler, position by position."""

    indices: np.ndarray  #: int64 sample indices into the dataset
    repeats: np.ndarray  #: int32 times the same index was emitted earlier in the epoch (0 = first view)


class WeightedIndexSampler(PlanBase):
    """An index stream in which sample i's expected count per epoch is proportional to ``weights[i]``.

    The class-free counterpart of `BalancedIndexSampler`, with its guarantees and state model.
    Without replacement every sample comes floor or ceil of its expected count ``m_i =
    samples_per_epoch * w_i / sum(w)`` in every epoch, and the epoch has exactly
    ``samples_per_epoch`` samples (systematic rounding); the fractions carry over epochs, so a
    sample with ``m_i = 0.25`` comes about once in every four epochs; a sample's copies are spread
    through the epoch and not adjacent while it holds at most a third of its stretch of the epoch.
    With replacement, draws are independent, in proportion to the weights (an alias table, O(1) per
    draw), as torch's ``WeightedRandomSampler(replacement=True)`` but above 2^24 samples too and
    reproducible. The sampler is a pure plan: ``epoch(e, start, stop)`` is a function of ``(seed, e,
    position)`` only; `iterator` gives a cursor with its own position and checkpoint. Safe to
    share between threads and to pickle.

    Parameters
    ----------
    weights : array_like of float, 1-D
        A non-negative, finite weight per sample, not all zero. Only ratios matter: the weights
        are multiplied by the power of two that brings the largest into [2^30, 2^31) and rounded
        down (a positive weight stays positive), so integers and binary fractions (0.5, 0.25)
        within 30 bits of the largest keep their ratios exactly.
    samples_per_epoch : int or "n"
        Samples per epoch over all shards; ``"n"``: as many as there are weights. Rounded up to a
        multiple of ``batch_size * num_shards``. At most 2^31 - 1 with replacement.
    replacement : bool
        False: floor or ceil of the expected count per sample and epoch, fractions carried.
        True: independent draws in proportion to the weights.
    batch_size : int, optional
        With it, `iterator` yields arrays of a batch and shards own whole batches.
    seed : int
        In [0, 2**64); the whole stream is determined by it.
    num_shards, shard_index : int
        This sampler yields shard ``shard_index`` of ``num_shards``: batches (unbatched:
        positions) ``shard_index, shard_index + num_shards, ...`` of the global epoch.

    Examples
    --------
    >>> weights = np.array([3.0, 1.0, 1.0, 0.5, 0.5])
    >>> sampler = fast_balance.WeightedIndexSampler(weights, samples_per_epoch=12, seed=0)
    >>> sampler.expected_counts.tolist()
    [6.0, 2.0, 2.0, 1.0, 1.0]
    >>> np.bincount(sampler.epoch(0).indices, minlength=5).tolist()
    [6, 2, 2, 1, 1]

    A sample expected 0.25 times per epoch comes once in about every four epochs (the gaps take
    at most three values):

    >>> rare = fast_balance.WeightedIndexSampler([3.75, 0.25], samples_per_epoch=4, seed=0)
    >>> [e for e in range(40) if 1 in rare.epoch(e).indices]
    [4, 7, 12, 17, 20, 25, 28, 30, 33, 38]
    """

    def __init__(
        self,
        weights: npt.ArrayLike,
        *,
        samples_per_epoch: WeightedSamplesPerEpoch,
        replacement: bool = False,
        batch_size: int | None = None,
        seed: int = 0,
        num_shards: int = 1,
        shard_index: int = 0,
    ) -> None:
        shape = np.shape(weights) if isinstance(weights, np.ndarray) else None
        if shape is not None and len(shape) == 1 and shape[0] > MAX_SAMPLES:
            raise ValueError(f"weights has {shape[0]:,} entries, more than the {MAX_SAMPLES:,} (2^31 - 1) supported")
        values = normalize_sample_weights(weights, None, "weights")
        if values.size > MAX_SAMPLES:
            raise ValueError(f"weights has {values.size:,} entries, more than the {MAX_SAMPLES:,} (2^31 - 1) supported")
        layout = check_layout(batch_size, replacement, seed, num_shards, shard_index)
        batch_size, replacement, seed, num_shards, shard_index = layout
        if isinstance(samples_per_epoch, str):
            if samples_per_epoch != "n":
                raise ValueError(f"samples_per_epoch must be 'n' or a positive integer, got {samples_per_epoch!r}")
            size = values.size
        else:
            size = check_int("samples_per_epoch", samples_per_epoch, minimum=1)
        unit = (batch_size or 1) * num_shards
        size = -(-size // unit) * unit
        limit = MAX_SAMPLES_PER_EPOCH_WITH_REPLACEMENT if replacement else MAX_SAMPLES_PER_EPOCH
        if size > limit:
            why = "(2^31 - 1: with replacement repeats are int32)" if replacement else "(2^46)"
            raise ValueError(f"samples_per_epoch would be {size:,}, more than the {limit:,} {why} an epoch can hold")
        # The core's copy (8 bytes each, while it builds) and its line or alias table (8 or 16).
        needed = (16 if replacement else 8) * values.size + 8 * values.size
        check_fits(needed, f"a sampler of {values.size:,} weights")
        self._core = _core.WeightedSampler(values, seed, size, batch_size or 0, replacement, num_shards, shard_index)
        self._outputs = _core.OutputPool()
        self._num_samples = values.size
        self._set_layout(layout, size)
        self._options = dict(samples_per_epoch=samples_per_epoch, replacement=replacement, batch_size=batch_size,
                             seed=seed, num_shards=num_shards, shard_index=shard_index)
        self._max_epoch = (_DRAW_LIMIT // size) - 1
        self._fingerprint = f"{self._core.fingerprint:016x}"

    # -- pickling: rebuilt from the integer weights the core draws by, which give the same stream ----
    def __reduce__(self) -> tuple[Any, tuple[np.ndarray, dict[str, Any]]]:
        return (_rebuild, (self._core.integer_weights(), self._options))

    # -- description -------------------------------------------------------------------------
    @property
    def num_samples(self) -> int:
        """Number of weights (samples of the dataset)."""
        return self._num_samples

    @property
    def samples_per_epoch(self) -> int:
        """Samples in one epoch over all shards."""
        return self._samples_per_epoch

    @property
    def expected_counts(self) -> np.ndarray:
        """Each sample's expected count in an epoch over all shards (float64, sums to samples_per_epoch),
        from the integer weights the core draws by."""
        weights = self._core.integer_weights().astype(np.float64)
        expected: np.ndarray = self._samples_per_epoch * weights / weights.sum()
        return expected

    def __repr__(self) -> str:
        return (
            f"WeightedIndexSampler(num_samples={self._num_samples}, samples_per_epoch={self._samples_per_epoch}, "
            f"batch_size={self._batch_size}, replacement={self._replacement}, seed={self._seed}, "
            f"shard={self._shard_index}/{self._num_shards})"
        )

    # -- the stream ----------------------------------------------------------------------------
    def epoch(
        self, epoch: int, start: int = 0, stop: int | None = None, out: WeightedEpoch | None = None
    ) -> WeightedEpoch:
        """This shard's positions ``[start, stop)`` of epoch ``epoch``.

        Never depends on earlier epochs having been generated. A call that is not a whole
        unsharded epoch computes the whole global epoch and keeps it (8 bytes per sample of the
        epoch) for the next call on the same epoch, so reading an epoch slice by slice costs about
        one epoch.

        Parameters
        ----------
        out : WeightedEpoch, optional
            Two separate arrays to write into instead of new ones (int64 and int32, C-contiguous,
            writeable, at least ``stop - start`` long), e.g. the previous epoch's. Without it the
            arrays are new, in memory of earlier results that nothing references any more.

        Returns
        -------
        WeightedEpoch
            ``(indices int64, repeats int32)``.

        Examples
        --------
        >>> sampler = fast_balance.WeightedIndexSampler([2.0, 1.0, 1.0], samples_per_epoch=8, seed=3)
        >>> whole = sampler.epoch(5)
        >>> halves = [sampler.epoch(5, 0, 4), sampler.epoch(5, 4, 8)]
        >>> np.array_equal(np.concatenate([h.indices for h in halves]), whole.indices)
        True
        """
        epoch, start, stop = self._checked_slice(epoch, start, stop, 12 if out is None else None)
        if out is None:
            indices, _, repeats = self._outputs.take(stop - start)
        else:
            indices, repeats = output_views(out, stop - start, _FIELDS, "a WeightedEpoch")
        self._core.fill_into(epoch, start, stop, indices, repeats)
        return WeightedEpoch(indices, repeats)

    def iterator(self, epoch: int = 0, position: int = 0, epochs: int | None = None) -> SamplerIterator:
        """A cursor over the stream from ``(epoch, position)``: `SamplerIterator`, which checkpoints
        with ``state_dict()`` / ``load_state_dict()``."""
        return SamplerIterator(self, epoch, position, epochs)

    def __iter__(self) -> SamplerIterator:
        """Epoch 0, once. For another epoch, or a checkpointed position, use ``iterator(epoch)``."""
        return SamplerIterator(self, 0, 0, epochs=1)


def _rebuild(weights: np.ndarray, options: dict[str, Any]) -> WeightedIndexSampler:
    return WeightedIndexSampler(weights, **options)


__all__ = ["WeightedEpoch", "WeightedIndexSampler"]
