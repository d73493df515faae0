"""Builds and runs the C++ core's own unit tests, plainly (-Werror) and under ASan + UBSan."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_workflow(preset: str) -> subprocess.CompletedProcess:
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.fail("cmake is not installed: install the test extra (pip install '.[test]')")
    env = dict(os.environ, CMAKE_GENERATOR=os.environ.get("CMAKE_GENERATOR", "Ninja" if shutil.which("ninja") else ""))
    if not env["CMAKE_GENERATOR"]:
        del env["CMAKE_GENERATOR"]
    # A stale cache from another generator would stop the configure step.
    shutil.rmtree(ROOT / "build" / preset, ignore_errors=True)
    return subprocess.run(
        [cmake, "--workflow", "--preset", preset], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize("preset", ["core-tests", "sanitize"])
def test_core_unit_tests(preset):
    result = run_workflow(preset)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "100% tests passed" in result.stdout
