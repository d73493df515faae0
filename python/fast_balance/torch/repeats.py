"""Repeats reach the transform: indices that carry them, and a Dataset that hands them on.

A sampler built with ``with_repeats=True`` yields `Draw` objects instead of ints. A `Draw` *is*
an int (the sample index: any Dataset, list, array or tensor indexes with it as before) that also
carries ``repeats``, the times the same index was already drawn earlier in the epoch (0 = first
view). `RepeatsDataset` reads it and passes it to a transform, so that duplicates of
oversampled samples can be augmented while first views stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from torch.utils.data import Dataset

T = TypeVar("T")


class Draw(int):
    """A sample index that carries its ``repeats`` (times drawn earlier in the epoch).

    Examples
    --------
    >>> draw = Draw(7, 2)
    >>> draw == 7, draw.repeats, [10, 11, 12, 13, 14, 15, 16, 17][draw]
    (True, 2, 17)
    """

    repeats: int

    def __new__(cls, index: int, repeats: int = 0) -> Draw:
        draw = super().__new__(cls, index)
        draw.repeats = repeats
        return draw

    def __repr__(self) -> str:
        return f"Draw({int(self)}, repeats={self.repeats})"

    def __reduce__(self) -> tuple[type[Draw], tuple[int, int]]:
        return (Draw, (int(self), self.repeats))


def repeats_of(key: object) -> int:
    """The ``repeats`` of a `Draw`, 0 for any other key."""
    return int(getattr(key, "repeats", 0))


class RepeatsDataset(Dataset[Any], Generic[T]):
    """``dataset`` whose items pass through ``transform(item, repeats)``.

    Give it the indices of a sampler built with ``with_repeats=True``: item ``i`` is
    ``transform(dataset[i], repeats)``, or ``(dataset[i], repeats)`` without a transform. A plain
    int index counts as a first view (repeats 0).

    Parameters
    ----------
    dataset : Dataset
        Any map-style dataset (``__getitem__`` with an int).
    transform : callable, optional
        ``transform(item, repeats) -> item``; e.g. augment only when ``repeats > 0``.

    Examples
    --------
    >>> items = RepeatsDataset([0.5, 1.5], lambda x, repeats: x + 100 * repeats)
    >>> items[Draw(1, 0)], items[Draw(1, 2)], items[0]
    (1.5, 201.5, 0.5)
    """

    def __init__(self, dataset: Any, transform: Callable[[Any, int], T] | None = None) -> None:
        self.dataset = dataset
        self.transform = transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: int) -> Any:
        item = self.dataset[int(key)]
        repeats = repeats_of(key)
        if self.transform is None:
            return item, repeats
        return self.transform(item, repeats)

    def __repr__(self) -> str:
        return f"RepeatsDataset({self.dataset!r}, transform={self.transform!r})"
