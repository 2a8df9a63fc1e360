"""What the dashboard screen does with runs (it inherits this): r starts one, s stops it, History
opens a stored one or follows a running one, and the end of a run updates the screen.

The :class:`RunController` (``self.runs``) holds the run; this part is its screen side: checks
and questions before a run starts or stops, and what the tabs, the form, the status and replay
lines and the footer show when a run starts, ends or is opened.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from textual import on
from textual.screen import Screen

from regtui import memory, registry
from regtui import scenario as sc
from regtui.app import quit_choice
from regtui.app.catalog import Entry
from regtui.app.messages import RunEnded, RunSaved
from regtui.app.options import Options
from regtui.app.overlay import Overlay
from regtui.app.redraw import RedrawScheduler
from regtui.app.run_state import RunState
from regtui.app.screens.run_control import RunController
from regtui.app.screens.view_deck import ViewDeck
from regtui.app.views import View
from regtui.app.widgets.confirm import Confirm
from regtui.app.widgets.param_form import ParamForm, plan_texts
from regtui.app.widgets.quit_question import QuitQuestion
from regtui.report import Collector
from regtui.specs import ConfigError
from regtui.store.saving import store_id
from regtui.tracking import rerun

if TYPE_CHECKING:
    from regtui.app.app import RegtuiApp


class RunActions(Screen[None]):
    """Starting, stopping, opening and following runs, on the screen."""

    runs: RunController
    deck: ViewDeck
    redraw: RedrawScheduler
    entries: list[Entry]
    form: ParamForm | None
    plan: sc.Plan | None
    form_error: str | None
    options: Options
    run_queued: bool
    overlay: Overlay | None
    entry_index: int
    texts: dict[str, dict[str, str]]  # each scenario's form texts, kept while another is shown

    if TYPE_CHECKING:  # the screen's

        @property
        def regtui(self) -> RegtuiApp: ...
        @property
        def entry(self) -> Entry: ...
        @property
        def active_view(self) -> str: ...
        @property
        def run_state(self) -> RunState | None: ...
        def run_active(self) -> bool: ...
        def refresh_status(self) -> None: ...
        def select_entry(self, index: int, notify: bool = False) -> None: ...
        def add_entry(self, entry: Entry) -> int: ...
        def _clear_views(self) -> None: ...
        def _update_tabs(self, open_first: bool = False) -> None: ...
        def _update_replay(self) -> None: ...

    def _plan_is_stale(self) -> bool:
        """A scenario was just picked and its form has not sent its plan yet (keys typed in a burst)."""
        scenario = self.entry.scenario
        if scenario is None or self.form is None:
            return False
        if self.plan is None:
            return self.form_error is None
        return (self.plan.scenario.name, self.plan.scenario.path) != (scenario.name, scenario.path)

    def action_run(self) -> bool:
        """Start a run with the form's plan; returns whether it started (or was queued)."""
        if self._plan_is_stale():  # never run the scenario picked before the one on screen
            return self._queue_run()
        if self.form is not None and not self.run_active():
            if self.form.missing is not None:  # installed since? Look again (a fresh look at the folders)
                importlib.invalidate_caches()
                self.form.validate()
            self.plan, self.form_error = self.form.sync()  # what the fields show, even mid-burst
        if self.plan is None:
            self.notify(
                self.form_error or "choose a scenario first", title="cannot run", severity="error", markup=False
            )
            self.refresh_status()
            return False
        if self.run_active():  # never throw a run's progress away on a stray key
            self.notify("a run is going: s to stop it first", title="not restarted", severity="warning", timeout=4)
            return False
        if self.plan.scenario.experiment == registry.TRACK:  # the stored run stays on screen
            self.notify(rerun.refusal(self.plan.scenario), title="cannot run", severity="error", markup=False)
            return False
        try:  # as headless: a plan that cannot fit in memory is refused with its estimate
            memory.check(self.plan)
        except ConfigError as exc:
            message = str(exc).replace("pass --no-memory-check", "use the CLI's --no-memory-check")
            self.notify(message, title="cannot run", severity="error", timeout=10, markup=False)
            return False
        if self.regtui.device is None:  # torch is still loading: run as soon as it is ready
            self.notify("torch is loading; the run starts as soon as it is ready", title="run queued", timeout=4)
            return self._queue_run()
        self.run_queued = False
        self.overlay = None  # History's comparison ends with the next run
        self.deck.clear()
        self.runs.start(self.plan, self.regtui.run_device())
        self._show_run()
        if self.form is not None:
            self.form.set_running(True)
        return True

    def _queue_run(self) -> bool:
        self.run_queued = True
        self.refresh_status()
        return True

    def _show_run(self) -> None:
        """A run became the shown one (started here, or opened from History)."""
        self._update_tabs(open_first=True)
        self._update_replay()
        self.refresh_status()
        self.refresh_bindings()

    @on(RunEnded)
    def _run_ended(self, event: RunEnded) -> None:
        if not self.query(View) or self.runs.ended(event) is None:
            return  # the app is closing, or an old run's message
        self._run_over()

    def _run_over(self) -> None:
        """The shown run ended (here, or the followed one elsewhere)."""
        state = self.run_state
        if state is not None and state.status == "failed":
            self.notify(state.error or "the run failed", title="run failed", severity="error", timeout=10, markup=False)
        if self.form is not None:
            self.form.set_running(False)
        self.refresh_bindings()
        self._update_replay()
        self._update_tabs()
        self.redraw.now(force=True)

    @on(RunSaved)
    def _run_saved(self, event: RunSaved) -> None:
        """The ended run's document is in the store: a History on screen lists it."""
        if self.active_view == "history" and self.query(View):
            self.deck.drawn.pop("history", None)
            self.redraw.now(force=True)

    def open_stored(
        self, plan: sc.Plan, collector: Collector, status: str, elapsed_s: float | None, device: str
    ) -> bool:
        """Show a stored run (the History view's) in every view, read-only, as if it had just run. A run
        only followed here is left to go on (this dashboard stops following it)."""
        if self.run_active() and not self.runs.following:
            self.notify("a run is going on: stop it (s) first", title="cannot open the run", severity="error")
            return False
        self.runs.unfollow()
        self._show_scenario_of(plan)
        self._clear_views()
        self.runs.show_stored(plan, collector, status, elapsed_s, device)
        self._show_run()
        self.redraw.now(force=True)
        return True

    def follow(self, plan: sc.Plan, follower: Any, device: str) -> bool:
        """Follow a run of another process live (History's running run), read-only, as if it ran here."""
        if self.run_active() and not self.runs.following:
            self.notify("a run is going on: stop it (s) first", title="cannot follow the run", severity="error")
            return False
        self.runs.unfollow()
        self._show_scenario_of(plan)
        self._clear_views()
        self.runs.follow(follower, plan, device)
        if self.form is not None:
            self.form.set_running(True)  # read-only while it runs
        self._show_run()
        self.redraw.now(force=True)
        return True

    def _show_scenario_of(self, plan: sc.Plan) -> None:
        """Pick the scenario a stored or followed run ran, so the header, picker and form say it; the
        form shows the run's parameters (r runs it anew with them)."""
        entry = Entry(plan.scenario.path, plan.scenario)
        index = next((i for i, e in enumerate(self.entries) if e.scenario is not None and e.key == entry.key), None)
        if index is None:  # a file not in the list (run from elsewhere, or a tracked run): listed now
            index = self.add_entry(entry)
        texts = plan_texts(plan)
        self.texts[self.entries[index].key] = texts  # also what a form mounted later shows (the layout's first fit)
        if index != self.entry_index:
            self.select_entry(index)
        elif self.form is not None:
            self.form.reset(texts)

    def cancel_run(self) -> None:
        self.runs.cancel()

    def quit_app(self) -> None:
        """q: quit; during a run of this dashboard, first ask whether to stop it or keep it running."""
        if isinstance(self.app.screen, QuitQuestion):
            return
        if not self.runs.keeps_going():
            self.runs.cancel()
            self.app.exit()
            return
        state = self.runs.state
        run_id = store_id(state.collector) if state is not None else None  # known once its first event is saved
        name = f"Run #{run_id}" if run_id is not None else "The run"

        def answered(choice: str | None) -> None:
            if choice is None or not self.runs.active:
                if choice is not None:  # it ended while the question was shown: nothing to keep
                    self.app.exit()
                return
            quit_choice.remember(self.options.runs_dir, choice)
            if choice == "keep":
                self.runs.leave()
                kept = store_id(state.collector) if state is not None else None  # it may have got its id since
                if kept is not None:  # said in the shell once the dashboard is gone
                    self.regtui.farewell = (
                        f"regtui: run {kept} goes on in the background; "
                        f"regtui runs follow {kept} · regtui attach {kept} · regtui runs stop {kept}"
                    )
            else:
                self.runs.cancel()
            self.app.exit()

        self.app.push_screen(QuitQuestion(name, quit_choice.last(self.options.runs_dir)), answered)

    def action_stop(self) -> None:
        if self.run_queued:
            self.run_queued = False
            self.refresh_status()
        if self.runs.following:
            self._ask_to_stop_followed()
        elif self.runs.stop():
            self.refresh_status()

    def _ask_to_stop_followed(self) -> None:
        """s on a followed run: it is another process's, so ask first; then signal it (regtui runs stop)."""
        from regtui.store import open_store
        from regtui.store.control import stop

        state = self.run_state
        run_id = state.stored_id if state is not None else None

        def answered(yes: bool | None) -> None:
            if not yes or state is None or state is not self.run_state or not state.active:
                return
            try:
                stop(open_store(self.options.runs_dir), run_id or 0)
            except ConfigError as exc:
                self.notify(str(exc), title=f"run {run_id} not stopped", severity="error", timeout=8, markup=False)
                return
            state.status = "stopping"
            self.refresh_status()

        question = f"Stop run {run_id}?\nIt stops at its next step and is saved."
        self.app.push_screen(Confirm(question, yes="Stop"), answered)

    # --- runs going on elsewhere -----------------------------------------------------------

    def offer_running(self) -> None:
        """As the dashboard opens: follow the run ``regtui attach`` named, or say which runs are going."""
        from regtui.store import open_store
        from regtui.store.record import RUNNING

        if self.options.follow is not None:
            self.follow_id(self.options.follow)
            return
        try:
            running = [r for r in open_store(self.options.runs_dir).listing().runs if r.state == RUNNING]
        except (ConfigError, OSError, ValueError):
            return  # History says what is wrong with the store
        if running:
            newest = running[-1]
            going = f"{len(running)} runs are" if len(running) > 1 else "a run is"
            self.notify(
                f"{going} going: run {newest.id} ({newest.scenario}) is the newest; a follows it live",
                title="runs going on",
                timeout=12,
            )

    def action_attach(self) -> None:
        """a: follow the newest running run (one started with --detach, or in another terminal)."""
        from regtui.store import open_store
        from regtui.store.follow import newest_running

        try:
            newest = newest_running(open_store(self.options.runs_dir))
        except (ConfigError, OSError, ValueError) as exc:
            self.notify(str(exc), title="nothing to follow", severity="warning", timeout=6, markup=False)
            return
        self.follow_id(newest.id)

    def follow_id(self, run_id: int) -> bool:
        """Follow a running run of the store (History does the reading and says what went wrong)."""
        history = self.deck.views.get("history")
        follow_run = getattr(history, "follow_run", None)
        return bool(follow_run is not None and follow_run(run_id))
