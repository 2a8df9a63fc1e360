"""Fixtures of the reliability suite ("Nothing lost, nothing hangs"); helpers live in reliability_support.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from regtui import headless
from regtui.cli import main

# With --import-mode=importlib the test folder is not on sys.path: put it there for reliability_support.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the regtui command in-process (CliRunner catches its sys.exit); stdout and stderr kept apart."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``python -m regtui ARGS`` in its own session; every process is SIGKILLed at teardown if alive."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str, cwd: Path | None = None, **kwargs: Any) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "regtui", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            cwd=cwd,
            **kwargs,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: the group is just this process
            proc.wait()


@pytest.fixture(autouse=True)
def runs_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every run's history goes to a fresh folder of its own (in-process and in subprocesses), never
    to the user's, and never into the test's tmp_path, whose listing some tests check."""
    folder = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv("REGTUI_RUNS_DIR", str(folder))
    return folder


@pytest.fixture
def forbid_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad input must be refused before a run starts: training fails the test at once (so a regression cannot
    go on to run, say, a plan that the memory check should have refused). The worker thread itself may start:
    it tries a scenario's factories first (where a signal can stop them), before any training."""
    import regtui.engine

    def run_plan(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the run started although the input should have been refused first")

    monkeypatch.setattr(regtui.engine, "run_plan", run_plan)


@pytest.fixture(autouse=True)
def signal_handlers_restored() -> Iterator[None]:
    """In-process runs install signal handlers; whatever a test leaves is put back, so the pytest worker
    stays interruptible (tests that check the restoring do so themselves)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {signum: signal.getsignal(signum) for signum in headless.SIGNAL_EXITS}
    yield
    for signum, handler in before.items():
        if handler is not None:
            signal.signal(signum, handler)
