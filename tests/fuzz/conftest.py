"""The long fuzz suite: collected only when FAST_BALANCE_FUZZ is set (`.ci/fuzz MINUTES` sets it).

`python -m pytest` collects `tests/`, so without the variable every module here is ignored. With it,
each process bounds its own address space (FAST_BALANCE_FUZZ_MEMORY bytes, default 4 GiB) so that an
unbounded allocation fails as MemoryError instead of swapping the machine, runs every property for
FAST_BALANCE_FUZZ_EXAMPLES examples (default 200; some modules scale it down, see `examples`), and
rewrites the JSON file FAST_BALANCE_FUZZ_STATS with the examples run, by test, after every test, so
that the counts of a process that crashed are known up to its crash (and, as "__seconds__", the time
since its first test began: the rest of the process's time is its start-up).

A run is reproduced by its seed and example count: `--hypothesis-seed=SEED` with the same
FAST_BALANCE_FUZZ_EXAMPLES (there is no example database, so nothing else carries over).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

from hypothesis import HealthCheck, settings

ENABLED = bool(os.environ.get("FAST_BALANCE_FUZZ"))
if not ENABLED:
    collect_ignore_glob = ["test_*.py"]
else:
    # The reference models live beside the ordinary tests; fuzz_support beside this file.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [here, os.path.dirname(here)]
    from fuzz_support import EXAMPLES, EXAMPLES_RUN, MEMORY

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    settings.register_profile(
        "fuzz", max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True,
        database=None,
    )
    settings.load_profile("fuzz")

    _began: list[float] = []

    def pytest_runtest_logstart(nodeid, location):
        if not _began:
            _began.append(time.monotonic())

    def pytest_runtest_logfinish(nodeid, location):
        path = os.environ.get("FAST_BALANCE_FUZZ_STATS")
        if path:
            with open(path + ".tmp", "w") as file:
                json.dump({**EXAMPLES_RUN, "__seconds__": time.monotonic() - _began[0]}, file)
            os.replace(path + ".tmp", path)
