"""Real regtui processes for the tests of runs that outlive their terminal (--detach, runs follow, runs stop).

Every wait polls a condition with a generous timeout; no test asserts a wall-clock time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TIMEOUT = 120  # seconds for any condition or process: a hang fails, slowness does not


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """The store every regtui here uses (tests/conftest.py points REGTUI_RUNS_DIR at it)."""
    return tmp_path / "runs"


@pytest.fixture
def regtui() -> Callable[..., tuple[int, str, str]]:
    """``python -m regtui ARGS`` to its end: (exit code, stdout, stderr)."""

    def run(*args: Any, timeout: float = TIMEOUT) -> tuple[int, str, str]:
        done = subprocess.run(
            [sys.executable, "-m", "regtui", *map(str, args)], capture_output=True, text=True, timeout=timeout
        )
        return done.returncode, done.stdout, done.stderr

    return run


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``python -m regtui ARGS`` in a session of its own, its stdout and stderr in files
    (``proc.out()``, ``proc.err()``); any process still alive at teardown is SIGKILLed."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: Any) -> subprocess.Popen[str]:
        n = len(procs)
        out, err = tmp_path / f"proc{n}.out", tmp_path / f"proc{n}.err"
        with open(out, "w") as o, open(err, "w") as e:
            proc = subprocess.Popen(
                [sys.executable, "-m", "regtui", *map(str, args)],
                stdout=o,
                stderr=e,
                text=True,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        proc.out = out.read_text  # type: ignore[attr-defined]
        proc.err = err.read_text  # type: ignore[attr-defined]
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def wait_until() -> Callable[..., None]:
    def wait(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.05)

    return wait
