"""Running a test's worker script in a fresh interpreter, to the end or SIGKILLed from outside."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


def run_worker_script(command: list[str], env: dict[str, str], stop_after: int | None, marker: Path,
                      timeout: float = 300, process_group: bool = False) -> None:
    """Runs ``command`` to its end (``stop_after`` None) and asserts it succeeded; or runs it with
    ``stop_after`` appended and, once it has written ``marker``, SIGKILLs it (its whole process
    group with ``process_group``: a trainer and its loader workers) and returns after it is dead."""
    if stop_after is None:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
        assert result.returncode == 0, result.stderr[-3000:]
        return
    process = subprocess.Popen([*command, str(stop_after)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=env, start_new_session=process_group)
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "the worker never reached its stop point"
        time.sleep(0.05)
    if process_group:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
