"""Pilot flows: pick, edit, refuse, run, stop, quit, bad files, small terminals."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Static

from regtui import scenario as sc
from regtui.app.widgets.fit_chart import FitChart
from regtui.app.widgets.help_screen import HelpScreen
from regtui.app.widgets.layers_chart import LayersChart
from regtui.app.widgets.loss_chart import LossChart
from regtui.app.widgets.picker import ScenarioPicker
from regtui.app.widgets.picker_select import ScenarioSelect
from regtui.app.widgets.results_view import ResultsView
from regtui.app.widgets.stats_view import StatsView
from regtui.app.widgets.sweep_chart import SweepChart
from regtui.app.widgets.too_small import TooSmall
from regtui.specs import ConfigError

from .conftest import app_for, key, wait_until
from .driver import Dashboard

WIDE = (120, 40)
NARROW = (80, 24)


async def test_picker_lists_bundled_and_user_files(user_dir):
    app = app_for(scenarios_dir=str(user_dir))
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        labels = [e.label for e in dash.entries]
        for path in sc.bundled_paths():
            assert sc.load(path).title in labels
        assert "My tiny weight decay" in labels
        broken = next(e for e in dash.entries if e.path and e.path.name == "broken.toml")
        with pytest.raises(ConfigError) as exc:
            sc.load(user_dir / "broken.toml")
        assert broken.error == str(exc.value)  # the CLI's one-line message
        assert broken.label.startswith("⚠")
        # Picking it by keyboard shows the error and blocks Run; the others stay usable.
        await pilot.press("slash")
        assert isinstance(app.focused, ScenarioPicker)
        index = dash.entries.index(broken)
        app.main.query_one(ScenarioPicker).highlighted = index
        await pilot.press("enter")
        await pilot.pause()
        assert dash.entry is broken and dash.plan is None
        assert app.main.query_one(".form-error-note", Static).display
        assert str(exc.value) in str(app.main.query_one("#scenario-summary", Static).render())
        await pilot.press("r")
        assert dash.run is None
        tiny = next(i for i, e in enumerate(dash.entries) if e.label == "My tiny weight decay")
        app.main.query_one(ScenarioPicker).highlighted = tiny
        app.main.query_one(ScenarioPicker).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert dash.plan is not None and dash.plan.scenario.title == "My tiny weight decay"
        await dash.run_to_end()
        assert dash.run.status == "done"


async def test_open_on_a_bad_file_keeps_the_app_usable(user_dir):
    app = app_for(file=str(user_dir / "broken.toml"))
    async with app.run_test(size=NARROW) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert dash.entry.error and "lrr" in dash.entry.error
        assert dash.plan is None
        assert any(dash.entry.error in notice for notice in dash.notices())
        await pilot.press("r")
        assert dash.run is None and app.is_running
        await dash.pick("bn-stats")
        assert dash.plan is not None and dash.plan.scenario.name == "bn-stats"


async def test_missing_file_is_an_error_entry(tmp_path):
    app = app_for(file=str(tmp_path / "nope.toml"))
    async with app.run_test(size=NARROW) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert dash.entry.error == f"scenario file not found: {tmp_path / 'nope.toml'}"


async def test_form_is_generated_from_the_spec_with_scenario_defaults():
    app = app_for(file="bn")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        scenario = sc.load(sc.find("bn"))
        for p in scenario.spec.params:
            field = dash.field(p.name)
            per = [v.overrides[p.name] for v in scenario.variants if p.name in v.overrides]
            if len(per) > 1:  # one value per variant
                assert [p.parse(t) for t in field.value.split(",")] == per
            else:
                assert p.parse(field.value) == scenario.defaults()[p.name]
        assert dash.plan == sc.plan(scenario, {}, {}, 0, None)


async def test_edit_a_parameter_and_the_plan_follows():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.type_into("iters", "30")
        assert dash.plan.params["iters"] == 30
        assert dash.plan.sets == {"iters": 30}
        replay = app.main.query_one("#replay").command
        assert replay == sc.replay_command(dash.plan, "cpu")
        assert "--set iters=30" in replay
        # ctrl+r resets to the scenario's defaults.
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert dash.plan.sets == {}
        assert dash.field("iters").value == "2000"


async def test_parameters_the_variants_set_are_marked_and_a_new_value_merges_them():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        hints = [str(h.render()) for h in dash.form.query(".field-hint")]
        assert hints == ["  per variant: no weight decay, weight decay"]
        assert dash.field("weight_decay").value == "0.0, 0.01"
        assert dash.variant_names() == ["no weight decay", "weight decay"]
        await dash.type_into("weight_decay", "0.05")  # one value for all: they merge
        assert dash.variant_names() == ["weight_decay=0.05"]


async def test_bad_value_is_refused_inline_and_blocks_run():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.type_into("lr", "-1")
        with pytest.raises(ConfigError) as exc:
            sc.load(sc.find("weight-decay")).spec.param("lr").parse("-1")
        box = dash.form.query_one("#error-lr", Static)
        assert box.has_class("shown") and str(exc.value) in str(box.render())
        assert dash.field("lr").has_class("invalid")
        assert dash.plan is None
        assert dash.form.query_one("#run-button", Button).disabled
        await pilot.press("escape")  # leave the field so "r" is a key, not a letter
        await pilot.press("r")
        await pilot.pause()
        assert dash.run is None
        assert any("lr" in notice for notice in dash.notices())
        await dash.type_into("lr", "0.02")
        assert dash.plan is not None and not box.has_class("shown")


async def test_cross_parameter_check_blocks_run():
    app = app_for(file="bn")
    async with app.run_test(size=NARROW) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(batchnorm="true", batch="1")
        assert dash.plan is None
        assert "BatchNorm needs at least 2" in str(dash.form.query_one("#form-error", Static).render())
        await dash.set_fields(batch="4")
        assert dash.plan is not None


async def test_sweep_fields_are_validated():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(sweep_key="init", sweep_values="1,2")
        assert dash.plan is None and "sweep_key" in dash.form.errors
        await dash.set_fields(sweep_key="weight_decay", sweep_values="0,x")
        assert dash.plan is None and "sweep_values" in dash.form.errors
        await dash.set_fields(sweep_values="0,1e-3,1e-2")
        assert dash.plan.sweep == {"weight_decay": (0.0, 1e-3, 1e-2)}
        await dash.set_fields(seeds="0")
        assert dash.plan is None and "seeds" in dash.form.errors


async def test_run_weight_decay_fills_the_charts():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="30", hidden="16")
        await dash.run_to_end()
        state = dash.run
        assert state.status == "done"
        collector = state.collector
        loss = app.main.query_one(LossChart)
        records = collector.snapshot().records  # every point (a single seed: the model's own series)
        expected = {f"{r['name']}/{k}": len(col) for r in records for k, col in r["series"].items() if k != "step"}
        assert loss.series_points == expected and set(expected.values()) == {30}
        assert "train_loss" in str(app.main.query_one("#finals").render())
        await pilot.press("tab")  # Loss -> Fit
        await pilot.pause()
        assert dash.active_view == "fit"
        fit = app.main.query_one(FitChart)
        assert fit.series_points["data/train"] == 10
        fitted = collector.variant_record("no weight decay")["curves"]["fit"]
        assert fit.series_points["no weight decay/fit"] == len(fitted["x"])
        replay = app.main.query_one("#replay")
        assert replay.command == sc.replay_command(state.plan, "cpu")
        assert "replay:" in str(replay.render())


async def test_run_bn_fills_layers_and_running_stats():
    app = app_for(file="bn")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert dash.active_view == "layers"
        await dash.set_fields(depth="10", width="16", train_steps="5")
        await dash.run_to_end()
        collector = dash.run.collector
        layers = app.main.query_one(LayersChart)
        assert layers.series_points and all(n <= 10 for n in layers.series_points.values())
        assert layers.series_points["kaiming init"] == 10
        dash.show_view("stats")
        await pilot.pause(0.2)
        table = app.main.query_one(StatsView).tables["running_stats"]
        raw = collector.snapshot().tables["running_stats"]
        rows, _ = collector.rows_since("running_stats", 0)
        keys = {tuple(r[raw.columns.index(k)] for k in raw.key) for r in rows}
        assert table.row_count == len(keys) > 0
        assert sorted(table.columns_shown) == sorted(raw.columns)
        assert table.columns_shown == raw.columns  # the JSON document's order


async def test_running_stats_update_in_place_with_highlight():
    app = app_for(file="bn-stats")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.run_to_end()
        view = app.main.query_one(StatsView)
        assert dash.active_view == "stats"
        collector = dash.run.collector
        for name in ("bn1d", "bn2d", "bn3d"):
            assert view.tables[name].row_count == len(collector.rows_since(name, 0)[0])
        table = view.tables["bn1d"]
        raw = collector.snapshot().tables["bn1d"]
        # Feed one more update by hand: the same key, a changed running_mean.
        values = dict(zip(raw.columns, collector.rows_since("bn1d", 0)[0][-1]))
        key = "|".join(str(values[k]) for k in raw.key)
        values["running_mean"] = 123.0
        row = [values[c] for c in table.columns_shown]
        before = table.row_count
        table.upsert([(key, row)])
        await pilot.pause()
        assert table.row_count == before
        assert table.get_cell(key, "running_mean").plain == "123"
        assert table.get_cell(key, "running_mean").style == "bold reverse"
        assert not hasattr(table.get_cell(key, "feature"), "style")  # unchanged: plain


async def test_results_views_for_norms_and_dropout():
    app = app_for(file="norms")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(steps="3", train_samples="16", test_samples="8")
        await dash.run_to_end()
        results = app.main.query_one(ResultsView)
        assert dash.active_view == "results"
        norms = results.tables["norms"]
        assert norms.row_count == 4
        joined = [c for c in norms.columns_shown if c.startswith("test_accuracy")]
        assert len(joined) == 2  # batch 2 and batch 64
        # Dropout's scaling demo values.
        await dash.pick("dropout")
        await dash.set_fields(iters="10", hidden="8")
        await dash.run_to_end()
        dash.show_view("results")
        await pilot.pause(0.2)
        scaling = app.main.query_one(ResultsView).tables["scaling"]
        summary = dash.run.collector.snapshot().summary["scaling"]
        assert scaling.row_count >= len(summary)


async def test_sweep_and_seeds_draw_bands_and_the_sweep_chart():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="20", hidden="8", seeds="2", sweep_key="weight_decay", sweep_values="0,1e-3,1e-2")
        assert dash.plan.seeds == 2 and len(dash.plan.runs) == 6
        await dash.run_to_end()
        assert dash.run.status == "done"
        loss = app.main.query_one(LossChart)
        assert "mean ± std over seeds" in loss.title_text
        dash.show_view("sweep")
        await pilot.pause(0.2)
        sweep = app.main.query_one(SweepChart)
        assert sweep.series_points and all(n == 3 for n in sweep.series_points.values())
        assert "--sweep weight_decay=0.0,0.001,0.01" in app.main.query_one("#replay").command


async def start_long_run(pilot):
    """A weight-decay run that would take minutes; returns once it is training."""
    dash = Dashboard(pilot)
    app = pilot.app
    await dash.set_fields(iters="1000000", hidden="16")
    key(app, "r", "r")  # Pilot.press would wait for an idle process, which training never is
    await wait_until(lambda: dash.run is not None)
    state = dash.run
    await wait_until(lambda: state.collector.progress is not None and state.collector.progress.step > 10)
    return state


async def test_stop_mid_run_is_prompt():
    app = app_for(file="weight-decay")
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        state = await start_long_run(pilot)
        key(app, "s", "s")
        await wait_until(lambda: state.status == "stopped", timeout=30)  # how fast: bench_live's stop column
        assert state.collector.finished.status == "interrupted"
        progress = state.collector.progress
        assert progress is not None and progress.step < progress.total  # stopped mid-run, not run out
        await pilot.pause()
        assert "stopped" in str(app.main.query_one("#status").render())


async def test_quit_mid_run_exits_promptly():
    app = app_for(file="weight-decay")
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        state = await start_long_run(pilot)
        key(app, "q", "q")
        await wait_until(lambda: not app.is_running, timeout=30)  # how fast: bench_newcomer's quit figures
    assert state.cancel.is_set()
    await wait_until(lambda: state.collector.finished is not None, timeout=2)  # the thread ended too


async def test_r_mid_run_is_refused_and_a_new_run_follows_a_stop():
    app = app_for(file="weight-decay")
    async with app.run_test(size=NARROW) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        first = await start_long_run(pilot)
        dash.field("iters").value = "20"
        await wait_until(lambda: dash.plan is not None and dash.plan.params["iters"] == 20)
        key(app, "r", "r")  # a stray r never throws the run away
        await pilot.pause()
        assert dash.run is first and not first.cancel.is_set()
        key(app, "s", "s")
        await wait_until(lambda: first.status == "stopped")
        key(app, "r", "r")
        await wait_until(lambda: dash.run is not first)
        assert first.cancel.is_set()
        await wait_until(lambda: dash.run.status == "done")
        await wait_until(lambda: first.collector.finished is not None, timeout=5)
        assert first.collector.finished.status == "interrupted"


async def test_a_failing_run_becomes_a_notification():
    def broken(plan, device, emit, cancel, threads):
        raise RuntimeError("boom")

    app = app_for(file="weight-decay", runner=broken)
    async with app.run_test(size=NARROW) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.run_to_end()
        assert dash.run.status == "failed"
        assert any("RuntimeError: boom" in notice for notice in dash.notices())
        assert app.is_running


async def test_keys_views_help_and_palette():
    app = app_for(file="weight-decay")
    async with app.run_test(size=NARROW) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert dash.visible_views() == ["params", "loss", "fit", "explain", "history"]
        assert dash.active_view == "params"
        await pilot.press("escape")
        seen = []
        for _ in range(5):
            await pilot.press("tab")
            seen.append(dash.active_view)
        assert seen == ["loss", "fit", "explain", "history", "params"]
        await pilot.press("shift+tab")
        assert dash.active_view == "history"
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Run", "Stop", "Next view", "Previous view", "Scenarios", "Help", "Quit"):
            assert title in titles
        keys = {b.key for b in [*app.BINDINGS, *app.main.BINDINGS]}
        assert {"r", "s", "tab", "shift+tab", "slash", "question_mark", "q"} <= keys


async def test_narrow_layout_collapses_the_picker_and_moves_the_form():
    app = app_for(file="weight-decay")
    async with app.run_test(size=NARROW) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert dash.layout == "narrow"
        assert not app.main.query_one("#sidebar").display
        assert app.main.query_one(ScenarioSelect).display
        assert dash.form in app.main.query_one("#tab-form-slot").children
        await dash.type_into("iters", "42")
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert dash.layout == "wide"
        assert dash.form in app.main.query_one("#sidebar-form-slot").children
        assert dash.field("iters").value == "42"  # kept across the move
        assert "params" not in dash.visible_views()


async def test_too_small_terminal_shows_a_message():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(70, 20)) as pilot:
        await pilot.pause()
        message = app.main.query_one(TooSmall)
        assert message.display and not app.main.query_one("#body").display
        assert "80x24" in str(message.render()) and "70x20" in str(message.render())
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not message.display and app.main.query_one("#body").display


async def test_no_color_keeps_series_apart(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        assert app.no_color
        await pilot.pause()
        await dash.set_fields(iters="10", hidden="8")
        await dash.run_to_end()
        markers = app.main.query_one(LossChart).markers_used
        assert len(set(markers)) == len(markers) == 4  # one shape per series, colour or not


async def test_theme_change_redraws_the_charts():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="10", hidden="8")
        await dash.run_to_end()
        chart = app.main.query_one(LossChart)
        renders = chart.renders
        app.theme = "textual-light"
        await pilot.pause(0.2)
        assert chart.renders > renders and chart.series_points
