"""Following a run of another process live from History (issue 20): a real headless run in the
background, opened from History in the dashboard, drawn as it goes, stopped with s after a yes.
No wall-clock asserts: every wait polls a condition with a generous timeout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from textual.widgets import TabbedContent

from regtui.app.views.history import HistoryTab
from regtui.app.widgets.confirm import Confirm
from regtui.store import open_store

from .conftest import app_for, wait_until
from .screen_text import screen_lines

TIMEOUT = 120.0


def background_run() -> subprocess.Popen[str]:
    """weight-decay for far more steps than the test waits for, saved in the test's run store."""
    args = ["--scenario", "weight-decay", "--device", "cpu", "--set", "hidden=16", "--set", "iters=200000"]
    return subprocess.Popen(
        [sys.executable, "-m", "regtui", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


async def test_a_running_run_is_followed_live_and_stopped_after_a_yes():
    proc = background_run()
    try:
        store = open_store()
        await wait_until(lambda: any(r.state == "running" for r in store.listing().runs), TIMEOUT)
        (run,) = store.listing().runs
        app = app_for(file="bn")  # another scenario on screen first: the header must follow the run
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            app.main.query_one(TabbedContent).active = "tab-history"
            await pilot.pause()
            history = app.main.query_one(HistoryTab)
            history.reload()
            assert history.open_run(run.id)
            state = app.main.run_state
            assert state is not None and state.status == "running" and state.follower is not None
            assert app.main.entry.path is not None and app.main.entry.path.stem == "weight-decay"
            await wait_until(
                lambda: state.collector.progress is not None and state.collector.progress.step > 0, TIMEOUT
            )
            first = state.collector.progress.step
            await wait_until(lambda: state.collector.progress.step > first, TIMEOUT)  # it goes on, drawn as it goes
            await wait_until(lambda: any(f"following run #{run.id}" in line for line in screen_lines(app)), 10)
            assert any("regtui · Weight decay" in line for line in screen_lines(app))
            await pilot.press("s")
            await wait_until(lambda: isinstance(app.screen, Confirm), 10)
            await pilot.press("y")
            await wait_until(lambda: state.status not in ("running", "stopping"), TIMEOUT)
            assert state.status == "stopped"
            assert proc.wait(TIMEOUT) is not None
            assert store.get(run.id).state == "stopped"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def test_a_killed_run_turns_interrupted_and_keeps_what_was_drawn():
    proc = background_run()
    try:
        store = open_store()
        await wait_until(lambda: any(r.state == "running" for r in store.listing().runs), TIMEOUT)
        (run,) = store.listing().runs
        app = app_for(file="weight-decay")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.main.query_one(HistoryTab).open_run(run.id)
            state = app.main.run_state
            await wait_until(
                lambda: state.collector.progress is not None and state.collector.progress.step > 0, TIMEOUT
            )
            drawn = state.collector.progress.step
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            await wait_until(lambda: state.status == "interrupted", TIMEOUT)
            assert state.collector.progress.step >= drawn
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def test_the_dashboard_says_a_run_is_going_and_a_follows_it():
    proc = background_run()
    try:
        store = open_store()
        await wait_until(lambda: any(r.state == "running" for r in store.listing().runs), TIMEOUT)
        (run,) = store.listing().runs
        app = app_for(file="weight-decay")
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(lambda: any("a follows it live" in notice for notice in app.notices), 10)
            await pilot.press("a")
            await wait_until(lambda: app.main.run_state is not None and app.main.run_state.stored_id == run.id, 10)
            assert app.main.run_state.follower is not None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def test_attach_opens_the_dashboard_following_the_run():
    proc = background_run()
    try:
        store = open_store()
        await wait_until(lambda: any(r.state == "running" for r in store.listing().runs), TIMEOUT)
        (run,) = store.listing().runs
        app = app_for(follow=run.id)  # what `regtui attach ID` opens
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(lambda: app.main.run_state is not None and app.main.run_state.stored_id == run.id, 10)
            state = app.main.run_state
            await wait_until(
                lambda: state.collector.progress is not None and state.collector.progress.step > 0, TIMEOUT
            )
            assert app.main.entry.path is not None and app.main.entry.path.stem == "weight-decay"
            await pilot.press("q")
        assert proc.poll() is None  # quitting the dashboard leaves the run alone
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
