"""History keeps its rows up to date without listing the store again: a new run adds its row, a
run that ended or was deleted changes or drops its row, and a run whose process was killed turns
interrupted while History is on screen (or when it is next shown). The store's listing is counted:
a full re-list of a long history is what made the first visit after a run slow. No wall-clock
asserts: every wait polls a condition."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner
from textual.widgets import TabbedContent

from regtui.app.views.history import HistoryTab
from regtui.app.views.history_rows import COLUMNS
from regtui.cli import main
from regtui.store import open_store
from regtui.store.process import same_process
from regtui.store.runs import RunStore

from .conftest import app_for, wait_until
from .driver import Dashboard

WIDE = (120, 40)
TIMEOUT = 120.0  # a guard against a hang, never a measure


@pytest.fixture
def listings(monkeypatch) -> list[str | None]:
    """Every call of the store's listing (its scenario filter), as History makes them."""
    calls: list[str | None] = []
    listing = RunStore.listing
    monkeypatch.setattr(
        RunStore, "listing", lambda self, scenario=None: calls.append(scenario) or listing(self, scenario)
    )
    return calls


def rows(view: HistoryTab) -> list[dict[str, str]]:
    table = view.table
    return [dict(zip(COLUMNS, (str(c) for c in table.get_row_at(i)))) for i in range(table.row_count)]


def states(view: HistoryTab) -> list[tuple[str, str]]:
    """(id, status) of each row, top to bottom."""
    return [(row["id"], row["status"]) for row in rows(view)]


async def history(pilot) -> HistoryTab:
    await pilot.pause()  # the dashboard opens its first view once started
    Dashboard(pilot).show_view("history")
    await pilot.pause()
    view = pilot.app.main.query_one(HistoryTab)
    view.focus_content()  # its keys (f) reach it
    await pilot.pause()
    return view


def headless(*args: str) -> None:
    """A short run saved in the store by another 'process' (the CLI, in this one)."""
    result = CliRunner().invoke(main, ["--json", "--device", "cpu", *args])
    assert result.exit_code == 0, result.output


async def test_a_second_run_adds_its_row_without_listing_the_store_again(listings):
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="30")
        await dash.run_to_end()
        await dash.settled()
        view = await history(pilot)
        await wait_until(lambda: states(view) == [("▶ 1", "completed")])
        listed = len(listings)
        dash.show_view("loss")
        await dash.set_fields(iters="40")
        await dash.run_to_end()
        await dash.settled()
        view = await history(pilot)
        # Newest first, the ▶ mark moved to the run shown, both completed: the new row was added.
        await wait_until(lambda: states(view) == [("▶ 2", "completed"), ("1", "completed")])
        assert rows(view)[0]["changed"] == "iters=40" and "test_loss" in rows(view)[0]["results"]
        assert view.row_ids == [2, 1]
        assert len(listings) == listed  # no full listing of the store for it
        notice = str(view.query_one("#history-notice").render())
        assert notice.startswith("2 runs in all")


async def test_runs_saved_and_deleted_elsewhere_change_only_their_rows(listings):
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        headless("--scenario", "weight-decay", "--set", "iters=20", "--set", "hidden=8")
        view = await history(pilot)
        assert states(view) == [("1", "completed")]
        view.table.move_cursor(row=0)
        listed = len(listings)
        headless("--scenario", "weight-decay", "--set", "iters=25", "--set", "hidden=8")
        await wait_until(lambda: view.row_ids == [2, 1], 10)  # the refresh timer, History on screen
        assert view.selected() == 1  # the cursor stayed on its run
        assert CliRunner().invoke(main, ["runs", "rm", "1"]).exit_code == 0
        await wait_until(lambda: view.row_ids == [2], 10)
        assert states(view) == [("2", "completed")]
        assert len(listings) == listed


async def test_with_the_filter_on_a_run_of_another_scenario_is_not_listed(listings):
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        view = await history(pilot)
        await pilot.press("f")
        await wait_until(lambda: view.only)
        listed = len(listings)
        headless("--scenario", "bn-stats")
        headless("--scenario", "weight-decay", "--set", "iters=20", "--set", "hidden=8")
        await wait_until(lambda: view.row_ids == [2], 10)
        assert rows(view)[0]["scenario"] == "weight-decay"
        await pilot.press("f")  # all runs: that lists the store
        await wait_until(lambda: view.row_ids == [2, 1])
        assert len(listings) == listed + 1


def detach(*sets: str) -> int:
    """Start weight-decay for far longer than a test waits, in the background (--detach); its id."""
    args = ["--scenario", "weight-decay", "--device", "cpu", "--set", "hidden=16", "--set", "iters=2000000"]
    done = subprocess.run(
        [sys.executable, "-m", "regtui", *args, *sets, "--detach"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    return int(done.stdout.strip())


@pytest.fixture
def detached():
    """Two runs going on in the background: their ids. Killed at the end if a test left them."""
    ids = [detach(), detach("--seed", "1")]
    yield ids
    store = open_store()
    for run_id in ids:
        info = store.get(run_id)
        if same_process(info.pid, info.pid_start):
            os.kill(info.pid, signal.SIGKILL)


async def running_pid(run_id: int) -> int:
    """Wait until the detached run has recorded its process; its pid."""
    store = open_store()

    def recorded() -> bool:
        info = store.get(run_id)
        return info.pid is not None and info.alive

    await wait_until(recorded, TIMEOUT, step=0.05)
    pid = store.get(run_id).pid
    assert pid is not None
    return pid


async def test_a_killed_run_turns_interrupted_on_screen_and_when_next_shown(detached, listings):
    on_screen, hidden = detached
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        pids = {run_id: await running_pid(run_id) for run_id in detached}
        view = await history(pilot)
        await wait_until(lambda: states(view) == [(str(hidden), "running"), (str(on_screen), "running")], TIMEOUT)
        listed = len(listings)

        # History on screen: its refresh timer sees the process gone (a kill never touches the record).
        os.kill(pids[on_screen], signal.SIGKILL)
        await wait_until(lambda: dict(states(view))[str(on_screen)] == "interrupted", TIMEOUT, step=0.05)
        assert dict(states(view))[str(hidden)] == "running"

        # History hidden: killed meanwhile, shown as interrupted when History is opened again.
        tabs = app.main.query_one(TabbedContent)
        tabs.active = "tab-explain"
        await pilot.pause()
        os.kill(pids[hidden], signal.SIGKILL)
        await wait_until(lambda: not same_process(pids[hidden], open_store().get(hidden).pid_start), TIMEOUT)
        tabs.active = "tab-history"
        await wait_until(lambda: dict(states(view))[str(hidden)] == "interrupted", TIMEOUT, step=0.05)
        assert len(listings) == listed  # two rows changed, the store was not listed again
    assert [open_store().get(run_id).state for run_id in detached] == ["interrupted", "interrupted"]


async def test_history_reads_nothing_while_it_is_not_shown(monkeypatch):
    """Its refresh timer costs nothing while another view is open (not even the store's stamp)."""
    stamps: list[int] = []
    stamp = RunStore.stamp
    monkeypatch.setattr(RunStore, "stamp", lambda self, running=(): stamps.append(1) or stamp(self, running))
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        view = await history(pilot)
        await wait_until(lambda: len(stamps) >= 3, 10)  # on screen: about once a second
        app.main.query_one(TabbedContent).active = "tab-explain"
        await pilot.pause()
        before = len(stamps)
        await pilot.pause(2.5)  # more than two ticks of its timer
        assert len(stamps) == before
        assert view.row_ids == []
