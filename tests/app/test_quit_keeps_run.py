"""A run started in the dashboard outlives it (issue 20): its child process trains and saves it, so
quitting can keep it going, a dropped terminal (SIGHUP) does, and `regtui runs stop` stops it.

Real child processes and real signals; no wall-clock asserts: every wait polls a condition with a
generous timeout.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

import pytest

from regtui.app import quit_choice
from regtui.app.widgets.quit_question import QuitQuestion
from regtui.store import open_store
from regtui.store.control import stop
from regtui.store.process import is_headless, is_regtui, same_process

from .conftest import app_for, wait_until
from .driver import Dashboard

pytestmark = [
    pytest.mark.child_trainer,
    pytest.mark.skipif(os.name != "posix", reason="the child trainer is POSIX only"),
]

TIMEOUT = 120.0
LONG = {"hidden": "16", "iters": "200000"}  # far longer than any test waits: it is stopped or killed
MEDIUM = {"hidden": "8", "iters": "30000"}  # ends on its own a few seconds after the quit


def wait_for(condition, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def the_run():
    (run,) = open_store().listing().runs
    return run


def kill_run(run) -> None:
    if same_process(run.pid, run.pid_start):
        os.kill(run.pid, signal.SIGKILL)


async def started(dash: Dashboard, **fields: str):
    """Run weight-decay with ``fields`` until its record says running in the store; its record."""
    await dash.set_fields(**fields)
    await dash.start()
    await wait_until(lambda: dash.step() > 0, TIMEOUT)
    wait_for(lambda: len(open_store().listing().runs) == 1)
    return the_run()


async def test_quit_keep_leaves_the_run_to_its_child_which_saves_it_completed():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        run = await started(dash, **MEDIUM)
        assert run.state == "running" and run.pid != os.getpid()  # the child's run, in the store
        await pilot.press("q")
        await wait_until(lambda: isinstance(app.screen, QuitQuestion), 10)
        await pilot.press("k")
        await pilot.pause()
    assert app.return_code is not None or not app.is_running
    # still training with the dashboard gone, or (a loaded machine slows the dashboard, not the child)
    # already at its end and saved completed: a child that went with the dashboard ends interrupted
    assert same_process(run.pid, run.pid_start) or the_run().state == "completed"
    try:
        wait_for(lambda: the_run().state != "running")
        done = the_run()
        assert done.state == "completed"
        document = open_store().document(run.id)
        assert document["status"] == "completed" and document["variants"]
        assert quit_choice.last(None) == "keep"  # offered first next time
        assert f"run {run.id} goes on in the background" in app.farewell  # said in the shell
    finally:
        kill_run(run)


async def test_quit_stop_stops_the_run_at_its_next_step_and_it_is_saved_stopped():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        run = await started(dash, **LONG)
        await pilot.press("q")
        await wait_until(lambda: isinstance(app.screen, QuitQuestion), 10)
        await pilot.press("s")
        await pilot.pause()
    try:
        wait_for(lambda: the_run().state != "running")
        assert the_run().state == "stopped"
        assert open_store().document(run.id)["status"] == "interrupted"
        assert quit_choice.last(None) == "stop"
    finally:
        kill_run(run)


async def test_escape_stays_and_the_question_offers_the_last_answer_first():
    quit_choice.remember(None, "keep")
    app = app_for(file="weight-decay")
    async with app.run_test(size=(80, 24)) as pilot:
        dash = Dashboard(pilot)
        run = await started(dash, **LONG)
        try:
            await pilot.press("q")
            await wait_until(lambda: isinstance(app.screen, QuitQuestion), 10)
            assert app.focused is not None and app.focused.id == "quit-keep"
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, QuitQuestion) and app.is_running and dash.running()
            await pilot.press("s")  # the dashboard's own stop, as before
            state = await dash.wait_for_end(TIMEOUT)
            assert state.status == "stopped"
            await dash.settled(TIMEOUT)
            assert the_run().state == "stopped"
        finally:
            kill_run(run)


async def test_a_quit_with_no_run_going_asks_nothing():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, QuitQuestion)
    assert not app.is_running


async def test_runs_stop_from_another_terminal_stops_a_dashboard_run():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        run = await started(dash, **LONG)
        try:
            stop(open_store(), run.id)  # what `regtui runs stop ID` does: SIGINT to the run's process
            state = await dash.wait_for_end(TIMEOUT)
            assert state.status == "stopped"
            await dash.settled(TIMEOUT)
            assert the_run().state == "stopped"
        finally:
            kill_run(run)


def test_the_trainer_process_is_a_run_that_runs_stop_may_signal():
    argv = [sys.executable, "-m", "regtui.app.trainer_process"]
    assert is_regtui(argv) and is_headless(argv)
    assert is_regtui([sys.executable, "-m", "regtui"]) and not is_headless([sys.executable, "-m", "regtui"])
    assert not is_regtui([sys.executable, "-m", "regtuix.app.trainer_process"])


def test_a_dropped_terminal_leaves_the_run_going_and_it_is_saved(tmp_path: Path):
    """The dashboard in a real pseudo-terminal; r starts a run; the terminal's master side closes (the
    SSH link drops: the kernel sends SIGHUP); the dashboard ends, the run completes and is saved."""
    file = tmp_path / "wd.toml"
    file.write_text(
        'experiment = "weight-decay"\ntitle = "WD"\nsummary = "hangup"\n[params]\nhidden = 8\niters = 30000\n'
        '[[variants]]\nname = "a"\nweight_decay = 0.0\n',
        encoding="utf-8",
    )
    pid, master = pty.fork()
    if pid == 0:  # the child: the dashboard, on the pty
        os.environ.update(COLUMNS="100", LINES="30", TERM="xterm-256color")
        os.execv(sys.executable, [sys.executable, "-m", "regtui", str(file), "--device", "cpu"])
    try:
        drawn = _read_until(master, b"ready")  # the dashboard is up: one r starts the run
        assert b"ready" in drawn
        os.write(master, b"r")
        store = open_store()
        deadline = time.monotonic() + TIMEOUT
        while not store.listing().runs:
            assert time.monotonic() < deadline, "the dashboard never started the run"
            _read_until(master, None, 0.1)
        run = the_run()
        assert run.pid != pid and same_process(run.pid, run.pid_start)
        os.close(master)  # the link drops
        master = -1
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) or os.WIFEXITED(status)  # the dashboard is gone
        wait_for(lambda: the_run().state != "running")
        assert the_run().state == "completed"
        assert open_store().document(run.id)["status"] == "completed"
    finally:
        if master >= 0:
            os.close(master)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        for run in open_store().listing().runs:
            kill_run(run)


def _read_until(fd: int, text: bytes | None, timeout: float = TIMEOUT) -> bytes:
    """What the dashboard draws on the pty, read until ``text`` shows or ``timeout`` passes (a pty
    whose output nobody reads fills up and blocks its writer)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (text is None or text not in seen):
        if select.select([fd], [], [], 0.05)[0]:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            seen = seen[-4096:] + chunk
    return seen
