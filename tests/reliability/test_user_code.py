"""User code under control (issue 24, items 2 and 10): a model factory that never returns is stopped
by the first signal with an interrupted document; sys.exit in user code is one line with its code,
never a silent exit. Real processes and real signals; no wall-clock asserts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from reliability_support import TIMEOUT, one_error_line, strict_json, wait_until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

SCENARIO = """
experiment = "train"
title = "factory"
[params]
steps = 4
batch = 8
log_every = 2
[model]
factory = "net.py:make"
[data]
source = "moons"
n = 32
[[variants]]
name = "a"
lr = 0.01
"""


def scenario(tmp_path: Path, body: str) -> Path:
    (tmp_path / "net.py").write_text(textwrap.dedent(body), encoding="utf-8")
    path = tmp_path / "mine.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


FOREVER = """
import pathlib
from torch import nn

def make():
    pathlib.Path(__file__).with_name("entered").write_text("yes")
    while True:
        pass
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_factory_that_never_returns_stops_at_the_first_signal(tmp_path, signum):
    path = scenario(tmp_path, FOREVER)
    proc = subprocess.Popen(
        [sys.executable, "-m", "regtui", "--scenario", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until((tmp_path / "entered").exists, "the factory to be running", proc=proc)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}[signum], err
    assert "Traceback" not in err and "_StopNow" not in err
    assert strict_json(out)["status"] == "interrupted"


EXITS = """
import sys
from torch import nn

def make():
    sys.exit({code})
"""


@pytest.mark.parametrize("code", [0, 3])
def test_sys_exit_in_a_factory_is_one_line_never_a_silent_exit(tmp_path, code):
    path = scenario(tmp_path, EXITS.format(code=code))
    done = subprocess.run(
        [sys.executable, "-m", "regtui", "--scenario", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 2, done.stderr  # found while the model is made, before training: bad input
    assert f"called sys.exit({code})" in one_error_line(done.stderr)
