"""Helpers of the reliability suite ("Nothing lost, nothing hangs").

Tests never assert wall-clock times; they wait on conditions with generous
timeouts, so a loaded CI box makes them slower, not red.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TIMEOUT = 60  # seconds to wait for any condition or process; a hang fails, slowness does not


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-strict JSON constant {name}")


def strict_json(text: str) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity (strict JSON)."""
    return json.loads(text, parse_constant=_reject_constant)


def one_error_line(stderr: str) -> str:
    """Assert stderr is exactly one 'regtui: error: …' line without a traceback; return the message."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {stderr!r}"
    assert lines[0].startswith("regtui: error: "), lines[0]
    return lines[0].removeprefix("regtui: error: ")


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT, proc: Any = None) -> None:
    """Poll ``predicate`` until true; fail after ``timeout`` s, or at once if ``proc`` ended meanwhile."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"process ended (rc {proc.returncode}) before {what}: {err[-2000:]!r}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def file_has(path: Path, needle: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return needle in path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return False

    return check


def metric_steps(events_text: str) -> int:
    """Steps recorded in the Metrics lines of an --events file (lines that do not parse are skipped)."""
    total = 0
    for line in events_text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "Metrics":
            total += len(event["step"])
    return total


def document_steps(doc: dict[str, Any]) -> int:
    """Steps recorded in a JSON document, summed over its (single-seed) variants."""
    return sum(len(v["series"]["step"]) for v in doc["variants"])


def finish(proc: subprocess.Popen[str], timeout: float = TIMEOUT) -> tuple[str, str]:
    """(stdout, stderr) of a process once it exits; a process still running after ``timeout`` s fails the test."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        pytest.fail(f"hung: {proc.args} did not exit within {timeout} s after the signal; stderr: {err[-2000:]!r}")


def send(proc: subprocess.Popen[str], signum: int) -> None:
    """Signal a process of ours; one that already exited is not an error (it had finished its work)."""
    try:
        os.kill(proc.pid, signum)
    except ProcessLookupError:
        pass
