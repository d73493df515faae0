"""Peak resident memory of one action, for the benchmarks that report memory (Linux /proc)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field))


def peak_extra(action: Callable[[], T]) -> tuple[T, int]:
    """Runs ``action`` and returns (its result, peak resident bytes above the level before it)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets the peak (VmHWM) to the current resident set
    before = _status("VmRSS:")
    result = action()
    return result, _status("VmHWM:") - before
