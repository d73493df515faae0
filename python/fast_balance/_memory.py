"""The machine's memory, against which every size derived from arguments is checked before the
core allocates: a request that cannot fit is a ValueError naming its size, not a bad_alloc."""

from __future__ import annotations

import os


def physical_memory() -> int | None:
    """Bytes of physical memory, or None where the platform does not tell.

    Examples
    --------
    >>> memory = physical_memory()
    >>> memory is None or memory > 0
    True
    """
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def gib(size: int) -> str:
    """``size`` bytes in GiB, for messages.

    >>> gib(3 << 29)
    '1.5 GiB'
    """
    return f"{size / 2**30:,.1f} GiB"


def check_fits(needed: int, what: str, hint: str = "") -> None:
    """ValueError when ``needed`` bytes exceed this machine's memory (none where it does not tell).

    >>> check_fits(1 << 70, "a sampler of 10 labels")
    Traceback (most recent call last):
    ...
    ValueError: a sampler of 10 labels needs about 1,099,511,627,776.0 GiB, more than this machine's ...
    """
    memory = physical_memory()
    if memory is not None and needed > memory:
        raise ValueError(f"{what} needs about {gib(needed)}, more than this machine's {gib(memory)}{hint}")
