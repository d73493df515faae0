"""docs/guide/pytorch.md: its examples run as written and print what they say."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("torchdata")

from guides import run_guide


def test_pytorch_guide_runs(tmp_path):
    run_guide("guide/pytorch.md", tmp_path)
