"""A driver for dashboard tests: what a user does on the dashboard and what they see on it.

Tests go through this one seam instead of the screen's attributes, so that reshaping the screen
(its run controller, key policy, view deck) changes this file, not every test.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from textual import events
from textual.widgets import Input, TabbedContent

from regtui.app.widgets.picker import ScenarioPicker
from regtui.app.widgets.picker_select import ScenarioSelect
from regtui.app.widgets.status_bar import StatusBar

from .screen_text import screen_lines

if TYPE_CHECKING:
    from regtui import scenario as sc
    from regtui.app.catalog import Entry
    from regtui.app.run_state import RunState
    from regtui.report import Collector

UNFINISHED = ("running", "stopping")  # the statuses of a run that has not ended yet


async def wait_until(condition, timeout: float = 30.0, step: float = 0.01) -> float:
    """Poll ``condition`` while the app keeps running (training posts events from another thread,
    so Pilot's own waits do not know when a run is done); the seconds it took."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s")
        await asyncio.sleep(step)
    return time.perf_counter() - start


def key(app, name: str, character: str | None = None) -> None:
    """Send a key without Pilot's wait-for-idle (which waits a full second while training
    keeps the process busy)."""
    app.post_message(events.Key(name, character))


class Dashboard:
    """One dashboard under a Pilot: pick, edit, run, stop, open views, read the screen."""

    def __init__(self, pilot) -> None:
        self.pilot = pilot
        self.app = pilot.app

    @classmethod
    def of(cls, app) -> Dashboard:
        """A driver for reading an app from a helper that has no Pilot (it cannot press keys)."""
        reader = cls.__new__(cls)
        reader.pilot, reader.app = None, app
        return reader

    @property
    def screen(self):
        """The dashboard screen, for the few tests about its widgets themselves (query_one)."""
        return self.app.main

    # --- the scenario and its form -------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """The picker's entries (bundled and user files, invalid ones included)."""
        return self.screen.entries

    @property
    def entry(self) -> Entry:
        """The entry picked now."""
        return self.screen.entry

    def index_of(self, name: str) -> int:
        """The picker index of the scenario named ``name`` (its bundled name or file stem)."""
        return next(
            i
            for i, e in enumerate(self.entries)
            if (e.scenario is not None and e.scenario.name == name) or (e.path is not None and e.path.stem == name)
        )

    async def pick(self, name: str) -> None:
        """Pick a scenario in the picker the layout shows, and wait until its form is built."""
        index = self.index_of(name)
        if self.screen.wide:
            picker = self.screen.query_one(ScenarioPicker)
            picker.highlighted = index
            picker.action_select()
        else:
            self.screen.query_one(ScenarioSelect).value = index
        await self.picked(name)

    async def picked(self, name: str, timeout: float = 10.0) -> None:
        """Wait for a pick to reach the form (a select posts, the screen mounts a form, the form posts)."""
        await wait_until(lambda: self.plan is not None and self.plan.scenario.name == name, timeout)

    @property
    def plan(self) -> sc.Plan | None:
        """What r would run now: the form's plan (None while the form has an error)."""
        return self.screen.plan

    @property
    def form(self):
        """The parameter form, for tests about its widgets (hints, error boxes, the Run button)."""
        return self.screen.form

    @property
    def form_error(self) -> str | None:
        """Why the form has no plan (the one-line error the form shows)."""
        return self.screen.form_error

    def field(self, key: str) -> Input:
        """The form's field for parameter ``key``."""
        return self.form.query_one(f"#field-{key}", Input)

    def variant_names(self) -> list[str]:
        """The variants the plan would run, by the names the views and legends show."""
        return list(self.plan.variant_names) if self.plan is not None else []

    async def set_fields(self, **values: str) -> None:
        """Set several fields at once (each posts Input.Changed, as typing does)."""
        for name, text in values.items():
            self.field(name).value = text
        await self.pilot.pause()

    async def type_into(self, name: str, text: str) -> None:
        """Focus a form field, clear it and type ``text`` key by key, like a user."""
        field = self.field(name)
        field.focus()
        await self.pilot.pause()
        field.action_end()
        await self.pilot.press("ctrl+u")
        for char in text:
            await self.pilot.press(char)
        await self.pilot.pause()

    # --- the run -------------------------------------------------------------------------

    @property
    def run(self) -> RunState | None:
        """The current run (its status, plan, cancel event, saved event); None before the first."""
        return self.screen.run_state

    @property
    def collector(self) -> Collector | None:
        """The events the views draw from (the run's, or a stored run's), for tests of its contents."""
        return self.screen.collector

    @property
    def trainer(self) -> object | None:
        """The trainer child process, for the tests that check training left the UI's process."""
        return self.screen.trainer

    def running(self) -> bool:
        """A run is in progress (started and not ended)."""
        return self.screen.run_active()

    def ended(self) -> bool:
        """The current run has ended (done, stopped or failed)."""
        return self.run is not None and self.run.status not in UNFINISHED

    async def start(self) -> RunState:
        """Press r and check that a new run started; that run."""
        before = self.run
        await self.pilot.press("r")
        await self.pilot.pause()
        assert self.run is not None and self.run is not before, "r did not start a run"
        return self.run

    async def wait_for_end(self, timeout: float = 60.0) -> RunState:
        """Wait until the current run has ended; that run."""
        await wait_until(self.ended, timeout)
        return self.run

    async def settled(self, timeout: float = 30.0) -> None:
        """The run that ended is in the run store too (its document is written just after RunEnded)."""
        state = self.run
        await wait_until(lambda: state.saved.is_set(), timeout)
        await self.pilot.pause()

    async def run_to_end(self, timeout: float = 60.0) -> RunState:
        """Press r, wait for the end and for the run to be saved; the run."""
        await self.start()
        await self.wait_for_end(timeout)
        await self.settled()
        return self.run

    async def stop_mid_run(self, min_step: int = 0, **fields: str) -> RunState:
        """Set ``fields``, run, stop once ``min_step`` steps are done, and wait until the stopped run
        is in the run store too; its RunState."""
        await self.set_fields(**fields)
        await self.pilot.press("r")
        await wait_until(lambda: self.step() >= min_step)
        await self.pilot.press("s")
        await self.wait_for_end(30)
        await self.settled()
        return self.run

    def cancel(self) -> None:
        """End the current run without waiting (a test's cleanup: no training outlives its app)."""
        self.screen.cancel_run()

    @property
    def overlay(self) -> object | None:
        """The stored run History's compare draws over the shown one (None when none)."""
        return self.screen.overlay

    def redraw(self) -> None:
        """Draw the shown view now, not at the next scheduled frame (the scheduler skips a loaded
        machine's frames)."""
        self.screen.redraw.now(force=True)

    def step(self) -> int:
        """The steps the current run has done (-1 before its first progress event)."""
        collector = self.collector
        if collector is None or collector.progress is None:
            return -1
        return collector.progress.step

    # --- what the screen shows -----------------------------------------------------------

    @property
    def active_view(self) -> str:
        """The name of the view whose tab is shown."""
        return self.screen.active_view

    def visible_views(self) -> list[str]:
        """The names of the views whose tabs show, in tab order."""
        return self.screen.visible_views()

    def view(self, name: str):
        """The view (tab pane) ``name``, for tests of its widgets."""
        return self.screen.views[name]

    def show_view(self, name: str) -> None:
        """Show view ``name``'s tab, as a click on the tab does."""
        self.screen.query_one(TabbedContent).active = f"tab-{name}"

    async def open_view(self, name: str, presses: int = 20) -> None:
        """Open a view as a user does: press tab until its tab is shown."""
        for _ in range(presses):
            if self.active_view == name:
                return
            await self.pilot.press("tab")
        assert self.active_view == name, f"tab never reached {name}"

    async def open_stored(self, run_id: int) -> None:
        """Open a stored (or running) run from the History view, as Enter on its row does."""
        from regtui.app.views.history import HistoryTab

        self.show_view("history")
        await self.pilot.pause()
        assert self.screen.query_one(HistoryTab).open_run(run_id)

    def lines(self) -> list[str]:
        """The whole screen as drawn, one string a row (what a user sees, cut where it is cut)."""
        return screen_lines(self.app)

    def text(self) -> str:
        """The whole screen as drawn."""
        return "\n".join(self.lines())

    def view_text(self, name: str) -> str:
        """The rows of the screen inside view ``name``'s region (open it first)."""
        region = self.view(name).region
        rows = self.lines()[region.y : region.bottom]
        return "\n".join(row[region.x : region.right] for row in rows)

    def status_text(self) -> str:
        """The status line as drawn."""
        return str(self.screen.query_one(StatusBar).render())

    def notices(self) -> list[str]:
        """The messages of the notifications the app has shown (``RegtuiApp.notices``; under ``run_test``
        Textual draws no toasts): what a user is told of an error that does not stop the app."""
        return list(self.app.notices)

    @property
    def layout(self) -> str | None:
        """The screen's layout, "wide" (a sidebar) or "narrow" (the form in the Params tab)."""
        return self.screen.layout_mode

    @property
    def run_queued(self) -> bool:
        """r was pressed while torch was loading: the run starts once it has loaded."""
        return self.screen.run_queued

    def status_word(self) -> str:
        """The status line's status: running, done, stopped, failed, loading torch…, not ready…"""
        info = self.screen.status_info
        return info.status if info is not None else ""
