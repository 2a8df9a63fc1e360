"""The dashboard screen: pick a scenario, edit its parameters, run it, watch it.

It owns the layout, the keys that act on it, the form, the run lifecycle and
the views. Data path: a thread worker runs ``run_plan(plan, device,
emit=collector, cancel=event, threads=...)``; the :class:`~regtui.report.Collector`
is the buffer (no message per step); the :class:`RedrawScheduler` redraws the
visible view from a collector snapshot when the data it draws changed. At the
end the worker posts one small message. Views are alike to this screen: it
loops over them (see :mod:`regtui.app.views.base`), never names one.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical
from textual.events import Resize
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, OptionList, Select, Static, TabbedContent, Tabs

from regtui import memory, registry
from regtui import scenario as sc
from regtui.app import layout
from regtui.app.catalog import Entry
from regtui.app.messages import FormChanged, RunEnded, RunSaved
from regtui.app.options import Options
from regtui.app.overlay import Overlay
from regtui.app.redraw import RedrawScheduler
from regtui.app.run_state import RunState
from regtui.app.trainer_process import make_trainer, own_core
from regtui.app.views import VIEW_TYPES, Showing, View
from regtui.app.views.base import ViewTabs
from regtui.app.views.params import ParamsTab
from regtui.app.widgets.chart import LiveChart
from regtui.app.widgets.device_select import DeviceSelect
from regtui.app.widgets.keys_footer import KeysFooter
from regtui.app.widgets.param_form import ParamForm, default_texts
from regtui.app.widgets.picker import ScenarioPicker
from regtui.app.widgets.picker_select import ScenarioSelect
from regtui.app.widgets.replay_line import ReplayLine
from regtui.app.widgets.status_bar import StatusBar, StatusInfo
from regtui.app.widgets.too_small import TooSmall
from regtui.report import Collector
from regtui.specs import ConfigError
from regtui.store.saving import RunSaver, store_id

SAVE_WAIT_S = 2.0  # quitting just after a run ended waits this long at most for its document

if TYPE_CHECKING:
    from regtui.app.app import RegtuiApp


CHART_KEYS = [
    Binding("m", "chart('cycle_group')", "Metrics", priority=True),
    Binding("v", "chart('cycle_variant')", "Variant", priority=True),
    Binding("h", "chart('toggle_hidden')", "Hide/show", priority=True),
    Binding("t", "chart('cycle_split')", "Train/test", priority=True),
]
SERIES = Binding.Group("Series")  # the chart keys' one footer entry in the narrow layout: "m v h t Series"
CHART_KEYS_NARROW = [
    Binding(b.key, b.action.replace("')", "', 'narrow')"), b.description, priority=True, group=SERIES)
    for b in CHART_KEYS
]


class DashboardScreen(Screen[None]):
    """The one screen of the dashboard (help and the command palette open above it)."""

    # Focus is placed by on_mount: auto focus would run before the layout classes exist and
    # pick the narrow layout's scenario selector, which the wide layout then hides.
    AUTO_FOCUS = ""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority bindings act as the key arrives, before the next key of a burst (a paste, SSH)
        # is handed to the focused widget; check_action passes them on while a field is typed in.
        Binding("r", "run", "Run", priority=True),
        Binding("s", "stop", "Stop", priority=True),
        Binding("tab", "next_view", "Next view", priority=True),
        Binding("shift+tab", "prev_view", "Prev view", show=False, priority=True),
        Binding("slash", "focus_picker", "Scenarios", key_display="/", priority=True),
        Binding("p", "focus_form", "Params", show=False, priority=True),
        Binding("d", "focus_device", "Device", show=False, priority=True),
        Binding("ctrl+r", "reset_params", "Reset params", show=False),
        Binding("escape", "leave_field", "Leave field", show=False, priority=True),
        Binding("enter", "submit_field", "Run", show=False, priority=True),
        Binding("down", "enter_view", "Into the view", show=False),  # from the tab row
        # The chart keys act on the visible view's chart wherever the focus is (not in a field).
        # Priority: the footer lists these, not the focused chart's own bindings of the keys.
        *CHART_KEYS,
        # The narrow layout's footer: the same keys, one entry (check_action shows one set).
        *CHART_KEYS_NARROW,
    ]
    TYPING_KEYS: ClassVar[frozenset[str]] = frozenset(
        {"run", "stop", "focus_picker", "focus_form", "focus_device"}
    )  # letters a field takes
    PRIORITY_KEYS: ClassVar[dict[str, str]] = {
        "run": "r",
        "stop": "s",
        "focus_picker": "slash",
        "focus_form": "p",
        "focus_device": "d",
        "leave_field": "escape",
    }  # a focused widget's own binding of the key (a view's d) wins

    def __init__(self, entries: list[Entry], start_index: int, options: Options) -> None:
        super().__init__()
        self.entries = entries
        self.start_index = start_index
        self.options = options

        self.entry_index = -1
        self.texts: dict[str, dict[str, str]] = {}  # entry key -> form texts (kept across picks)
        self.form: ParamForm | None = None
        self._form_key = ""  # the entry key of the mounted form
        self.plan: sc.Plan | None = None
        self.form_error: str | None = None
        self.layout_mode: layout.Mode | None = None  # None until mounted

        self.views: dict[str, View] = {}  # name -> view, in tab order
        self.run_queued = False  # Run was asked for while torch was loading
        self.run_state: RunState | None = None
        self._next_run_id = 0
        self._drawn: dict[str, tuple[int, int, int]] = {}  # view -> its data key when drawn (_data_key)
        self._tab_data: frozenset[str] | None = None  # the data kinds the tabs were last fitted to
        self.overlay: Overlay | None = None  # another run drawn over this one (History's compare)
        self._title = ""  # the wide layout's title shown
        # Training in a child process (its own GIL and core) unless a runner was given.
        self.trainer = make_trainer() if options.runner is None else None
        self.redraw = RedrawScheduler(
            self,
            self._redraw,
            busy=self.run_active,
            alive=self._alive,
            min_interval=options.min_interval,
            draw_factor=options.draw_factor,
            contended=lambda: self.trainer is None or not own_core(),
            status=self._status,
        )

    @property
    def regtui(self) -> RegtuiApp:
        return cast("RegtuiApp", self.app)

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
                    for name in registry.VIEWS:
                        view = VIEW_TYPES[name](name)
                        self.views[name] = view
                        yield view
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
        self._status()
        self.redraw.start()
        if self.trainer is not None:
            self.trainer.prepare()  # a warm child: it imports torch while the user reads
        # The tabs exist only once TabbedContent has mounted its panes.
        self.call_after_refresh(self._update_tabs, True)

    def on_unmount(self) -> None:
        state = self.run_state
        if state is not None and state.trained.is_set():
            state.saved.wait(SAVE_WAIT_S)  # a run that just ended is written before the app goes
        if self.trainer is not None:
            self.trainer.close()

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
        if changed:
            self._fit_footer()
            self._drawn.clear()  # views skipped while too small redraw now
            if 0 <= self.entry_index < len(self.entries):
                self._update_tabs()
                self._mount_form()

    def _fit_footer(self) -> None:
        """The narrow layout's footer: compact, the chart keys as one entry (check_action), no ^p
        (Help lists it), so that "? Help  q Quit" fit 80 columns."""
        footer = self.query_one(Footer)
        footer.compact = not self.wide
        footer.show_command_palette = self.wide
        self.refresh_bindings()

    @property
    def wide(self) -> bool:
        return self.layout_mode == "wide"

    # --- scenarios and the form -------------------------------------------------------------

    @property
    def entry(self) -> Entry:
        return self.entries[self.entry_index]

    def select_entry(self, index: int, notify: bool = False) -> None:
        if index == self.entry_index:
            return
        if self.form is not None:
            self.texts[self._form_key] = dict(self.form.texts)
        self.entry_index = index
        entry = self.entry
        picker = self.query_one(ScenarioPicker)
        if picker.highlighted != index:
            picker.highlighted = index
        select = self.query_one(ScenarioSelect)
        if select.value != index:
            select.value = index
        self._show_summary(entry)
        self._show_title(None)
        for view in self.views.values():
            view.show_entry(entry)
        if entry.error and notify:
            self.notify(entry.error, title="scenario file", severity="error", timeout=10, markup=False)
        if not self.run_active():
            self._clear_views()
        self._mount_form()
        self._update_tabs(open_first=True)

    def _show_summary(self, entry: Entry) -> None:
        box = self.query_one("#scenario-summary", Static)
        box.update(entry.summary)
        box.set_class(entry.error is not None, "error")

    def _form_slot(self) -> Container:
        if self.wide:
            return self.query_one("#sidebar-form-slot", Container)
        return self.query_one(ParamsTab).slot

    def _mount_form(self) -> None:
        if self.layout_mode in (None, "small") and self.form is not None:
            return
        slot = self._form_slot()
        old = self.form
        if old is not None:
            self.texts[self._form_key] = dict(old.texts)
            old.remove()
        for stale in self.query(".form-error-note"):
            stale.remove()
        entry = self.entry
        if entry.scenario is None:
            self.form = None
            self.plan, self.form_error = None, entry.error
            slot.mount(
                Static(
                    "⚠ This file does not load (the message above says why); Run is off. "
                    "Fix the file and restart, or pick another scenario.",
                    classes="form-error-note",
                )
            )
            self._update_replay()
            return
        texts = self.texts.get(entry.key) or default_texts(entry.scenario, self.options.seed)
        form = ParamForm(entry.scenario, texts)
        self.form, self._form_key = form, entry.key
        slot.mount(form)
        form.set_running(self.run_active())

    @on(FormChanged)
    def _form_changed(self, event: FormChanged) -> None:
        if event.form is not self.form:  # a form being replaced
            return
        self.plan, self.form_error = event.plan, event.error
        self._update_tabs()
        self._update_replay()
        self._status()
        if self.run_queued and self.regtui.device is not None:
            self.action_run()  # Run came while this scenario's form was being built

    @on(OptionList.OptionHighlighted, "#picker")
    def _picker_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_summary(self.entries[int(event.option.id or 0)])

    @on(OptionList.OptionSelected, "#picker")
    def _picker_selected(self, event: OptionList.OptionSelected) -> None:
        self.select_entry(int(event.option.id or 0), notify=True)

    @on(Select.Changed, "#picker-select")
    def _select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and event.value != self.entry_index:
            self.select_entry(event.value, notify=True)

    @on(Select.Changed, "#device")
    def _device_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value:
            self.regtui.device = event.value
            self._update_replay()
            self._status()

    def show_devices(self, names: list[str], chosen: str) -> None:
        """The App found the devices (or was given them)."""
        if self.entry_index < 0:
            return  # not mounted yet: on_mount shows them
        self.query_one(DeviceSelect).set_devices(names, chosen)
        self._update_replay()
        self._status()
        if self.run_queued:
            self.action_run()

    def _in_field(self) -> bool:
        focused = self.focused
        return isinstance(focused, Input) and (focused.id or "").startswith("field-")

    def action_submit_field(self) -> None:
        """Enter in a field: run, and leave the field for the views so that one-letter keys act.
        Enter on the views' tab row: into the view (its table, its text)."""
        if self._on_view_tabs():
            self.action_enter_view()
            return
        focused = self.focused
        if isinstance(focused, Input):
            # Enter is a screen binding, handled at once; keys typed just before it (a burst) may
            # still wait in the field's own queue. Leave the field now (a key after Enter is not
            # typed into it) and run after those keys, with what the field then shows.
            self._focus_views()
            focused.call_later(self._submit_from, focused)
        elif self.action_run() or self.plan is not None:
            self._focus_views()

    def _submit_from(self, field: Input) -> None:
        if self.action_run() or self.plan is not None:
            self._focus_views()  # again: starting a run can move the focus (the trial saw it land in a field)
        else:
            self.set_focus(field)  # a bad value: back to the field that holds it

    @on(Button.Pressed, "#run-button")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#stop-button")
    def _stop_pressed(self) -> None:
        self.action_stop()

    @on(Button.Pressed, "#reset-button")
    def _reset_pressed(self) -> None:
        self.action_reset_params()

    def _focus_first_field(self) -> None:
        if self.form is not None:
            fields = self.form.query(Input)
            if fields:
                self.set_focus(fields.first())  # at once: Widget.focus() would wait behind queued keys

    def _on_view_tabs(self) -> bool:
        """The focus is on the views' tab row."""
        focused = self.focused
        return isinstance(focused, Tabs) and focused.parent is self.query_one(TabbedContent)

    def action_enter_view(self) -> None:
        """Down or Enter on the tab row: focus the shown view's content (its first table)."""
        view = self.views.get(self.active_view)
        if view is not None:
            view.focus_content()

    def _focus_views(self) -> None:
        """Focus the visible view's content (or its tab row), at once."""
        view = self.views.get(self.active_view)
        target = next((w for w in view.walk_children(Widget) if w.focusable), None) if view else None
        self.set_focus(target or self.query_one(TabbedContent).query_one(Tabs))

    # --- views -----------------------------------------------------------------------------

    def _experiment(self) -> str | None:
        state = self.run_state
        if state is not None and (
            self.run_active()
            or self.entry.scenario is None
            or state.plan.scenario.experiment == self.entry.scenario.experiment
        ):
            return state.plan.scenario.experiment
        return self.entry.scenario.experiment if self.entry.scenario else None

    def _showing(self) -> Showing:
        listed: set[str] = set()
        experiment = self._experiment()
        if experiment:
            kind = registry.get(experiment)
            listed.update(kind.views)
            if self.run_state is not None:
                listed.update(kind.run_views)
        plan = self.run_state.plan if self.run_state else self.plan
        collector = self.collector
        return Showing(
            listed=frozenset(listed),
            data=collector.data_kinds() if collector is not None else frozenset(),
            wide=self.wide,
            sweep=bool((plan and plan.sweep) or (self.plan and self.plan.sweep)),
            running=self.run_state is not None,
        )

    def visible_views(self) -> list[str]:
        showing = self._showing()
        return [name for name, view in self.views.items() if view.shown(showing)]

    def _update_tabs(self, open_first: bool = False) -> None:
        tabs = self.query_one(TabbedContent)
        showing = self._showing()
        visible = [name for name, view in self.views.items() if view.shown(showing)]
        self._tab_data = showing.data
        for name in self.views:
            if name in visible:
                tabs.show_tab(f"tab-{name}")
            else:
                tabs.hide_tab(f"tab-{name}")
        if not visible:
            return
        if open_first or self.active_view not in visible:
            experiment = self._experiment()
            # The kind's first view; with no kind (a broken file), the last tab: the lesson text.
            first = registry.get(experiment).views[0] if experiment else visible[-1]
            if open_first:
                first = next((name for name in visible if self.views[name].leads(showing)), first)
            if first in visible:
                tabs.active = f"tab-{first}"

    @property
    def active_view(self) -> str:
        return (self.query_one(TabbedContent).active or "").removeprefix("tab-")

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # Drawn only if its data changed since it was last drawn: its widgets kept what they showed
        # (a chart its last frame), so switching back costs no replot.
        self.redraw.now()

    @on(TabbedContent.TabActivated)
    def _chart_keys_follow_the_view(self) -> None:
        self.refresh_bindings()  # the footer shows the chart keys only where there is a chart

    def _visible_chart(self) -> LiveChart | None:
        view = self.views.get(self.active_view)
        return view.chart() if view is not None else None

    def _chart_for(self, action: str) -> LiveChart | None:
        """The visible view's chart if it has ``action`` (Fit, Layers and Sweep charts have no m)."""
        chart = self._visible_chart()
        return chart if chart is not None and callable(getattr(chart, f"action_{action}", None)) else None

    def action_chart(self, action: str, layout: str = "wide") -> None:
        """A chart key (m, v, h, t): the visible view's chart acts on it, focused or not."""
        chart = self._chart_for(action)
        if chart is not None and chart.check_action(action, ()):
            getattr(chart, f"action_{action}")()

    def _clear_views(self) -> None:
        self.run_state = None
        self._drawn.clear()
        for view in self.views.values():
            view.clear()
        self._status()

    @property
    def collector(self) -> Collector | None:
        return self.run_state.collector if self.run_state else None

    def _alive(self) -> bool:
        """The app runs and the views are still there (not while it closes). No query: the redraw
        and status timers ask several times a second."""
        view = next(iter(self.views.values()), None)
        return self.app.is_running and view is not None and view.is_attached

    def _data_key(self, name: str) -> tuple[int, int, int] | None:
        """What a view's drawing depends on now: the run, the collector's version of the view's
        kinds and the run compared with it (History's overlay)."""
        view, collector = self.views.get(name), self.collector
        if view is None or not view.kinds or collector is None:
            return None
        run_id = self.run_state.run_id if self.run_state else -1
        return (run_id, collector.version(*view.kinds), id(self.overlay) if self.overlay else 0)

    def view_is_current(self, name: str) -> bool:
        """Whether the view was drawn from the data the run has now (or draws no run data)."""
        key = self._data_key(name)
        return key is None or self._drawn.get(name) == key

    def _redraw(self, force: bool = False) -> bool:
        """Redraw the visible view if its data changed; returns whether anything was drawn."""
        self._status()
        collector = self.collector
        if collector is None or self.layout_mode == "small":
            return False
        if collector.data_kinds() != self._tab_data:
            self._update_tabs()  # whatever the run produced gets a view
        view = self.views.get(self.active_view)
        key = self._data_key(self.active_view)
        if view is None or key is None or not self.is_mounted:
            return False
        if self._drawn.get(self.active_view) == key and not force:
            return False
        self._drawn[self.active_view] = key
        snapshot = collector.snapshot(view.points or self.options.max_points)
        view.draw(self.overlay(self.active_view, collector, snapshot) if self.overlay else snapshot)
        return True

    def _status(self) -> None:
        state = self.run_state
        if state is not None:
            info = state.status_info()
        elif self.regtui.device is None:  # never "ready" while it is not
            info = StatusInfo(
                device="finding devices",
                status="run queued" if self.run_queued else "loading torch…",
                hint="it starts once torch is loaded" if self.run_queued else "r runs once it is loaded",
            )
        elif self.plan is not None:
            info = StatusInfo(device=self.regtui.device, hint="r runs")
        elif self.form is not None and self.form.missing is not None:  # the form is fine; a package is not there
            missing = self.form.missing
            info = StatusInfo(device=self.regtui.device, status=f"needs {missing.package}", hint=missing.install)
        else:
            info = StatusInfo(device=self.regtui.device, status="not ready", hint="fix the form to run")
        self.query_one(StatusBar).show(info)
        self._show_title(state)

    def _show_title(self, state: RunState | None) -> None:
        """The wide layout's title: the scenario, and while a stored run is shown, that it is one."""
        if self.entry_index < 0:
            return
        stored = f" · stored run #{state.stored_id} (read-only)" if state is not None and state.stored_id else ""
        title = f"regtui · {self.entry.label}{stored}"
        if title != self._title:
            self._title = title
            self.query_one("#app-title", Static).update(title)

    def _update_replay(self) -> None:
        """The CLI command of the form as it is now (what r runs): "replay:" or "running:" while it
        is also the shown run's own command, "cli:" once the form was edited away from it."""
        line = self.query_one(ReplayLine)
        state = self.run_state
        form = sc.replay_command(self.plan, self.regtui.device) if self.plan is not None else None
        if form is not None and state is not None and form == sc.replay_command(state.plan, state.device):
            line.show("running:" if self.run_active() else "replay:", form)
        elif form is not None:
            line.show("cli:", form)
        elif self.entry.error:
            line.show("cli:", "(none: the scenario file does not load)")
        else:
            line.show("cli:", f"(fix the form first) {self.form_error or ''}")

    # --- running ---------------------------------------------------------------------------

    def run_active(self) -> bool:
        return self.run_state is not None and self.run_state.active

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
            self.run_queued = True
            self._status()
            return True
        if self.form is not None and not self.run_active():
            if self.form.missing is not None:  # installed since? Look again (a fresh look at the folders)
                importlib.invalidate_caches()
                self.form.validate()
            self.plan, self.form_error = self.form.sync()  # what the fields show, even mid-burst
        if self.plan is None:
            self.notify(
                self.form_error or "choose a scenario first", title="cannot run", severity="error", markup=False
            )
            self._status()
            return False
        if self.run_active():  # never throw a run's progress away on a stray key
            self.notify("a run is going: s to stop it first", title="not restarted", severity="warning", timeout=4)
            return False
        try:  # as headless: a plan that cannot fit in memory is refused with its estimate
            memory.check(self.plan)
        except ConfigError as exc:
            self.notify(
                str(exc).replace("pass --no-memory-check", "use the CLI's --no-memory-check"),
                title="cannot run",
                severity="error",
                timeout=10,
                markup=False,
            )
            return False
        if self.regtui.device is None:  # torch is still loading: run as soon as it is ready
            self.run_queued = True
            self.notify("torch is loading; the run starts as soon as it is ready", title="run queued", timeout=4)
            self._status()
            return True
        self.run_queued = False
        self.cancel_run()
        self._next_run_id += 1
        state = RunState(self._next_run_id, self.plan, self.regtui.run_device(), Collector())
        self._clear_views()
        self.run_state = state
        if self.form is not None:
            self.form.set_running(True)
        self._update_tabs(open_first=True)
        self._update_replay()
        self._status()
        self.refresh_bindings()
        self._run_in_thread(state)
        return True

    def _run_in_thread(self, state: RunState) -> None:
        # A daemon thread, not a Textual worker: asyncio joins its default executor's threads on
        # exit, so quitting would wait for the step under way; the cancel flag stops the run.
        threading.Thread(target=self._run_body, args=(state,), name=f"regtui-run-{state.run_id}", daemon=True).start()

    def _run_body(self, state: RunState) -> None:
        saver = RunSaver(
            state.plan,
            state.device,
            save=self.options.save,  # the run history
            runs_dir=self.options.runs_dir,
        )
        error: str | None = None
        try:
            runner = self.options.runner or (self.trainer.run if self.trainer is not None else None)
            if runner is None:
                from regtui.engine import run_plan

                runner = run_plan
            finished = runner(
                state.plan,
                state.device,
                emit=saver.sink(state.collector),
                cancel=state.cancel,
                threads=self.options.threads,
            )
            ended = RunEnded(state.run_id, finished.status, finished.error, finished.elapsed_s)
        except BaseException as exc:  # a failure is a message, never a dead app
            error = f"{type(exc).__name__}: {exc}"
            ended = RunEnded(state.run_id, "failed", error)
        # The run is over for the user now; writing its document (tens of ms) comes after, so
        # neither the status line nor the next run waits for the disk. History relists at RunSaved.
        state.trained.set()
        self.post_message(ended)
        try:
            saver.end(state.collector, error=error)
        finally:
            state.saved.set()
            self.post_message(RunSaved(state.run_id))
        saver.report(self.notify)

    @on(RunEnded)
    def _run_ended(self, event: RunEnded) -> None:
        state = self.run_state
        if state is None or event.run_id != state.run_id or not self.query(View):
            return  # an old run, or the app is closing
        state.ended = time.perf_counter()
        state.elapsed_s = event.elapsed_s
        state.error = event.error
        if event.status == "failed":
            state.status = "failed"
            self.notify(event.error or "the run failed", title="run failed", severity="error", timeout=10, markup=False)
        elif event.status == "interrupted" or state.cancel.is_set():
            state.status = "stopped"
        else:
            # A divergence is a result to show (bn's N(0,1) init is the lesson), not a failure.
            state.status = "done"
            state.note = state.divergence_note() if state.collector.diverged() else ""
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
            self._drawn.pop("history", None)
            self.redraw.now(force=True)

    def open_stored(
        self, plan: sc.Plan, collector: Collector, status: str, elapsed_s: float | None, device: str
    ) -> bool:
        """Show a stored run (the History view's) in every view, read-only, as if it had just run."""
        if self.run_active():
            self.notify("a run is going on: stop it (s) first", title="cannot open the run", severity="error")
            return False
        index = next(
            (i for i, e in enumerate(self.entries) if e.scenario is not None and e.scenario.path == plan.scenario.path),
            None,
        )
        if index is not None:
            self.select_entry(index)
        self._next_run_id += 1
        state = RunState(
            self._next_run_id,
            plan,
            device,
            collector,
            status=status,
            elapsed_s=elapsed_s,
            stored_id=store_id(collector),
        )
        state.ended = state.started
        state.note = state.divergence_note() if status == "done" and collector.diverged() else ""
        self._clear_views()
        self.run_state = state
        self._update_tabs(open_first=True)
        self._update_replay()
        self.refresh_bindings()
        self._status()
        self.redraw.now(force=True)
        return True

    def cancel_run(self) -> None:
        if self.run_state is not None:
            self.run_state.cancel.set()

    def action_stop(self) -> None:
        if self.run_queued:
            self.run_queued = False
            self._status()
        if self.run_state is not None and self.run_active():
            self.run_state.cancel.set()
            self.run_state.status = "stopping"
            self._status()

    # --- other actions ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "chart":
            if (len(parameters) > 1) == self.wide:
                return False  # the other layout's footer entry of the key
            chart = self._chart_for(str(parameters[0]))
            if chart is None or not chart.variant_names or self._typing() or self.layout_mode == "small":
                return False  # no chart (or none with this key, or nothing in it yet), or a field's letter
            return chart.check_action(str(parameters[0]), ())
        if action in self.TYPING_KEYS and self._typing():
            return False  # the key goes to the field (or the open list) as a character
        if action in self.PRIORITY_KEYS and self._widget_binds(self.PRIORITY_KEYS[action]):
            return False
        if action == "submit_field":
            return self._in_field() or self._on_view_tabs()
        if action == "enter_view":
            return self._on_view_tabs()
        if action == "leave_field":
            return isinstance(self.focused, Input)
        if action == "stop" and not (self.run_active() or self.run_queued):
            return None  # shown dimmed in the footer
        if action in ("next_view", "prev_view"):
            # Leave tab alone while the terminal is too small and in an open Select.
            if self.layout_mode == "small" or self._select_open():
                return False
        return True

    def _cycle(self, step: int) -> None:
        views = self.visible_views()
        if not views:
            return
        current = self.active_view
        index = views.index(current) if current in views else -1
        target = views[(index + step) % len(views)]
        tabs = self.query_one(TabbedContent)
        tabs.active = f"tab-{target}"
        # Drawn now, before the next frame: the pane is shown at once, and its TabActivated message
        # comes later (under load, a frame or more later: the pane's old content showed meanwhile).
        self.redraw.now()
        if self.wide and isinstance(self.focused, Input):
            return  # typing in the sidebar form: keep the cursor there
        # At once, so the next key of a burst lands in the view; one focus change (each restyles).
        if not self.views[target].focus_content():
            self.set_focus(tabs.query_one(Tabs))

    def action_next_view(self) -> None:
        self._cycle(1)

    def action_prev_view(self) -> None:
        self._cycle(-1)

    def action_focus_picker(self) -> None:
        if self.wide:
            self.set_focus(self.query_one(ScenarioPicker))
        else:
            self.set_focus(self.query_one(ScenarioSelect))

    def action_focus_form(self) -> None:
        if not self.wide:  # the form lives in the Params tab
            self.query_one(TabbedContent).active = self.query_one(ParamsTab).id or ""
        self._focus_first_field()

    def action_focus_device(self) -> None:
        self.set_focus(self.query_one(DeviceSelect))

    def action_reset_params(self) -> None:
        entry = self.entry
        if entry.scenario is None or self.form is None:
            return
        texts = default_texts(entry.scenario, self.options.seed)
        self.texts[entry.key] = texts
        self.form.reset(texts)
        self.notify("parameters reset to the scenario's defaults", timeout=3)

    def action_leave_field(self) -> None:
        if isinstance(self.focused, Input):
            if self.wide:
                self.set_focus(self.query_one(ScenarioPicker))
            else:
                self.set_focus(self.query_one(TabbedContent).query_one(Tabs))

    def _widget_binds(self, key: str) -> bool:
        """Whether the focused widget or a container of it (below this screen) binds ``key``."""
        node = self.focused
        while node is not None and node is not self:
            if key in node._bindings.key_to_bindings:
                return True
            node = node.parent if isinstance(node.parent, Widget) else None
        return False

    def _typing(self) -> bool:
        """An Input has the focus or a Select's list is open: letters are text, not commands."""
        return isinstance(self.focused, Input) or self._select_open()

    def _select_open(self) -> bool:
        """A Select's list is open. It holds the focus while open (it closes when the focus leaves), so
        this walks up from the focus: check_action runs for every binding at every footer refresh,
        and a query over the whole screen there cost tens of ms a refresh."""
        focused = self.focused
        return focused is not None and any(
            isinstance(node, Select) and node.expanded for node in focused.ancestors_with_self
        )

    def system_commands(self) -> Iterable[SystemCommand]:
        """The command palette's entries for this screen's actions."""
        yield SystemCommand("Run", "Run the scenario with the form's parameters (r)", self.action_run)
        yield SystemCommand("Stop", "Stop the run (s)", self.action_stop)
        yield SystemCommand("Next view", "Show the next view (tab)", self.action_next_view)
        yield SystemCommand("Previous view", "Show the previous view (shift+tab)", self.action_prev_view)
        yield SystemCommand("Scenarios", "Focus the scenario picker (/)", self.action_focus_picker)
        yield SystemCommand("Parameters", "Focus the parameter form (p)", self.action_focus_form)
        yield SystemCommand("Device", "Focus the device selector (d)", self.action_focus_device)
        yield SystemCommand("Reset parameters", "Back to the scenario's defaults (ctrl+r)", self.action_reset_params)
