"""The fuzz suite's runner, briefly: `.ci/fuzz` runs every fuzz module and reports a crash.

The long run is `.ci/fuzz 10` (tests/fuzz); here it runs for 24 seconds, so that a fuzz module that
no longer imports or a property that fails on its first examples shows in the ordinary suite.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FUZZ = ROOT / ".ci" / "fuzz"


def run_fuzz(minutes: str, **env: str) -> subprocess.CompletedProcess:
    if shutil.which("bash") is None:
        pytest.skip("the fuzz runner is a bash script")
    return subprocess.run(["bash", str(FUZZ), minutes], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHON": sys.executable, **env})


def test_a_short_fuzz_run_passes_every_module():
    result = run_fuzz("0.4", FAST_BALANCE_FUZZ_SEED="1")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    for module in ("core", "api", "weights", "threads", "images"):
        assert re.search(rf"round 0 +seed 1 +test_fuzz_{module}\.py +[1-9]\d* examples .* ok", result.stdout), module
    total = re.search(r"([\d,]+)  in all", result.stdout)
    assert total and int(total.group(1).replace(",", "")) >= 100
    assert "no failures" in result.stdout


def test_a_crash_is_reported_with_the_seed_that_reproduces_it(tmp_path):
    # A property that kills its process: the runner says which module, which signal and how to
    # run it again, and exits non-zero.
    crashing = tmp_path / "test_fuzz_crash.py"
    crashing.write_text(
        "import os, signal\nfrom hypothesis import given, strategies as st\n\n"
        "@given(st.integers())\ndef test_crashes(n):\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
    )
    result = run_fuzz("0.1", FAST_BALANCE_FUZZ_SEED="7", FAST_BALANCE_FUZZ_MODULES=str(crashing),
                      FAST_BALANCE_FUZZ_LOGS=str(tmp_path / "logs"))
    assert result.returncode == 1, result.stdout[-3000:]
    assert re.search(r"seed 7 +test_fuzz_crash\.py +0 examples .* CRASH \(signal 11\)", result.stdout), result.stdout
    assert "--hypothesis-seed=7" in result.stdout and "FAILURES (" in result.stdout
