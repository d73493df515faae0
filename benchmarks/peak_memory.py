"""Peak resident memory of one action, for the benchmarks that report memory (Linux /proc)."""

from __future__ import annotations

import resource
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")


class Peak(NamedTuple):  # not Generic: a generic NamedTuple needs Python 3.11, the package 3.9
    result: Any
    peak: int  # peak resident bytes during the action, above the level before it
    held: int  # resident bytes still held after it, above the level before it
    reset: bool  # whether the peak could be reset first (else ru_maxrss: counts only above the earlier peak)


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field))


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets the peak (VmHWM) to the current resident set
        return True
    except OSError:
        return False


def measure(action: Callable[[], Any]) -> Peak:
    """Runs ``action`` and returns its result with the peak and held resident memory it added."""
    reset = _reset_peak()
    before_rss = _status("VmRSS:")
    before_peak = before_rss if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = action()
    peak = _status("VmHWM:") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return Peak(result, peak - before_peak, _status("VmRSS:") - before_rss, reset)


def peak_extra(action: Callable[[], T]) -> tuple[T, int]:
    """Runs ``action`` and returns (its result, peak resident bytes above the level before it)."""
    measured = measure(action)
    return measured.result, measured.peak
