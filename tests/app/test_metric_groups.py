"""The Loss view of a run with many metrics (the train kind) shows one metric group at a time
(key m), and the History view's compared run is drawn in shapes and shades of its own."""

from __future__ import annotations

import math
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import TabbedContent

from regtui.app import plotting
from regtui.app.views.loss import LossFinals, LossTab
from regtui.app.widgets.chart_legend import ChartLegend
from regtui.app.widgets.loss_chart import LossChart
from regtui.report import Snapshot

LAYERS = ("1.linear", "4.linear", "7.linear")
LOSSES = ("train_loss", "test_loss", "test_loss_train_mode")
ACCURACIES = ("train_accuracy", "test_accuracy", "test_accuracy_train_mode")


def train_records(variants: int = 2, grad_norms: bool = True) -> list[dict[str, Any]]:
    """Records shaped like the train kind's: losses, accuracies and per-layer norms."""
    out = []
    steps = list(range(10, 110, 10))
    for vi in range(variants):
        series: dict[str, list[float]] = {"step": steps}
        for i, name in enumerate(LOSSES):
            series[name] = [2.0 / (s + 1 + vi + i) for s in steps]
        for i, name in enumerate(ACCURACIES):
            series[name] = [min(1.0, s / 100 + 0.05 * (vi + i)) for s in steps]
        for li, layer in enumerate(LAYERS):
            series[f"weight_norm/{layer}"] = [5.0 + li + s / 50 + vi for s in steps]
            series[f"grad_norm/{layer}"] = [1.0 / (s + li + 1) if grad_norms else math.nan for s in steps]
        out.append({"name": f"v{vi}", "series": series, "final": {"train_loss": 0.01, "test_accuracy": 0.9}})
    return out


def lesson_records() -> list[dict[str, Any]]:
    steps = list(range(0, 100, 10))
    return [
        {
            "name": name,
            "series": {
                "step": steps,
                "train_loss": [1.0 / (s + 1) for s in steps],
                "test_loss": [2.0 / (s + 1) for s in steps],
                "weight_norm": [10.0 + s for s in steps],
            },
            "final": {"train_loss": 0.01},
        }
        for name in ("no weight decay", "weight decay")
    ]


def snapshot(records: list[dict[str, Any]]) -> Snapshot:
    return Snapshot(records, {}, {}, None, None, "done", rows_since=lambda name, start: ([], start))


class LossApp(App[None]):
    def compose(self) -> ComposeResult:
        with TabbedContent():
            yield LossTab("loss")


def drawn_metrics(chart: LossChart) -> set[str]:
    return {key.split("/", 1)[1] for key in chart.series_points}


def test_metric_groups_by_name_pattern():
    assert plotting.metric_group("train_loss") == "loss"
    assert plotting.metric_group("test_loss_train_mode") == "loss"
    assert plotting.metric_group("weight_norm") == "loss"  # a lesson's one norm stays with its losses
    assert plotting.metric_group("test_accuracy_train_mode") == "accuracy"
    assert plotting.metric_group("weight_norm/0.conv2d") == "weight norms"
    assert plotting.metric_group("grad_norm/0.conv2d") == "grad norms"
    grouped = plotting.group_metrics(["grad_norm/a", "test_accuracy", "train_loss", "weight_norm/a"])
    assert list(grouped) == ["loss", "accuracy", "weight norms", "grad norms"]


def test_train_test_other_and_validation_metrics_have_four_shapes():
    names = ["train_loss", "test_loss", "test_loss_train_mode", "val_loss"]
    assert len({plotting.marker(0, plotting.metric_rank(n)) for n in names}) == 4
    assert plotting.order_metrics(["val_loss", "test_loss_train_mode", "test_loss", "train_loss"]) == names


def test_layer_and_compared_shapes_are_their_own():
    variant_shapes = {m for family in plotting.MARKER_FAMILIES for m in family}
    compared = {m for family in plotting.COMPARED_FAMILIES for m in family}
    assert len(compared) == 4 * len(plotting.COMPARED_FAMILIES)
    assert len(variant_shapes) == 4 * len(plotting.MARKER_FAMILIES)
    assert not compared & variant_shapes and not compared & set(plotting.DATA_MARKERS.values())
    layers = [plotting.layer_marker(li) for li in range(3 * len(plotting.MARKER_FAMILIES))]
    assert len(set(layers)) == len(layers)
    assert all(len(m) == 1 for m in compared | set(layers))


async def test_the_default_group_is_loss_and_m_cycles_the_groups():
    async with LossApp().run_test(size=(120, 40)) as pilot:
        view = pilot.app.query_one(LossTab)
        chart = pilot.app.query_one(LossChart)
        view.draw(snapshot(train_records()))
        await pilot.pause()
        assert chart.groups == ["loss", "accuracy", "weight norms", "grad norms"]
        assert drawn_metrics(chart) == set(LOSSES)
        assert len(chart.series_points) == 2 * len(LOSSES)  # 2 variants, no other metric
        assert chart.title_text.startswith("loss (m: accuracy, …)")
        assert not pilot.app.query_one(ChartLegend).display
        chart.focus()
        seen = []
        for _ in range(4):
            await pilot.press("m")
            seen.append(chart.shown_group)
            assert chart.title_text.startswith(chart.shown_group + " (m: ")
        assert seen == ["accuracy", "weight norms", "grad norms", "loss"]  # and back to loss
        assert drawn_metrics(chart) == set(LOSSES)


async def test_a_norms_group_draws_a_shape_per_layer_and_names_the_layers():
    async with LossApp().run_test(size=(120, 40)) as pilot:
        view = pilot.app.query_one(LossTab)
        chart = pilot.app.query_one(LossChart)
        view.draw(snapshot(train_records()))
        chart.focus()
        await pilot.press("m", "m")
        assert chart.shown_group == "weight norms"
        assert drawn_metrics(chart) == {f"weight_norm/{layer}" for layer in LAYERS}
        assert len(chart.series_points) == 2 * len(LAYERS)  # one series per layer per variant
        # Shape per layer (the same in both variants), colour per variant.
        assert set(chart.markers_used) == {plotting.layer_marker(li) for li in range(len(LAYERS))}
        legend = pilot.app.query_one(ChartLegend)
        assert legend.display
        assert all(layer in str(legend.render()) for layer in LAYERS)
        finals = str(pilot.app.query_one(LossFinals).render())
        assert "v0" in finals and "v1" in finals


async def test_groups_without_data_are_skipped():
    async with LossApp().run_test(size=(120, 40)) as pilot:
        chart = pilot.app.query_one(LossChart)
        pilot.app.query_one(LossTab).draw(snapshot(train_records(grad_norms=False)))
        assert chart.groups == ["loss", "accuracy", "weight norms"]
        chart.focus()
        await pilot.press("m", "m", "m")
        assert chart.shown_group == "loss"


async def test_a_lesson_draws_as_before():
    async with LossApp().run_test(size=(120, 40)) as pilot:
        chart = pilot.app.query_one(LossChart)
        pilot.app.query_one(LossTab).draw(snapshot(lesson_records()))
        await pilot.pause()
        assert chart.groups == ["loss"]
        assert len(chart.series_points) == 6  # train, test and weight norm of both variants
        assert chart.title_text.startswith("loss · ") and "(m:" not in chart.title_text
        assert chart.check_action("cycle_group", ()) is False  # no m in the footer
        chart.focus()
        await pilot.press("m")
        assert len(chart.series_points) == 6


async def test_the_compared_run_has_its_own_shapes_and_the_legend_names_both_runs():
    base = [{**rec, "name": f"run #1 · {rec['name']}"} for rec in lesson_records()]
    other = [{**rec, "name": f"run #2 · {rec['name']}", "compared": True} for rec in lesson_records()]
    async with LossApp().run_test(size=(120, 40)) as pilot:
        chart = pilot.app.query_one(LossChart)
        pilot.app.query_one(LossTab).draw(snapshot(base + other))
        await pilot.pause()
        compared_shapes = {m for family in plotting.COMPARED_FAMILIES for m in family}
        shapes = dict(zip(chart.drawn_order, chart.markers_used))
        mine = {k: m for k, m in shapes.items() if k.startswith("run #1")}
        theirs = {k: m for k, m in shapes.items() if k.startswith("run #2")}
        assert len(mine) == len(theirs) == 6
        assert set(theirs.values()) <= compared_shapes and not set(mine.values()) & compared_shapes
        colors = {s.key: s.color for s in chart._series if s.key}
        assert colors["run #2 · weight decay/train_loss"] == plotting.dim_color(1)
        assert colors["run #1 · weight decay/train_loss"] == plotting.color(1)
        assert "the compared run" in chart.title_text
        finals = str(pilot.app.query_one(LossFinals).render())
        lines = finals.splitlines()
        assert any(line.endswith("run #1 · weight decay: train_loss 0.01") for line in lines)
        compared_line = next(line for line in lines if "run #2 · weight decay" in line)
        assert compared_line.startswith("".join(plotting.COMPARED_FAMILIES[1][:2]) + plotting.COMPARED_FAMILIES[1][2])
