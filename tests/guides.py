"""Runs the Python examples of a guide in docs/, as written, and checks what they print."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
SKIP = "<!-- not run"
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```", re.S)
PRINTED = re.compile(r"^\s*print\(.*\)\s+# (?P<expected>.+)$")


def python_blocks(guide: str) -> list[str]:
    """The guide's ```python blocks, in order, without those marked ``<!-- not run: why -->``."""
    text = (DOCS / guide).read_text()
    return [match["code"] for match in BLOCK.finditer(text) if not match["before"].startswith(SKIP)]


def run_guide(guide: str, tmp_path: Path, timeout: float = 300) -> None:
    """Runs every block of ``guide`` in one process; each ``print(...)  # text`` must print the start of text."""
    code = "\n\n".join(python_blocks(guide))
    script = tmp_path / "guide.py"
    script.write_text(code)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=timeout)
    assert run.returncode == 0, run.stderr[-4000:]
    expected = [match["expected"] for line in code.splitlines() if (match := PRINTED.match(line))]
    printed = run.stdout.splitlines()
    assert len(printed) == len(expected), (printed, expected)
    for out, comment in zip(printed, expected):
        assert comment.startswith(out) and not comment[len(out):len(out) + 1].isalnum(), (out, comment)
