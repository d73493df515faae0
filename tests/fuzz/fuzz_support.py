"""What the fuzz properties share: example counts, the memory bound, the errors bad input may raise."""

from __future__ import annotations

import functools
import os
from collections import Counter

from hypothesis.errors import UnsatisfiedAssumption

#: Bytes of address space each fuzz process may use (conftest.py sets the limit).
MEMORY = int(os.environ.get("FAST_BALANCE_FUZZ_MEMORY", 4 << 30))
#: Examples per property and process.
EXAMPLES = int(os.environ.get("FAST_BALANCE_FUZZ_EXAMPLES", 200))

#: Examples run so far in this process, by test name.
EXAMPLES_RUN: Counter = Counter()

#: What the core may raise for bad input; anything else (RuntimeError, MemoryError, SystemError, a
#: crash) is a finding.
BAD_INPUT = (ValueError, TypeError, OverflowError)


def examples(share: float) -> int:
    """Examples for a property that costs about ``1 / share`` times an ordinary one (at least 2)."""
    return max(2, round(EXAMPLES * share))


def counted(test):
    """Wraps a hypothesis test body so that every example it runs is counted under its name
    (not those that `assume` rejects)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except UnsatisfiedAssumption:
            EXAMPLES_RUN[test.__name__] -= 1
            raise
        finally:
            EXAMPLES_RUN[test.__name__] += 1

    return wrapper


def too_big(samples: int) -> bool:
    """Whether an output of ``samples`` samples (16 bytes each) may fairly fail for memory: from
    a 64th of the address space on, as a long-running process may not have that much in one piece."""
    return 16 * samples > MEMORY // 64
