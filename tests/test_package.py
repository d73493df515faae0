"""Packaging promises: no TensorFlow on import, stubs that match the extension, a working CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import fast_balance
from fast_balance import _core


def test_import_does_not_import_tensorflow():
    code = "import sys, fast_balance; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_type_stubs_name_what_the_extension_has():
    stub = ast.parse((Path(fast_balance.__file__).parent / "_core.pyi").read_text())
    names = {node.name for node in stub.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    assert names == {name for name in dir(_core) if not name.startswith("_")}
    for class_stub in (node for node in stub.body if isinstance(node, ast.ClassDef)):
        methods = {node.name for node in class_stub.body if isinstance(node, ast.FunctionDef)} - {"__init__"}
        assert methods == {name for name in dir(getattr(_core, class_stub.name)) if not name.startswith("_")}
    assert (Path(fast_balance.__file__).parent / "py.typed").exists()


def test_demo_prints_balanced_histogram_and_speed():
    out = subprocess.run(
        [sys.executable, "-m", "fast_balance", "demo", "--largest", "2000", "--ratio", "50", "--no-images"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "imbalance 50:1" in out
    after = out.split("One balanced epoch")[1].split("First batch")[0]
    counts = [int(line.split()[2].replace(",", "")) for line in after.strip().splitlines()[1:]]
    # 10 * 2000 rounded up to whole batches of 64: every class 2003 or 2004 times.
    assert len(counts) == 10 and min(counts) >= 2000 and max(counts) - min(counts) <= 1
    assert "M indices/s" in out
