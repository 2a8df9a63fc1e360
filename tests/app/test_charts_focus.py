"""The charts' readability rules and the keys that choose what they show (v, h, t), and the
dashboard's run (trained in a child process) giving the headless document."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult

from regtui import scenario as sc
from regtui.app import plotting
from regtui.app.widgets.fit_chart import FitChart
from regtui.app.widgets.loss_chart import LossChart
from regtui.app.widgets.sweep_chart import SweepChart
from regtui.report import Collector

from .conftest import app_for
from .driver import Dashboard


def records(n: int, seeds: int = 1) -> list[dict[str, Any]]:
    out = []
    for vi in range(n):
        steps = list(range(0, 100, 10))
        rec: dict[str, Any] = {
            "name": f"v{vi}",
            "params": {"weight_decay": vi / 10},
            "series": {
                "step": steps,
                "train_loss": [1.0 / (s + 1 + vi) for s in steps],
                "test_loss": [2.0 / (s + 1 + vi) for s in steps],
            },
            "final": {"train_loss": 0.01, "test_loss": 0.02 + vi},
            "curves": {"fit": {"x": [0.0, 0.5, 1.0], "y": [vi, vi + 1.0, vi + 2.0]}},
        }
        if seeds > 1:
            rec["final_std"] = {"train_loss": 0.001, "test_loss": 0.005}
        out.append(rec)
    return out


DATA = {"train": {"x": [0.1, 0.2], "y": [1.0, 2.0]}, "test": {"x": [0.3], "y": [1.5]}}


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LossChart(id="loss")
        yield FitChart(id="fit")
        yield SweepChart(id="sweep")


async def test_every_series_and_the_data_have_their_own_marker():
    async with ChartApp().run_test(size=(120, 40)) as pilot:
        loss = pilot.app.query_one(LossChart)
        loss.replot(records(10))
        while loss.focus_variant is not None:  # ten variants open with one in focus: v to all of them
            loss.action_cycle_variant()
        assert len(loss.markers_used) == 20 and len(set(loss.markers_used)) == 20
        fit = pilot.app.query_one(FitChart)
        fit.replot(DATA, records(10))
        while fit.focus_variant is not None:
            fit.action_cycle_variant()
        assert len(fit.markers_used) == 12 and len(set(fit.markers_used)) == 12
        assert set(plotting.DATA_MARKERS.values()) <= set(fit.markers_used)
        # The points are drawn last, over every curve: they are what shows overfitting.
        assert fit.drawn_order[-2:] == ["data/train", "data/test"]


async def test_keys_focus_hide_and_split_the_series():
    async with ChartApp().run_test(size=(120, 40)) as pilot:
        chart = pilot.app.query_one(LossChart)
        chart.replot(records(3))
        assert chart.focus_variant is None  # few variants: all in colour
        chart.focus()
        await pilot.press("v", "v")  # all -> v0 -> v1
        assert chart.focus_variant == 1
        assert chart.drawn_order[-1].startswith("v1/")  # the focused one is drawn last, on top
        assert "focus: v1" in chart.title_text
        await pilot.press("h")  # hide v1
        assert not any(k.startswith("v1/") for k in chart.series_points)
        assert "v0/train_loss" in chart.series_points
        await pilot.press("h")  # and show it again
        assert "v1/test_loss" in chart.series_points
        await pilot.press("t")  # train only
        assert chart.series_points and all(k.endswith("/train_loss") for k in chart.series_points)
        await pilot.press("t")  # test only
        assert all(k.endswith("/test_loss") for k in chart.series_points)
        await pilot.press("t")  # both again
        assert any(k.endswith("/train_loss") for k in chart.series_points)


async def test_a_dense_run_focuses_one_variant_over_faint_others():
    async with ChartApp().run_test(size=(80, 24)) as pilot:
        chart = pilot.app.query_one(LossChart)
        chart.replot(records(8))
        assert chart.focus_variant == 0
        assert chart.drawn_order[-1].startswith("v0/")
        colors = {c for _, c, _ in chart.legend_items}
        assert chart.variant_color(3) == plotting.FAINT and chart.variant_color(0) == plotting.color(0)
        del colors


async def test_sweep_chart_draws_std_over_seeds():
    records_ = records(4, seeds=3)
    from regtui.variant_record import sweep_summary

    summary = sweep_summary({"weight_decay": [r["params"]["weight_decay"] for r in records_]}, records_)
    async with ChartApp().run_test(size=(120, 40)) as pilot:
        chart = pilot.app.query_one(SweepChart)
        chart.replot(summary)
        assert "± std" in chart.title_text
        assert len(set(chart.markers_used)) == len(chart.markers_used)


@pytest.mark.child_trainer
async def test_dashboard_run_equals_the_headless_document():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert dash.trainer is not None  # trained in the child process (POSIX)
        await dash.set_fields(iters="300")
        await dash.run_to_end()
        state = dash.run
        assert state.status == "done"
        shown = state.collector.document()
        plan = state.plan
    from regtui.engine import run_plan

    collector = Collector()
    run_plan(plan, "cpu", emit=collector, threads=1)
    headless = collector.document()
    shown.pop("elapsed_s")
    headless.pop("elapsed_s")
    assert shown == headless
    assert plan.params["iters"] == 300 and isinstance(plan, sc.Plan)
