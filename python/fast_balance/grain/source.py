"""RepeatsSource: a data source whose elements carry their repeats, for Grain's transforms.

Grain's transforms see an element, not its RecordMetadata, so the repeats of a record travel in
its key: a sampler built with ``with_repeats=True`` writes ``record_key = index + num_records *
repeats``, and `RepeatsSource` reads ``(data_source[index], repeats)`` back from it. (Grain reads
``data_source[key % len(data_source)]``: a data source of ``num_records`` elements that is not
wrapped still gets the right record, only without its repeats.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .sampler import BalancedSampler


class RepeatsSource:
    """``data_source`` whose element ``index + num_records * repeats`` is ``(data_source[index], repeats)``.

    Parameters
    ----------
    data_source : Grain RandomAccessDataSource or sequence
        The records (``__len__`` and ``__getitem__``), as many as the sampler's labels.
    sampler : BalancedSampler
        The sampler the DataLoader uses, built with ``with_repeats=True``.

    Examples
    --------
    >>> import grain.python as grain
    >>> from fast_balance.grain import BalancedSampler, RepeatsSource
    >>> labels = [0, 0, 0, 1]
    >>> sampler = BalancedSampler(labels, with_repeats=True, num_epochs=1, seed=0)
    >>> source = RepeatsSource(["a", "b", "c", "z"], sampler)
    >>> loader = grain.DataLoader(data_source=source, sampler=sampler)
    >>> sorted(element for element in loader if element[0] == "z")   # "z" three times, two of them repeats
    [('z', 0), ('z', 1), ('z', 2)]
    """

    def __init__(self, data_source: Sequence[Any] | Any, sampler: BalancedSampler) -> None:
        if not isinstance(sampler, BalancedSampler):
            raise TypeError(f"sampler must be a fast_balance.grain.BalancedSampler, got {type(sampler).__name__}")
        if not sampler.with_repeats:
            raise ValueError("the sampler writes plain record keys: build it with with_repeats=True")
        if len(data_source) != sampler.num_records:
            raise ValueError(
                f"data_source has {len(data_source):,} records, the sampler's labels {sampler.num_records:,}"
            )
        self._source = data_source
        self._num_records = sampler.num_records
        self._length = sampler.num_records * sampler.repeats_limit

    def __len__(self) -> int:
        """Every key the sampler writes (Grain reads ``key % len``)."""
        return self._length

    def __getitem__(self, key: int) -> tuple[Any, int]:
        repeats, index = divmod(int(key), self._num_records)
        return self._source[index], repeats

    def __repr__(self) -> str:
        # Grain compares it with a checkpoint's; like Grain, never print in-memory data.
        inner = self._source
        described = str(type(inner)) if isinstance(inner, (list, tuple, np.ndarray)) else repr(inner)
        return f"fast_balance.grain.RepeatsSource({described})"
