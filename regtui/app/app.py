"""The regtui dashboard: pick a scenario, edit its parameters, run it, watch it.

Data path: a thread worker runs ``run_plan(plan, device, emit=collector,
cancel=event, threads=1)``; the :class:`~regtui.report.Collector` is the buffer
(no message per step); a timer redraws the visible view from the Collector
when its version changed. The timer adapts: it measures what each redraw
costs (plotext renders included) and waits ``max(min_interval, 10 × cost)``,
so drawing stays a small fraction of wall time and training keeps its speed
(the GIL is shared). At the end the worker posts one small message.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, OptionList, Select, Static, TabbedContent, TabPane

from regtui import registry
from regtui import scenario as sc
from regtui.app.catalog import Entry, load_entries
from regtui.app.messages import DevicesFound, FormChanged, RunEnded
from regtui.app.widgets.chart_legend import ChartLegend
from regtui.app.widgets.device_select import DeviceSelect
from regtui.app.widgets.explanation import Explanation
from regtui.app.widgets.finals_line import FinalsLine
from regtui.app.widgets.fit_chart import FitChart
from regtui.app.widgets.help_screen import HelpScreen
from regtui.app.widgets.layers_chart import LayersChart
from regtui.app.widgets.loss_chart import LossChart
from regtui.app.widgets.param_form import ParamForm, default_texts
from regtui.app.widgets.picker import ScenarioPicker
from regtui.app.widgets.picker_select import ScenarioSelect
from regtui.app.widgets.replay_line import ReplayLine
from regtui.app.widgets.results_view import ResultsView
from regtui.app.widgets.stats_view import StatsView
from regtui.app.widgets.status_bar import StatusBar, StatusInfo
from regtui.app.widgets.sweep_chart import SweepChart
from regtui.app.widgets.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmall
from regtui.report import Collector, sweep_summary

VIEW_TITLES = {
    "params": "Params", "loss": "Loss", "fit": "Fit", "layers": "Layers", "stats": "Running stats",
    "results": "Results", "sweep": "Sweep", "explain": "Explain",
}
# The Collector versions each view depends on (it redraws only when they change).
VIEW_KINDS = {
    "loss": ("metrics", "final", "started"),
    "fit": ("curves", "summary", "started"),
    "layers": ("layers", "started"),
    "stats": ("tables",),
    "results": ("summary", "final"),
    "sweep": ("final", "started"),
}
WIDE_MIN = (100, 30)  # at least this big: sidebar layout of DESIGN's sketch
MAX_POINTS = 200  # per series, for drawing


@dataclass
class RunState:
    run_id: int
    plan: sc.Plan
    device: str
    collector: Collector
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    status: str = "running"
    error: str | None = None
    elapsed_s: float | None = None


class RegtuiApp(App[None]):
    """The dashboard. Build it with :func:`make_app`."""

    CSS_PATH = "regtui.tcss"
    TITLE = "regtui"

    BINDINGS = [
        Binding("r", "run", "Run"),
        Binding("s", "stop", "Stop"),
        Binding("tab", "next_view", "Next view", priority=True),
        Binding("shift+tab", "prev_view", "Prev view", show=False, priority=True),
        Binding("slash", "focus_picker", "Scenarios", key_display="/"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("p", "focus_form", "Params", show=False),
        Binding("d", "focus_device", "Device", show=False),
        Binding("ctrl+r", "reset_params", "Reset params", show=False),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    def __init__(
        self,
        file: str | None = None,
        scenarios_dir: str | None = None,
        device: str = "auto",
        *,
        devices: list[str] | None = None,
        runner: Callable[..., Any] | None = None,
        min_interval: float = 0.25,
        draw_factor: float = 20.0,
        max_points: int = MAX_POINTS,
        threads: int = 1,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.entries, self.start_index = load_entries(file, scenarios_dir)
        self.requested_device = device or "auto"
        self.device: str | None = None
        self.device_names: list[str] = list(devices) if devices else []
        if devices:
            self.device = devices[0] if self.requested_device == "auto" else self.requested_device
        self.runner = runner
        self.min_interval = min_interval
        self.max_points = max_points
        self.threads = threads
        self.seed = seed

        self.entry_index = -1
        self.texts: dict[str, dict[str, str]] = {}  # entry key -> form texts (kept across picks)
        self.form: ParamForm | None = None
        self.plan: sc.Plan | None = None
        self.form_error: str | None = None
        self.layout_mode = ""  # "wide" | "narrow" | "small"

        self.run_state: RunState | None = None
        self._next_run_id = 0
        self._drawn: dict[str, tuple[int, int]] = {}  # view -> (run id, collector version)
        # Redraw accounting (the benchmark and tests read these).
        self.redraws = 0
        self.draw_seconds = 0.0
        self.last_draw_cost = 0.0
        self.interval = min_interval
        self.draw_factor = draw_factor
        self._cpu_mark = time.thread_time()
        self._drew_last = False
        self._costs: list[float] = []

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        entry = self.entries[self.start_index]
        with Vertical(id="body"):
            with Horizontal(id="topbar"):
                yield Static("regtui", id="app-title")
                yield ScenarioSelect(self.entries, self.start_index, id="picker-select")
                yield Label("device", id="device-label")
                yield DeviceSelect(self.device, id="device")
            with Horizontal(id="main"):
                with Vertical(id="sidebar"):
                    yield ScenarioPicker(self.entries, id="picker")
                    yield Static(entry.summary, id="scenario-summary")
                    yield Container(id="sidebar-form-slot")
                with TabbedContent(id="views"):
                    with TabPane(VIEW_TITLES["params"], id="tab-params"):
                        yield Static("", id="params-summary")
                        yield Container(id="tab-form-slot")
                    with TabPane(VIEW_TITLES["loss"], id="tab-loss"):
                        yield LossChart(id="loss-chart")
                        yield FinalsLine(id="finals")
                    with TabPane(VIEW_TITLES["fit"], id="tab-fit"):
                        yield FitChart(id="fit-chart")
                        yield ChartLegend(id="fit-legend")
                    with TabPane(VIEW_TITLES["layers"], id="tab-layers"):
                        yield LayersChart(id="layers-chart")
                        yield ChartLegend(id="layers-legend")
                    with TabPane(VIEW_TITLES["stats"], id="tab-stats"):
                        yield StatsView(id="stats-view")
                    with TabPane(VIEW_TITLES["results"], id="tab-results"):
                        yield ResultsView(id="results-view")
                    with TabPane(VIEW_TITLES["sweep"], id="tab-sweep"):
                        yield SweepChart(id="sweep-chart")
                        yield ChartLegend(id="sweep-legend")
                    with TabPane(VIEW_TITLES["explain"], id="tab-explain"):
                        yield Explanation(id="explanation")
            yield StatusBar(id="status")
            yield ReplayLine(id="replay")
            yield Footer()
        yield TooSmall(id="too-small")

    def on_mount(self) -> None:
        self._apply_layout(self.size.width, self.size.height)
        self.select_entry(self.start_index, notify=True)
        bad = [e for i, e in enumerate(self.entries) if e.error and i != self.start_index]
        for e in bad[:3]:
            self.notify(e.error or "", title="scenario file skipped", severity="warning", timeout=8)
        if self.device_names:
            self._devices_ready(self.device_names, self.device or "cpu")
        else:
            self._detect_devices()
        self._status()
        self._schedule(self.min_interval)
        # The tabs exist only once TabbedContent has mounted its panes.
        self.call_after_refresh(self._update_tabs, True)

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int, height: int) -> None:
        if width < MIN_WIDTH or height < MIN_HEIGHT:
            mode = "small"
            self.main.query_one(TooSmall).show_size(width, height)
        elif width >= WIDE_MIN[0] and height >= WIDE_MIN[1]:
            mode = "wide"
        else:
            mode = "narrow"
        screen = self.main
        for name in ("small", "wide", "narrow"):
            screen.set_class(mode == name, f"-{name}")
        if mode == "small":
            self.layout_mode = mode
            return
        changed = mode != self.layout_mode
        self.layout_mode = mode
        if changed:
            self._drawn.clear()  # views skipped while too small redraw now
            self._update_tabs()
            if self.form is not None or (0 <= self.entry_index < len(self.entries)):
                self._mount_form()

    @property
    def main(self) -> Screen:
        """The dashboard's screen (queries go there even while the help screen is open)."""
        return self.screen_stack[0] if self.screen_stack else self.screen

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
        if self.form is not None and 0 <= self.entry_index < len(self.entries):
            self.texts[self.entry.key] = dict(self.form.texts)
        self.entry_index = index
        entry = self.entry
        picker = self.main.query_one(ScenarioPicker)
        if picker.highlighted != index:
            picker.highlighted = index
        select = self.main.query_one(ScenarioSelect)
        if select.value != index:
            select.value = index
        self._show_summary(entry)
        self.main.query_one("#app-title", Static).update(f"regtui · {entry.label}")
        title = entry.scenario.title if entry.scenario else entry.label
        self.main.query_one(Explanation).show(
            title, entry.scenario.summary if entry.scenario else "",
            entry.scenario.explanation if entry.scenario else "", entry.error)
        if entry.error and notify:
            self.notify(entry.error, title="scenario file", severity="error", timeout=10)
        if not self.run_active():
            self._clear_views()
        self._mount_form()
        self._update_tabs(open_first=True)

    def _show_summary(self, entry: Entry) -> None:
        for box in (self.main.query_one("#scenario-summary", Static), self.main.query_one("#params-summary", Static)):
            box.update(entry.summary)
            box.set_class(entry.error is not None, "error")

    def _mount_form(self) -> None:
        if self.layout_mode in ("", "small") and self.form is not None:
            return
        slot = self.main.query_one("#sidebar-form-slot" if self.wide else "#tab-form-slot", Container)
        old = self.form
        if old is not None:
            self.texts[old.scenario_key] = dict(old.texts)  # type: ignore[attr-defined]
            old.remove()
        for stale in self.main.query(".form-error-note"):
            stale.remove()
        entry = self.entry
        if entry.scenario is None:
            self.form = None
            self.plan, self.form_error = None, entry.error
            slot.mount(Static("⚠ This file does not load (the message above says why); Run is off. "
                              "Fix the file and restart, or pick another scenario.", classes="form-error-note"))
            self._update_replay()
            return
        texts = self.texts.get(entry.key) or default_texts(entry.scenario, self.seed)
        form = ParamForm(entry.scenario, texts)
        form.scenario_key = entry.key  # type: ignore[attr-defined]
        self.form = form
        slot.mount(form)
        form.set_running(self.run_active())

    @on(FormChanged)
    def _form_changed(self, event: FormChanged) -> None:
        if event.form is not self.form:  # a form being replaced
            return
        self.plan, self.form_error = event.plan, event.error
        self._update_tabs()
        self._update_replay()

    @on(OptionList.OptionHighlighted, "#picker")
    def _picker_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        index = int(event.option.id or 0)
        self.main.query_one("#scenario-summary", Static).update(self.entries[index].summary)
        self.main.query_one("#scenario-summary", Static).set_class(self.entries[index].error is not None, "error")

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
            self.device = event.value
            self._update_replay()
            self._status()

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        if event.input.id and event.input.id.startswith("field-"):
            self.action_run()

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
                fields.first().focus()

    # --- devices ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="devices", exit_on_error=False)
    def _detect_devices(self) -> None:
        from regtui import devices
        from regtui.specs import ConfigError

        names = devices.available()
        chosen = devices.best()
        if self.requested_device.strip().lower() != "auto":
            try:
                chosen = devices.resolve(self.requested_device)
            except ConfigError as exc:
                self.call_from_thread(self.notify, f"{exc}; using {chosen}", title="device", severity="error")
        self.post_message(DevicesFound(names, chosen))

    @on(DevicesFound)
    def _devices_found(self, event: DevicesFound) -> None:
        self._devices_ready(event.names, event.best)

    def _devices_ready(self, names: list[str], chosen: str) -> None:
        self.device_names = list(names)
        if chosen not in self.device_names:
            self.device_names.append(chosen)
        self.device = chosen
        self.main.query_one(DeviceSelect).set_devices(self.device_names, chosen)
        self._update_replay()
        self._status()

    # --- views -----------------------------------------------------------------------------

    def _experiment(self) -> str | None:
        state = self.run_state
        if state is not None and (self.run_active() or self.entry.scenario is None
                                  or state.plan.scenario.experiment == self.entry.scenario.experiment):
            return state.plan.scenario.experiment
        return self.entry.scenario.experiment if self.entry.scenario else None

    def visible_views(self) -> list[str]:
        wanted: set[str] = {"explain"}
        experiment = self._experiment()
        if experiment:
            kind = registry.get(experiment)
            wanted.update(kind.views)
            if self.run_state is not None:
                wanted.update(kind.run_views)
        if not self.wide:
            wanted.add("params")
        plan = self.run_state.plan if self.run_state else self.plan
        if (plan and plan.sweep) or (self.plan and self.plan.sweep):
            wanted.add("sweep")
        collector = self.collector
        if collector is not None:  # whatever the run produced gets a view, whatever its kind
            with collector.lock:
                if collector.tables:
                    wanted.add("stats")
                if any(k not in ("data", "sweep") for k in collector.summary):
                    wanted.add("results")
                if any(m.layers for m in collector.models.values()):
                    wanted.add("layers")
                if any(m.steps for m in collector.models.values()):
                    wanted.add("loss")
                if any(m.curves for m in collector.models.values()):
                    wanted.add("fit")
        return [v for v in registry.VIEWS if v in wanted]

    def _update_tabs(self, open_first: bool = False) -> None:
        tabs = self.main.query_one(TabbedContent)
        visible = self.visible_views()
        for view in registry.VIEWS:
            if view in visible:
                tabs.show_tab(f"tab-{view}")
            else:
                tabs.hide_tab(f"tab-{view}")
        active = (tabs.active or "").removeprefix("tab-")
        if open_first or active not in visible:
            experiment = self._experiment()
            first = registry.get(experiment).views[0] if experiment else "explain"
            if not self.wide and open_first and self.run_state is None:
                first = "params"
            if first in visible:
                tabs.active = f"tab-{first}"

    @property
    def active_view(self) -> str:
        return (self.main.query_one(TabbedContent).active or "").removeprefix("tab-")

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._redraw(force_view=self.active_view)

    def _clear_views(self) -> None:
        self.run_state = None
        self._drawn.clear()
        self.main.query_one(LossChart).empty("loss · run the scenario to see it")
        self.main.query_one(FitChart).empty("fit · run the scenario to see it")
        self.main.query_one(LayersChart).empty("activation std per layer · run the scenario to see it")
        self.main.query_one(SweepChart).empty("sweep · run a sweep to see it")
        self.main.query_one(FinalsLine).show([])
        for legend in self.main.query(ChartLegend).results(ChartLegend):
            legend.show([])
        self.main.query_one(StatsView).reset()
        self.main.query_one(ResultsView).reset()
        self._status()

    @property
    def collector(self) -> Collector | None:
        return self.run_state.collector if self.run_state else None

    # --- the redraw timer ------------------------------------------------------------------

    def _schedule(self, delay: float) -> None:
        self.interval = delay
        self.set_timer(delay, self._tick, name="redraw")

    def _tick(self) -> None:
        """Redraw what changed, then wait in proportion to what drawing cost.

        The cost is the UI thread's CPU time since the previous tick: the last
        redraw's plotext renders, Textual's compositing and the status line
        included. Waiting ``draw_factor`` times that keeps the UI thread's
        share of the GIL near 1/draw_factor, so training keeps its speed.
        """
        if not self.is_running or not self.main.query(LossChart):
            return  # shutting down
        cpu, wall = time.thread_time(), time.perf_counter()
        spent = cpu - self._cpu_mark
        if self._drew_last:
            # The median of the last three redraws, so one slow frame (a GC pause, a
            # busy machine) does not stall the charts for seconds.
            self._costs = (self._costs + [spent])[-3:]
            self.last_draw_cost = sorted(self._costs)[len(self._costs) // 2]
            self.draw_seconds += spent
        try:
            self._drew_last = self._redraw()
        finally:
            tick_cost = time.thread_time() - cpu
            self._cpu_mark = cpu
            delay = self.min_interval
            if self._drew_last or self.run_active():
                delay = max(delay, min(2.0, self.draw_factor * max(self.last_draw_cost, tick_cost)))
            self._schedule(delay)

    def _redraw(self, force_view: str | None = None) -> bool:
        """Redraw the visible view if its data changed; returns whether anything was drawn."""
        self._status()
        collector = self.collector
        if collector is None or self.layout_mode == "small":
            return False
        if collector.version("started", "tables", "summary", "layers", "curves") != self._drawn.get("tabs", (0, -1))[1]:
            self._drawn["tabs"] = (0, collector.version("started", "tables", "summary", "layers", "curves"))
            self._update_tabs()
        view = self.active_view
        kinds = VIEW_KINDS.get(view)
        if kinds is None or not self.is_mounted:
            return False
        version = collector.version(*kinds)
        key = (self.run_state.run_id if self.run_state else -1, version)
        if self._drawn.get(view) == key and force_view != view:
            return False
        self._drawn[view] = key
        self.redraws += 1
        self.draw_view(view, collector)
        return True

    def records(self, collector: Collector, max_points: int | None = None) -> list[dict[str, Any]]:
        with collector.lock:
            names = list(collector.variants)
        return [collector.variant_record(v, self.max_points if max_points is None else max_points)
                for v in names]

    def draw_view(self, view: str, collector: Collector) -> None:
        if view == "loss":
            records = self.records(collector)
            self.main.query_one(LossChart).replot(records)
            self.main.query_one(FinalsLine).show(records)
        elif view == "fit":
            with collector.lock:
                data = collector.summary.get("data")
            chart = self.main.query_one(FitChart)
            chart.replot(data, self.records(collector))
            self.main.query_one("#fit-legend", ChartLegend).show(chart.legend_items)
        elif view == "layers":
            chart = self.main.query_one(LayersChart)
            chart.replot(self.records(collector, 2))
            self.main.query_one("#layers-legend", ChartLegend).show(chart.legend_items)
        elif view == "stats":
            self.main.query_one(StatsView).update_from(collector)
        elif view == "results":
            with collector.lock:
                summary = dict(collector.summary)
            self.main.query_one(ResultsView).update_from(summary, self.records(collector, 2))
        elif view == "sweep":
            started = collector.started
            summary = None
            if started is not None and started.sweep:
                summary = sweep_summary(started.sweep, self.records(collector, 2))
            chart = self.main.query_one(SweepChart)
            chart.replot(summary)
            self.main.query_one("#sweep-legend", ChartLegend).show(chart.legend_items)

    def _status(self) -> None:
        state = self.run_state
        info = StatusInfo(device=self.device or "detecting device…")
        if state is not None:
            info.device = state.device
            info.status = state.status
            progress = state.collector.progress
            end = state.ended or time.perf_counter()
            info.elapsed = state.elapsed_s if state.elapsed_s is not None else end - state.started
            if progress is not None:
                info.step, info.total, info.phase = progress.step, progress.total, progress.phase
                if info.elapsed and info.elapsed > 0.05:
                    info.rate = progress.step / info.elapsed
        self.main.query_one(StatusBar).show(info)

    def _update_replay(self) -> None:
        line = self.main.query_one(ReplayLine)
        state = self.run_state
        if state is not None and not self.run_active():
            line.show("replay:", sc.replay_command(state.plan, state.device))
        elif state is not None:
            line.show("running:", sc.replay_command(state.plan, state.device))
        elif self.plan is not None:
            line.show("cli:", sc.replay_command(self.plan, self.device))
        elif self.entry.error:
            line.show("cli:", "(none: the scenario file does not load)")
        else:
            line.show("cli:", f"(fix the form first) {self.form_error or ''}")

    # --- running ---------------------------------------------------------------------------

    def run_active(self) -> bool:
        return self.run_state is not None and self.run_state.status in ("running", "stopping")

    def action_run(self) -> None:
        if self.plan is None:
            self.notify(self.form_error or "choose a scenario first", title="cannot run", severity="error")
            return
        self._cancel_run()
        self._next_run_id += 1
        device = self.device or ("cpu" if self.requested_device == "auto" else self.requested_device)
        state = RunState(self._next_run_id, self.plan, device, Collector())
        self._clear_views()
        self.run_state = state
        if self.form is not None:
            self.form.set_running(True)
        self._update_tabs(open_first=True)
        self._update_replay()
        self._status()
        self.refresh_bindings()
        self._run_in_thread(state)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def _run_in_thread(self, state: RunState) -> None:
        try:
            runner = self.runner
            if runner is None:
                from regtui.engine import run_plan as runner
            finished = runner(state.plan, state.device, emit=state.collector, cancel=state.cancel,
                              threads=self.threads)
            self.post_message(RunEnded(state.run_id, finished.status, finished.error, finished.elapsed_s))
        except BaseException as exc:  # noqa: BLE001 - a failure is a message, never a dead app
            self.post_message(RunEnded(state.run_id, "failed", f"{type(exc).__name__}: {exc}"))

    @on(RunEnded)
    def _run_ended(self, event: RunEnded) -> None:
        state = self.run_state
        if state is None or event.run_id != state.run_id or not self.main.query(LossChart):
            return  # an old run, or the app is closing
        state.ended = time.perf_counter()
        state.elapsed_s = event.elapsed_s
        state.error = event.error
        if event.status == "failed":
            state.status = "failed"
            self.notify(event.error or "the run failed", title="run failed", severity="error", timeout=10)
        elif event.status == "interrupted" or state.cancel.is_set():
            state.status = "stopped"
        else:
            with state.collector.lock:
                diverged = any(m.diverged for m in state.collector.models.values())
            state.status = "diverged" if diverged else "done"
        if self.form is not None:
            self.form.set_running(False)
        self.refresh_bindings()
        self._update_replay()
        self._update_tabs()
        self._redraw(force_view=self.active_view)

    def _cancel_run(self) -> None:
        if self.run_state is not None:
            self.run_state.cancel.set()

    def action_stop(self) -> None:
        if self.run_active() and self.run_state is not None:
            self.run_state.cancel.set()
            self.run_state.status = "stopping"
            self._status()

    async def action_quit(self) -> None:
        self._cancel_run()
        self.exit()

    def on_unmount(self) -> None:
        self._cancel_run()

    # --- other actions ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop" and not self.run_active():
            return None  # shown dimmed in the footer
        if action in ("next_view", "prev_view"):
            # Leave tab alone in the help screen, the command palette and an open Select.
            if self.screen is not self.screen_stack[0] or self.layout_mode == "small":
                return False
            if any(s.expanded for s in self.main.query(Select)):
                return False
        return True

    def _cycle(self, step: int) -> None:
        views = self.visible_views()
        if not views:
            return
        current = self.active_view
        index = views.index(current) if current in views else -1
        target = views[(index + step) % len(views)]
        self.main.query_one(TabbedContent).active = f"tab-{target}"
        if target == "params":
            self.call_after_refresh(self._focus_first_field)
            return
        if self.wide and isinstance(self.focused, Input):
            return  # typing in the sidebar form: keep the cursor there
        pane = self.main.query_one(f"#tab-{target}", TabPane)
        focusable = [w for w in pane.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()
        else:
            self.main.query_one(TabbedContent).query_one("Tabs").focus()

    def action_next_view(self) -> None:
        self._cycle(1)

    def action_prev_view(self) -> None:
        self._cycle(-1)

    def action_focus_picker(self) -> None:
        if self.wide:
            self.main.query_one(ScenarioPicker).focus()
        else:
            self.main.query_one(ScenarioSelect).focus()

    def action_focus_form(self) -> None:
        if not self.wide:
            self.main.query_one(TabbedContent).active = "tab-params"
        self.call_after_refresh(self._focus_first_field)

    def action_focus_device(self) -> None:
        self.main.query_one(DeviceSelect).focus()

    def action_reset_params(self) -> None:
        entry = self.entry
        if entry.scenario is None or self.form is None:
            return
        texts = default_texts(entry.scenario, self.seed)
        self.texts[entry.key] = texts
        self.form.reset(texts)
        self.notify("parameters reset to the scenario's defaults", timeout=3)

    def action_leave_field(self) -> None:
        if isinstance(self.focused, Input):
            if self.wide:
                self.main.query_one(ScenarioPicker).focus()
            else:
                self.main.query_one(TabbedContent).query_one("Tabs").focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Run", "Run the scenario with the form's parameters (r)", self.action_run)
        yield SystemCommand("Stop", "Stop the run (s)", self.action_stop)
        yield SystemCommand("Next view", "Show the next view (tab)", self.action_next_view)
        yield SystemCommand("Previous view", "Show the previous view (shift+tab)", self.action_prev_view)
        yield SystemCommand("Scenarios", "Focus the scenario picker (/)", self.action_focus_picker)
        yield SystemCommand("Parameters", "Focus the parameter form (p)", self.action_focus_form)
        yield SystemCommand("Device", "Focus the device selector (d)", self.action_focus_device)
        yield SystemCommand("Reset parameters", "Back to the scenario's defaults (ctrl+r)",
                            self.action_reset_params)
        yield SystemCommand("Help", "Keys and a short guide (?)", self.action_help)
        yield from super().get_system_commands(screen)


def make_app(
    file: str | None = None,
    scenarios_dir: str | None = None,
    device: str = "auto",
    **options: Any,
) -> RegtuiApp:
    """The dashboard, shared by the CLI (``regtui [FILE]``) and the tests.

    ``options``: ``devices`` (skip detection: a list of device names), ``runner``
    (replaces ``regtui.engine.run_plan``), ``min_interval`` (shortest redraw
    interval, seconds), ``draw_factor`` (wait this many times the last redraw's
    cost before the next), ``max_points`` (per drawn series), ``threads``, ``seed``.
    """
    return RegtuiApp(file=file, scenarios_dir=scenarios_dir, device=device, **options)
