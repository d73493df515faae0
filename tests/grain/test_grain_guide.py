"""docs/guide/grain.md: its examples run as written and print what they say."""

from __future__ import annotations

import pytest

pytest.importorskip("grain.python")

from guides import run_guide


def test_grain_guide_runs(tmp_path):
    run_guide("guide/grain.md", tmp_path)
