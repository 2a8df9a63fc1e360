"""The chart keys (m, v, h, t) act on the visible view's chart wherever the focus is, except in a
text field (where they type); the footer lists them while the visible view has a chart. And the
legends: a compared run of many variants, the norms group's, the fit's order."""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Footer, Input, TabbedContent

from regtui.app import plotting
from regtui.app.views.fit import FitTab
from regtui.app.views.loss import LossFinals, LossTab
from regtui.app.widgets.chart_legend import ChartLegend
from regtui.app.widgets.fit_chart import FitChart
from regtui.app.widgets.loss_chart import LossChart

from .conftest import app_for, key, wait_until
from .driver import Dashboard
from .screen_text import screen_lines
from .test_metric_groups import lesson_records, snapshot, train_records


def footer_keys(app) -> set[str]:
    """The keys the footer shows (with their descriptions)."""
    screen = app.screen
    return {binding.key for _, binding, enabled, _ in screen.active_bindings.values() if enabled and binding.show}


def next_focus(current: int | None, count: int) -> int | None:
    """The variant v focuses after ``current`` (all, then each one, then all again)."""
    nxt = 0 if current is None else current + 1
    return None if nxt >= count else nxt


async def run_norms(pilot) -> None:
    dash = Dashboard(pilot)
    await dash.set_fields(steps="4", log_every="2")
    await dash.run_to_end(timeout=120)
    await wait_until(lambda: len(pilot.app.main.query_one(LossChart).groups) > 1, 30)


async def test_chart_keys_act_without_focusing_the_chart():
    app = app_for(file="digits-norms")
    async with app.run_test(size=(120, 40)) as pilot:
        await run_norms(pilot)
        screen = app.main
        chart = screen.query_one(LossChart)
        assert screen.active_view == "loss" and screen.focused is not chart
        assert {"m", "v", "h", "t"} <= footer_keys(app)
        first = chart.shown_group
        await pilot.press("m")
        assert chart.shown_group != first and chart.shown_group == chart.groups[1]
        await pilot.press("escape", "m")  # Escape first (out of any field), then m: still acts
        assert chart.shown_group == chart.groups[2 % len(chart.groups)]
        was = chart.focus_variant
        await pilot.press("v")
        assert chart.focus_variant == next_focus(was, len(chart.variant_names)) is not None
        await pilot.press("h")
        assert chart.variant_names[chart.focus_variant] in chart.hidden
        while chart.shown_group != plotting.LOSS_GROUP:  # t acts where train and test are drawn
            await pilot.press("m")
        await pilot.press("h", "t")
        assert not chart.hidden and chart.split == "train"


async def test_chart_keys_in_a_burst_and_in_a_field():
    app = app_for(file="digits-norms")
    async with app.run_test(size=(120, 40)) as pilot:
        await run_norms(pilot)
        screen = app.main
        chart = screen.query_one(LossChart)
        groups = list(chart.groups)
        was = chart.focus_variant
        # Keys sent without pauses (a paste, SSH): every one acts.
        for name in ("t", "m", "m", "v"):  # t first: on the loss group, where train and test are drawn
            key(app, name, name)
        await wait_until(lambda: chart.split == "train", 10)
        assert chart.shown_group == groups[2 % len(groups)]
        assert chart.focus_variant == next_focus(was, len(chart.variant_names))
        # In a text field the letters are text.
        field = screen.form.query_one("#field-steps", Input)
        screen.set_focus(field)
        await pilot.pause()
        assert not {"m", "v", "h", "t"} & footer_keys(app)
        before = (chart.shown_group, chart.focus_variant, chart.split)
        field.action_end()
        await pilot.press("m", "v", "h", "t")
        assert field.value.endswith("mvht")
        assert (chart.shown_group, chart.focus_variant, chart.split) == before


async def test_the_footer_lists_chart_keys_only_where_a_chart_is_shown():
    app = app_for(file="digits-norms")
    async with app.run_test(size=(120, 40)) as pilot:
        await run_norms(pilot)
        screen = app.main
        tabs = screen.query_one(TabbedContent)
        without = [name for name in screen.visible_views() if screen.views[name].chart() is None]
        assert without, screen.visible_views()
        tabs.active = f"tab-{without[0]}"
        await pilot.pause()
        assert not {"m", "v", "h", "t"} & footer_keys(app)
        assert screen.query_one(Footer)
        tabs.active = "tab-loss"
        await pilot.pause()
        assert {"m", "v"} <= footer_keys(app)


class LossApp(App[None]):
    def compose(self) -> ComposeResult:
        with TabbedContent():
            yield LossTab("loss")


def named(records: list[dict[str, Any]], label: str, names: list[str], compared: bool) -> list[dict[str, Any]]:
    base = records[0]
    extra = {"compared": True} if compared else {}
    return [{**base, "name": f"{label} · {name}", **extra} for name in names]


SWEEP = [f"weight_decay={v}" for v in ("0", "0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "1")]


async def test_a_compared_run_of_eight_variants_has_a_shape_each_and_a_full_legend():
    base = named(lesson_records(), "run #1", ["weight_decay=0", "weight_decay=0.01"], False)
    other = named(lesson_records(), "run #2", SWEEP, True)
    for size in ((120, 40), (80, 40)):
        async with LossApp().run_test(size=size) as pilot:
            pilot.app.query_one(LossTab).draw(snapshot(base + other))
            await pilot.pause()
            chart = pilot.app.query_one(LossChart)
            while chart.focus_variant is not None:  # ten variants open with one in focus: v to all of them
                chart.action_cycle_variant()
            await pilot.pause()
            shapes = dict(zip(chart.drawn_order, chart.markers_used))
            theirs = {k: m for k, m in shapes.items() if k.startswith("run #2")}
            assert len(theirs) == 8 * 3 and len(set(theirs.values())) == 8 * 3  # no shape reused
            mine = {m for k, m in shapes.items() if k.startswith("run #1")}
            assert not mine & set(theirs.values())
            finals = pilot.app.query_one(LossFinals)
            shown = "\n".join(screen_lines(pilot.app)[finals.region.y : finals.region.bottom])
            for name in ["weight_decay=0", "weight_decay=0.01"]:
                assert f"run #1 · {name}" in shown
            for name in SWEEP:
                assert f"run #2 · {name}" in shown, (size, name, shown)
            assert plotting.marker(7, 0, compared=True) in shown


async def test_the_norms_legend_says_layers_by_shape_and_variants_by_colour():
    async with LossApp().run_test(size=(120, 40)) as pilot:
        tab = pilot.app.query_one(LossTab)
        chart = pilot.app.query_one(LossChart)
        chart.group = "weight norms"
        tab.draw(snapshot(train_records(6)))
        await pilot.pause()
        assert chart.layer_group and "shape per layer" in chart.title_text
        finals = str(pilot.app.query_one(LossFinals).render())
        assert "shape per variant" not in finals
        assert "colour per variant, shape per layer" in finals
        assert "no colour" not in finals  # the terminal has colour
        legend = str(pilot.app.query_one(ChartLegend).render())
        assert "1.linear" in legend and "7.linear" in legend


async def test_without_colour_the_norms_legend_says_how_to_tell_variants_apart():
    app = LossApp()
    app.no_color = True
    async with app.run_test(size=(120, 40)) as pilot:
        tab = pilot.app.query_one(LossTab)
        chart = pilot.app.query_one(LossChart)
        chart.group = "weight norms"
        tab.draw(snapshot(train_records(6)))
        await pilot.pause()
        finals = str(pilot.app.query_one(LossFinals).render())
        assert "no colour: v shows one variant's shapes" in finals
        # Six variants: the first is focused; only it keeps the layers' shapes (the others are thin lines).
        assert chart.focus_variant == 0
        assert chart.visible_marks and all(k.startswith("v0/") for k, n in chart.visible_marks.items() if n)


async def test_the_fit_legend_keeps_the_variant_order_whatever_is_focused():
    records = [
        {"name": name, "curves": {"fit": {"x": [0.0, 1.0], "y": [float(i), i + 1.0]}}, "series": {}}
        for i, name in enumerate(["weight_decay=0", "weight_decay=0.01", "weight_decay=1"])
    ]
    data = {"train": {"x": [0.1], "y": [1.0]}, "test": {"x": [0.3], "y": [1.5]}}

    class FitApp(App[None]):
        def compose(self) -> ComposeResult:
            with TabbedContent():
                yield FitTab("fit")

    async with FitApp().run_test(size=(120, 40)) as pilot:
        tab = pilot.app.query_one(FitTab)
        chart = pilot.app.query_one(FitChart)
        snap = dataclasses.replace(snapshot(records), summary={"data": data})
        tab.draw(snap)
        chart.focus()
        for focus in (None, 0, 1, 2):
            await pilot.pause()
            labels = [label for _, _, label in chart.legend_items]
            assert labels == [r["name"] for r in records] + ["train data", "test data"], (focus, labels)
            assert chart.focus_variant == focus
            await pilot.press("v")
            tab.draw(snap)
        legend = str(pilot.app.query_one(ChartLegend).render())
        assert legend.index("weight_decay=0 ") < legend.index("weight_decay=1 ")


class LegendApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ChartLegend(id="legend")


async def test_a_legend_breaks_lines_between_items_never_inside_one():
    names = ["default init", "normal init · inf/NaN at layer 37", "kaiming init", "batchnorm"]
    items = [(plotting.marker(vi, slot), plotting.color(vi), f"{name}{' · step 80' if slot else ''}")
             for vi, name in enumerate(names) for slot in (0, 1)]  # fmt: skip
    markers = {marker for marker, _, _ in items}
    for width in (56, 62, 80, 118):  # every item fits on a line of its own
        app = LegendApp()
        async with app.run_test(size=(width, 12)) as pilot:
            legend = app.query_one(ChartLegend)
            legend.show(items)
            await pilot.pause()
            lines = [line.strip() for line in str(legend.render()).splitlines() if line.strip()]
            assert all(line[0] in markers for line in lines), (width, lines)  # every line starts with a marker
            assert all(len(line) <= width - 2 for line in lines)
            assert sum(line.count(m) for line in lines for m in markers) == len(items)
            for _, _, label in items:
                assert any(label in line for line in lines), (width, label)


async def test_chart_choices_do_not_carry_over_to_another_scenario():
    """v, h and t (and m) chose among one scenario's variants; picking another starts from the defaults."""
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await dash.set_fields(iters="20", hidden="8")
        await pilot.press("escape")
        await dash.run_to_end()
        chart = app.main.query_one(LossChart)
        await pilot.press("v", "h", "t")
        assert chart.hidden and chart.split == "train"
        await dash.pick("dropout")
        await pilot.pause()
        assert (chart.focus_variant, chart.hidden, chart.split, chart.group) == (
            None,
            set(),
            "both",
            plotting.LOSS_GROUP,
        )


async def test_the_layers_chart_offers_no_train_test_key():
    """Activations have no train/test split: t is not in Layers' footer, and pressing it changes nothing."""
    from regtui.app.widgets.layers_chart import LayersChart

    app = app_for(file="bn")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await dash.set_fields(train_steps="5")
        await pilot.press("escape")
        await dash.run_to_end()
        app.main.query_one(TabbedContent).active = "tab-layers"
        chart = app.main.query_one(LayersChart)
        await wait_until(lambda: bool(chart.variant_names), 30)
        keys = footer_keys(app)
        assert "v" in keys and "t" not in keys
        title = chart.choice_note()
        await pilot.press("t")
        assert chart.split == "both" and chart.choice_note() == title
        await pilot.press("v")
        assert chart.legend_note().startswith("in focus:") and "t:" not in chart.legend_note()


async def test_t_is_offered_only_where_the_loss_chart_has_train_and_test_series():
    """norms' Loss view draws train losses only: t would only empty it, so the chart does not offer it."""
    both = lesson_records()
    train_only = [{**r, "series": {k: v for k, v in r["series"].items() if k != "test_loss"}} for r in both]
    async with LossApp().run_test(size=(120, 40)) as pilot:
        chart = pilot.app.query_one(LossChart)
        pilot.app.query_one(LossTab).draw(snapshot(train_only))
        await pilot.pause()
        assert chart.variant_names and not chart.check_action("cycle_split", ())
        assert "t:" not in chart.legend_note()
        pilot.app.query_one(LossTab).draw(snapshot(both))
        await pilot.pause()
        assert chart.check_action("cycle_split", ())
        chart.action_cycle_split()  # train only: still offered, to come back to both
        await pilot.pause()
        assert chart.split == "train" and chart.check_action("cycle_split", ())
