"""Following a run of another process live (issue 20): a real headless run in the background,
followed from History, from `regtui attach` and with `a`, stopped with s after a yes, killed.
No wall-clock asserts: every wait polls a condition with a generous timeout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from regtui.app.views.history import HistoryTab
from regtui.app.widgets.confirm import Confirm
from regtui.store import open_store

from .conftest import app_for, wait_until
from .driver import Dashboard
from .screen_text import screen_lines

TIMEOUT = 120.0


@pytest.fixture
def running():
    """weight-decay for far more steps than a test waits for, in the background, saved in the test's
    run store and listed as running: (its process, its record)."""
    args = ["--scenario", "weight-decay", "--device", "cpu", "--set", "hidden=16", "--set", "iters=200000"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "regtui", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        store = open_store()
        deadline = time.monotonic() + TIMEOUT
        while not any(r.state == "running" for r in store.listing().runs):
            assert proc.poll() is None and time.monotonic() < deadline, "the background run never ran"
            time.sleep(0.05)
        (run,) = store.listing().runs
        yield proc, run
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def drawing(state) -> int:
    """Wait until the followed run's progress is drawn; the step it is at."""
    await wait_until(lambda: state.collector.progress is not None and state.collector.progress.step > 0, TIMEOUT)
    return state.collector.progress.step


async def test_a_running_run_is_followed_live_and_stopped_after_a_yes(running):
    proc, run = running
    app = app_for(file="bn")  # another scenario on screen first: the header must follow the run
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        dash.show_view("history")
        await pilot.pause()
        assert app.main.query_one(HistoryTab).open_run(run.id)
        state = dash.run
        assert state is not None and state.status == "running" and state.follower is not None
        assert dash.entry.path is not None and dash.entry.path.stem == "weight-decay"
        first = await drawing(state)
        await wait_until(lambda: state.collector.progress.step > first, TIMEOUT)  # drawn as it goes
        await wait_until(lambda: any(f"following run #{run.id}" in line for line in screen_lines(app)), 10)
        assert any("regtui · Weight decay" in line for line in screen_lines(app))
        await pilot.press("s")
        await wait_until(lambda: isinstance(app.screen, Confirm), 10)
        await pilot.press("y")
        await wait_until(lambda: state.status not in ("running", "stopping"), TIMEOUT)
        assert state.status == "stopped"
        assert proc.wait(TIMEOUT) is not None
        assert open_store().get(run.id).state == "stopped"


async def test_a_killed_run_turns_interrupted_and_keeps_what_was_drawn(running):
    proc, run = running
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert app.main.query_one(HistoryTab).open_run(run.id)
        state = dash.run
        drawn = await drawing(state)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        await wait_until(lambda: state.status == "interrupted", TIMEOUT)
        assert state.collector.progress.step >= drawn


async def test_the_dashboard_says_a_run_is_going_and_a_follows_it(running):
    _, run = running
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await wait_until(lambda: any("a follows it live" in notice for notice in app.notices), 10)
        await pilot.press("a")
        await wait_until(lambda: dash.run is not None and dash.run.stored_id == run.id, 10)
        assert dash.run.follower is not None


async def test_attach_opens_the_dashboard_following_the_run(running):
    proc, run = running
    app = app_for(follow=run.id)  # what `regtui attach ID` opens
    async with app.run_test(size=(80, 24)) as pilot:
        dash = Dashboard(pilot)
        await wait_until(lambda: dash.run is not None and dash.run.stored_id == run.id, 10)
        await drawing(dash.run)
        assert dash.entry.path is not None and dash.entry.path.stem == "weight-decay"
        # The form shows the run's own parameters (attach opens on that very scenario: the form is built anew).
        assert dash.form.texts["iters"] == "200000" and dash.form.texts["hidden"] == "16"
        await pilot.press("q")
    assert proc.poll() is None  # quitting the dashboard leaves the run alone


async def test_a_stored_run_opens_while_another_is_followed_and_that_one_goes_on(running):
    """Following is only watching: opening another run from History leaves the followed one going."""
    proc, run = running
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await dash.set_fields(iters="20")
        await dash.run_to_end()  # a stored run of this dashboard: run 2
        await pilot.pause()
        history = app.main.query_one(HistoryTab)
        assert history.open_run(run.id)
        await drawing(dash.run)
        assert any(f"following run #{run.id}" in line for line in screen_lines(app))
        assert history.open_run(2)
        await pilot.pause()
        assert dash.run.stored_id == 2 and dash.run.follower is None and not dash.running()
        assert proc.poll() is None  # the followed run goes on
