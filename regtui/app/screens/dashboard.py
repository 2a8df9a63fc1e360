"""The dashboard screen: pick a scenario, edit its parameters, run it, watch it.

The screen glues three parts: the :class:`RunController` (start, stop, the worker's messages,
saving, stored runs), the :class:`KeyPolicy` (keys and focus) and the :class:`ViewDeck` (tabs and
drawing); the scenario picker and form are :class:`ScenarioForm`'s. What it shows is held in
reactives (status line, title, replay line, tabs shown): a widget is updated only on a change.
The run's worker feeds a :class:`~regtui.report.Collector` (no message per step); the
:class:`RedrawScheduler` redraws the open view from its snapshot when the view's data changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.events import Resize
from textual.geometry import Size
from textual.reactive import reactive
from textual.widgets import Footer, Label, Static, TabbedContent

from regtui import registry
from regtui import scenario as sc
from regtui.app import layout
from regtui.app.catalog import Entry
from regtui.app.heap import HeapFreezer
from regtui.app.options import Options
from regtui.app.overlay import Overlay
from regtui.app.redraw import RedrawScheduler
from regtui.app.run_state import RunState
from regtui.app.screens import status_lines as lines
from regtui.app.screens.keys import KeyPolicy
from regtui.app.screens.run_actions import RunActions
from regtui.app.screens.run_control import RunController
from regtui.app.screens.scenario_form import ScenarioForm
from regtui.app.screens.view_deck import ViewDeck
from regtui.app.views import Showing, View
from regtui.app.views.base import ViewTabs
from regtui.app.widgets.device_select import DeviceSelect
from regtui.app.widgets.keys_footer import KeysFooter
from regtui.app.widgets.param_form import ParamForm
from regtui.app.widgets.picker import ScenarioPicker
from regtui.app.widgets.picker_select import ScenarioSelect
from regtui.app.widgets.replay_line import ReplayLine
from regtui.app.widgets.status_bar import StatusBar, StatusInfo
from regtui.app.widgets.too_small import TooSmall
from regtui.report import Collector

if TYPE_CHECKING:
    from regtui.app.app import RegtuiApp


class DashboardScreen(KeyPolicy, ScenarioForm, RunActions):
    """The one screen of the dashboard (help and the command palette open above it)."""

    # Focus is placed by on_mount: auto focus would run before the layout classes exist and
    # pick the narrow layout's scenario selector, which the wide layout then hides.
    AUTO_FOCUS = ""

    status_info: reactive[StatusInfo | None] = reactive(None, init=False)
    title_text: reactive[str] = reactive("", init=False)
    replay: reactive[tuple[str, str]] = reactive(("", ""), init=False)  # (label, command)
    tabs_shown: reactive[tuple[str, ...]] = reactive((), init=False)

    def __init__(self, entries: list[Entry], start_index: int, options: Options) -> None:
        super().__init__()
        self.entries = entries
        self.start_index = start_index
        self.options = options

        self.entry_index = -1
        self.texts: dict[str, dict[str, str]] = {}  # entry key -> form texts (kept across picks)
        self.form: ParamForm | None = None
        self.form_key = ""  # the entry key of the mounted form
        self.plan: sc.Plan | None = None
        self.form_error: str | None = None
        self.layout_mode: layout.Mode | None = None  # None until mounted
        self.run_queued = False  # Run was asked for while torch was loading
        self.overlay: Overlay | None = None  # another run drawn over this one (History's compare)

        self.heap = HeapFreezer()  # frozen once started: short pauses of the garbage collector
        self.runs = RunController(options, self.post_message, self.notify)
        self.deck = ViewDeck(lambda: self.query_one(TabbedContent), self._switching)
        self.redraw = RedrawScheduler(
            self,
            self._redraw,
            busy=self.run_active,
            alive=self._alive,
            min_interval=options.min_interval,
            draw_factor=options.draw_factor,
            contended=self.runs.contended,
            status=self.refresh_status,
        )

    @property
    def regtui(self) -> RegtuiApp:
        return cast("RegtuiApp", self.app)

    # The run controller's state, as the views and tests read it.
    @property
    def run_state(self) -> RunState | None:
        return self.runs.state

    @property
    def collector(self) -> Collector | None:
        return self.runs.collector

    @property
    def trainer(self) -> object | None:
        return self.runs.trainer

    @property
    def views(self) -> dict[str, View]:
        return self.deck.views

    @property
    def active_view(self) -> str:
        return self.deck.active

    def run_active(self) -> bool:
        return self.runs.active

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        entry = self.entries[self.start_index]
        with Vertical(id="body"):
            with Horizontal(id="topbar"):
                yield Static("regtui", id="app-title")
                yield ScenarioSelect(self.entries, self.start_index, id="picker-select")
                yield Label("device", id="device-label")
                yield DeviceSelect(self.regtui.device, id="device")
            with Horizontal(id="main"):
                with Vertical(id="sidebar"):
                    yield ScenarioPicker(self.entries, id="picker")
                    yield Static(entry.summary, id="scenario-summary")
                    yield Container(id="sidebar-form-slot")
                with ViewTabs(id="views"):
                    yield from self.deck.views.values()
            yield StatusBar(id="status")
            yield ReplayLine(id="replay")
            yield KeysFooter()
        yield TooSmall(id="too-small")

    def on_mount(self) -> None:
        self._apply_layout(self.size)
        if self.layout_mode == "narrow":
            self.query_one(ScenarioSelect).focus()
        self.select_entry(self.start_index, notify=True)
        bad = [e for i, e in enumerate(self.entries) if e.error and i != self.start_index]
        for e in bad[:3]:
            self.notify(e.error or "", title="scenario file skipped", severity="warning", timeout=8, markup=False)
        if self.regtui.device is not None:
            self.show_devices(self.regtui.device_names, self.regtui.device)
        self.refresh_status()
        self.redraw.start()
        self.runs.prepare()
        # The tabs exist only once TabbedContent has mounted its panes; a view opened meanwhile by a
        # key (typed during startup, a paste over SSH) stays open.
        self.call_after_refresh(self.fit_tabs_at_start)
        self.call_after_refresh(self.offer_running)  # runs going on elsewhere: follow one, or say so

    def on_unmount(self) -> None:
        self.runs.close()
        self.heap.thaw()

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size)

    def _apply_layout(self, size: Size) -> None:
        """Follow the layout the breakpoint classes select (see regtui.app.layout)."""
        mode = layout.mode(size.width, size.height)
        if mode == "small":
            self.query_one(TooSmall).show_size(size.width, size.height)
            self.layout_mode = mode
            return
        changed = mode != self.layout_mode
        self.layout_mode = mode
        if self.query_one(Footer).compact == self.full_footer:
            self._fit_footer()  # the footer's width class changed (it may without the layout changing)
        if changed:
            self.deck.drawn.clear()  # views skipped while too small redraw now
            if 0 <= self.entry_index < len(self.entries):
                self._update_tabs()
                self._mount_form()

    def _fit_footer(self) -> None:
        """Below FULL_FOOTER_MIN columns the footer is compact, the chart keys one entry (check_action), no ^p
        (Help lists it), so that "? Help  q Quit" fit 80 to 119 columns."""
        footer = self.query_one(Footer)
        footer.compact = not self.full_footer
        footer.show_command_palette = self.full_footer
        self.refresh_bindings()

    # --- views -----------------------------------------------------------------------------

    def _experiment(self) -> str | None:
        state = self.run_state
        if state is not None and (
            self.run_active()
            or self.entry.scenario is None
            or state.plan.scenario.experiment == self.entry.scenario.experiment
            or state.stored_id is not None  # a stored or followed run: a tracked one has no entry of its own
        ):
            return state.plan.scenario.experiment
        return self.entry.scenario.experiment if self.entry.scenario else None

    def showing(self) -> Showing:
        state, experiment = self.run_state, self._experiment()
        kind = registry.get(experiment) if experiment else None
        listed = {*kind.views, *(kind.run_views if state is not None else ())} if kind else set()
        plan = state.plan if state else self.plan
        sweep = bool((plan and plan.sweep) or (self.plan and self.plan.sweep))
        data = self.collector.data_kinds() if self.collector is not None else frozenset()
        return Showing(frozenset(listed), data, self.wide, sweep, running=state is not None)

    def visible_views(self) -> list[str]:
        return self.deck.visible(self.showing())

    def _update_tabs(self, open_first: bool = False) -> None:
        showing = self.showing()
        self.tabs_shown = tuple(self.deck.visible(showing))
        experiment = self._experiment()
        # The kind's first view; with no kind (a broken file), the deck opens the last tab: the lesson text.
        self.deck.fit(showing, registry.get(experiment).views[0] if experiment else None, open_first)

    def fit_tabs_at_start(self) -> None:
        self._update_tabs(open_first=not self.deck.stepped)

    def watch_tabs_shown(self) -> None:
        self.refresh_bindings()  # the footer's keys follow the views there are

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # Drawn only if its data changed since it was last drawn: its widgets kept what they showed
        # (a chart its last frame), so switching back costs no replot.
        self._switching()  # a click on a tab (a key went through the deck: already paused)
        self.redraw.now()
        self.refresh_bindings()  # the footer shows the chart keys only where there is a chart

    def _switching(self) -> None:
        """A view is being opened: no garbage-collector pass until it shows its data (see heap.py)."""
        self.heap.pause(self, self._switch_done)

    def _switch_done(self) -> bool:
        name = self.active_view
        return self.view_is_current(name) and (name not in self.views or self.views[name].settled())

    def redraw_now(self) -> None:
        self.redraw.now()

    def _clear_views(self) -> None:
        self.runs.clear()
        self.deck.clear()
        self.refresh_status()

    def _alive(self) -> bool:
        """The app runs and the views are still there (not while it closes). No query: the redraw
        and status timers ask several times a second."""
        view = next(iter(self.deck.views.values()), None)
        return self.app.is_running and view is not None and view.is_attached

    def _run_id(self) -> int:
        return self.run_state.run_id if self.run_state else -1

    def view_is_current(self, name: str) -> bool:
        """Whether the view was drawn from the data the run has now (or draws no run data)."""
        return self.deck.is_current(name, self.collector, self._run_id(), self.overlay)

    def _redraw(self, force: bool = False) -> bool:
        """Redraw the visible view if its data changed; returns whether anything was drawn."""
        if self.runs.poll() is not None:  # a followed run ended
            self._run_over()
        self.refresh_status()
        collector = self.collector
        if collector is None or self.layout_mode == "small" or not self.is_mounted:
            return False
        if collector.data_kinds() != self.deck.fitted_to:
            self._update_tabs()  # whatever the run produced gets a view
        return self.deck.draw_active(collector, self._run_id(), self.overlay, self.options.max_points, force)

    # --- the status line, the title and the replay line (reactives) ------------------------

    def refresh_status(self) -> None:
        missing = self.form.missing if self.form is not None else None
        self.status_info = lines.status_info(self.run_state, self.regtui.device, self.run_queued, self.plan, missing)
        self._show_title(self.run_state)

    def watch_status_info(self, info: StatusInfo | None) -> None:
        if info is not None:
            self.query_one(StatusBar).show(info)

    def _show_title(self, state: RunState | None) -> None:
        """The wide layout's title: the scenario, and while a stored run is shown, that it is one."""
        if self.entry_index >= 0:
            following = state is not None and state.follower is not None and state.active  # ended: a stored run
            what = "following run" if following else "stored run"
            stored = f" · {what} #{state.stored_id} (read-only)" if state is not None and state.stored_id else ""
            shown = state.plan.scenario if state is not None and state.stored_id else None
            self.title_text = f"regtui · {shown.title if shown is not None else self.entry.label}{stored}"

    def watch_title_text(self, title: str) -> None:
        self.query_one("#app-title", Static).update(title)

    def _update_replay(self) -> None:
        """The CLI command of the form as it is now (what r runs), see :func:`lines.replay_line`."""
        self.replay = lines.replay_line(
            self.plan, self.regtui.device, self.run_state, self.run_active(), self.entry.error, self.form_error
        )

    def watch_replay(self, replay: tuple[str, str]) -> None:
        self.query_one(ReplayLine).show(*replay)
