"""The streaming rebalancer's core through its binding, without TensorFlow, against the one it replaced.

- ``fast_balance``: ``fast_balance._core.Rebalancer`` (earliest deadline first over Pfair windows,
  O(log C) per emission; buffers allocated when a class's first record arrives).
- ``swrr (before)``: the implementation of fast_balance 0.1.0 (``swrr_rebalancer.cpp``, smooth
  weighted round robin: every emission scans all C classes; a deque and a random stream per class
  allocated up front), compiled here with the same compiler. It is timed on a prefix of the stream
  short enough to finish.

Data: one pass over R records of C classes with long-tailed frequencies (class c has weight
100^(-c / (C - 1)), as the sampler benchmarks' ratio of 100), in random order, 16-byte payloads,
pushed 256 at a time, the last push final: the pass ends when every record has been emitted.
Balanced target, ``capacity_per_class=16``; each round builds a new core (not timed).
``extra_info``: records read per second (the pass's input rate, every record emitted at least
once) and emissions per second (fresh and replays; a balanced pass over a long-tailed stream is
mostly replays). ``test_class_state_memory``: RSS added by building a core with C classes,
measured in a fresh process.

    python -m pytest benchmarks/test_stream_core_speed.py --benchmark-only --benchmark-json=benchmarks/stream_core.json
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np
import pytest

from fast_balance import _core

CHUNK = 256
CAPACITY = 16
RECORDS = 1_000_000
# Records of the pass timed on the old core, per C: it costs O(C) per emission and per read.
OLD_RECORDS = {10: RECORDS, 1_000: 100_000, 100_000: 20_000, 1_000_000: 200}
GROUP = "stream core: one pass over a long-tailed stream (ratio 100), balanced, capacity 16, chunks of 256"
BASELINE = pathlib.Path(__file__).resolve().parent / "swrr_rebalancer.cpp"


@functools.cache
def stream(num_classes: int, records: int, seed: int = 0) -> tuple[list[bytes], np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = 100.0 ** (-np.arange(num_classes) / max(num_classes - 1, 1))
    labels = rng.choice(num_classes, size=records, p=weights / weights.sum()).astype(np.int64)
    return [b"%016d" % i for i in range(records)], labels


@pytest.fixture(scope="session")
def old_core():
    """The old core as a module, built once per session; skips where no C++ compiler is found."""
    compiler = shutil.which(os.environ.get("CXX", "c++"))
    if compiler is None:
        pytest.skip("no C++ compiler to build the old core")
    import pybind11

    folder = pathlib.Path(tempfile.mkdtemp(prefix="fast_balance_swrr_"))
    target = folder / f"_swrr_rebalancer{sysconfig.get_config_var('EXT_SUFFIX')}"
    command = [compiler, "-O3", "-std=c++17", "-shared", "-fPIC", f"-I{pybind11.get_include()}",
               f"-I{sysconfig.get_paths()['include']}", str(BASELINE), "-o", str(target)]
    built = subprocess.run(command, capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip(f"the old core does not build here: {built.stderr[-500:]}")
    spec = importlib.util.spec_from_file_location("_swrr_rebalancer", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_pass(benchmark, make_core, num_classes: int, records: int, rounds: int) -> None:
    """Times one whole pass: the records pushed in chunks, the last push final (so every one is emitted)."""
    payloads, labels = stream(num_classes, RECORDS)
    payloads, labels = payloads[:records], labels[:records]
    counts = {}

    def push_all(core):
        emitted = 0
        for begin in range(0, records, CHUNK):
            end = min(begin + CHUNK, records)
            out, _, _ = core.push(payloads[begin:end], labels[begin:end], end == records)
            emitted += len(out)
        counts["emitted"], counts["read"] = emitted, core.stats["read"]

    def setup():
        return (make_core(np.ones(num_classes, dtype=np.uint64), CAPACITY, 0),), {}

    benchmark.group = GROUP
    benchmark.pedantic(push_all, setup=setup, rounds=rounds, iterations=1)
    seconds = benchmark.stats.stats.min
    benchmark.extra_info.update(classes=num_classes, records=records, emitted=counts["emitted"], read=counts["read"],
                                read_per_s=counts["read"] / seconds, emitted_per_s=counts["emitted"] / seconds)


@pytest.mark.parametrize("num_classes", [10, 1_000, 100_000, 1_000_000])
def test_fast_balance(benchmark, num_classes):
    run_pass(benchmark, _core.Rebalancer, num_classes, RECORDS, rounds=3)


@pytest.mark.parametrize("num_classes", [10, 1_000, 100_000, 1_000_000])
def test_swrr_before(benchmark, old_core, num_classes):
    rounds = 1 if num_classes >= 100_000 else 3
    run_pass(benchmark, old_core.Rebalancer, num_classes, OLD_RECORDS[num_classes], rounds=rounds)


MEMORY_PROBE = """
import importlib
import sys
import numpy as np
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * {page}
sys.path.insert(0, {folder!r})
module = importlib.import_module({module!r})
weights = np.ones({classes}, dtype=np.uint64)
before = rss()
core = module.Rebalancer(weights, 16, 0)
print(rss() - before)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS is read from /proc")
@pytest.mark.parametrize("implementation", ["fast_balance", "swrr (before)"])
@pytest.mark.parametrize("num_classes", [100_000, 1_000_000, 10_000_000])
def test_class_state_memory(benchmark, request, implementation, num_classes):
    if implementation == "fast_balance":
        folder, module = "", "fast_balance._core"
    else:
        if num_classes > 1_000_000:
            pytest.skip("the old core needs about 7.5 GB for 10^7 classes")
        old = request.getfixturevalue("old_core")
        folder, module = str(pathlib.Path(old.__file__).parent), "_swrr_rebalancer"
    probe = MEMORY_PROBE.format(page=os.sysconf("SC_PAGE_SIZE"), folder=folder, module=module, classes=num_classes)
    added = int(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    benchmark.group = "stream core: building a core with C classes (balanced, capacity 16)"
    make = _core.Rebalancer if implementation == "fast_balance" else request.getfixturevalue("old_core").Rebalancer
    weights = np.ones(num_classes, dtype=np.uint64)
    benchmark.pedantic(make, args=(weights, CAPACITY, 0), rounds=1, iterations=1)
    benchmark.extra_info.update(classes=num_classes, rss_bytes=added, bytes_per_class=added / num_classes)
