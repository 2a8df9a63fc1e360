"""Charts of many variants (a sweep of 8: up to 21 series) are readable as they open: one variant
in focus keeps its shapes and colour, the others are faint thin lines without markers, and the
legend says so and names the keys; ``v`` reaches every variant in turn and then all of them in
shapes, ``h`` hides the focused one, ``t`` picks train or test."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import TabbedContent

from regtui.app import plotting
from regtui.app.views.fit import FitTab
from regtui.app.views.loss import LossFinals, LossTab
from regtui.app.widgets.chart import DENSE
from regtui.app.widgets.chart_legend import ChartLegend
from regtui.app.widgets.fit_chart import FitChart
from regtui.app.widgets.loss_chart import LossChart

from .conftest import app_for
from .driver import Dashboard
from .screen_text import screen_text
from .test_metric_groups import snapshot

VARIANTS = 8
SIZES = [(120, 40), (80, 24)]


def records(n: int = VARIANTS) -> list[dict[str, Any]]:
    """``n`` variants whose train and test losses are apart from each other's."""
    steps = list(range(0, 200, 10))
    return [
        {
            "name": f"wd={vi}",
            "series": {
                "step": steps,
                "train_loss": [1.0 / (s + 1) + vi for s in steps],
                "test_loss": [2.0 / (s + 1) + vi + 0.5 for s in steps],
            },
            "final": {"train_loss": 0.01 + vi, "test_loss": 0.5 + vi},
            "curves": {"fit": {"x": [-1.0, 0.0, 1.0], "y": [vi, vi + 0.5, vi + 1.0]}},
        }
        for vi in range(n)
    ]


DATA = {"train": {"x": [-0.5, 0.5], "y": [1.0, 2.0]}, "test": {"x": [0.0], "y": [1.5]}}


class Views(App[None]):
    def compose(self) -> ComposeResult:
        with TabbedContent():
            yield LossTab("loss")
            yield FitTab("fit")


def marked(chart) -> set[str]:
    """The series drawn with markers in the last frame."""
    return {key for key, count in chart.visible_marks.items() if count}


def test_a_sweep_is_dense():
    assert VARIANTS > DENSE  # the case of this file: more variants than the chart shows in shapes at once


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_eight_variants_open_with_one_in_shapes_and_the_rest_faint(size):
    async with Views().run_test(size=size) as pilot:
        pilot.app.query_one(LossTab).draw(snapshot(records()))
        await pilot.pause()
        chart = pilot.app.query_one(LossChart)
        assert chart.focus_variant == 0
        assert marked(chart) == {"wd=0/train_loss", "wd=0/test_loss"}
        # Every series is still drawn (the others as faint thin lines): nothing vanished.
        assert len(chart.series_points) == 2 * VARIANTS
        assert len(chart.markers_used) == 2
        note = chart.legend_note()
        assert "v: next variant" in note and "h: hide" in note and "t: train/test" in note
        assert f"{VARIANTS - 1} others faint" in note
        text = screen_text(pilot.app)
        assert "v: next variant" in text
        finals = str(pilot.app.query_one(LossFinals).render())
        assert "●○ wd=0" in finals and "·· wd=7" in finals  # the legend marks the faint ones as lines


async def test_v_h_and_t_reach_every_series():
    async with Views().run_test(size=(120, 40)) as pilot:
        pilot.app.query_one(LossTab).draw(snapshot(records()))
        await pilot.pause()
        chart = pilot.app.query_one(LossChart)
        chart.focus()
        for vi in range(1, VARIANTS):
            await pilot.press("v")
            assert chart.focus_variant == vi
            assert marked(chart) == {f"wd={vi}/train_loss", f"wd={vi}/test_loss"}
            assert chart.drawn_order[-1].startswith(f"wd={vi}/")  # on top of the faint ones
        await pilot.press("v")  # after the last: all of them in shapes
        assert chart.focus_variant is None and chart.legend_note() == ""
        assert len(marked(chart)) == 2 * VARIANTS
        assert len(set(chart.markers_used)) == 2 * VARIANTS  # a shape each
        await pilot.press("t")
        assert chart.split == "train" and set(chart.series_points) == {f"wd={vi}/train_loss" for vi in range(VARIANTS)}
        await pilot.press("t")
        assert set(chart.series_points) == {f"wd={vi}/test_loss" for vi in range(VARIANTS)}
        await pilot.press("t", "v", "h")  # both again; focus wd=0 and hide it
        assert "wd=0" in chart.hidden and not any(k.startswith("wd=0/") for k in chart.series_points)
        assert len(chart.series_points) == 2 * (VARIANTS - 1)
        assert "wd=0 (hidden: h shows it), 7 others faint" in chart.legend_note()
        await pilot.press("v")
        assert "in focus: wd=1, 6 others faint" in chart.legend_note()


async def test_the_fit_of_eight_variants_shows_one_curve_and_the_data_in_shapes():
    async with Views().run_test(size=(120, 40)) as pilot:
        pilot.app.query_one(TabbedContent).active = "tab-fit"
        tab = pilot.app.query_one(FitTab)
        tab.draw(dataclasses.replace(snapshot(records()), summary={"data": DATA}))
        await pilot.pause()
        chart = pilot.app.query_one(FitChart)
        assert marked(chart) == {"wd=0/fit", "data/train", "data/test"}
        assert len(chart.series_points) == VARIANTS + 2
        legend = pilot.app.query_one("#fit-legend", ChartLegend)
        text = str(legend.render())
        assert "v: next variant" in text
        assert f"{plotting.marker(0, 0)} wd=0" in text and "· wd=7" in text
        chart.focus()
        await pilot.press("v")  # the legend follows the keys
        await pilot.pause()
        text = str(legend.render())
        assert f"{plotting.marker(1, 0)} wd=1" in text and "· wd=0" in text


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_weight_decay_sweep_opens_readable(size):
    app = app_for(file="weight-decay-sweep")
    async with app.run_test(size=size) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="20")
        await pilot.press("escape")
        await dash.run_to_end()
        dash.show_view("loss")
        await pilot.pause(0.3)
        chart = app.main.query_one(LossChart)
        assert len(chart.variant_names) == VARIANTS and chart.focus_variant == 0
        assert marked(chart) == {"weight_decay=0/train_loss", "weight_decay=0/test_loss"}
        assert "v: next variant" in screen_text(app)
