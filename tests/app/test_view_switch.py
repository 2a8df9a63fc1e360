"""Switching views after a run: the new view shows the run's data at the first frame after the key
(it is drawn before that frame, not when its TabActivated message comes, and its tables are not
held back by a leaving hint); switching back reuses the drawn frame; the footer is rebuilt only
when its keys change. And the status line's rate counts every model of a stacked run."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import TabbedContent

from regtui.app.widgets.keys_footer import KeysFooter
from regtui.app.widgets.loss_chart import LossChart

from .conftest import app_for, key
from .driver import Dashboard
from .screen_text import screen_text

PLACEHOLDERS = (
    "run the scenario to see it",
    "waiting for data",
    "appear here",  # the table views' hints ("Results of the scenario's demonstrations appear here…")
)


async def first_frame(app) -> None:
    """Until the screen's next refresh is out."""
    done = asyncio.get_running_loop().create_future()
    app.call_after_refresh(lambda: done.done() or done.set_result(None))
    await asyncio.wait_for(done, 10)


async def tab_through(pilot) -> list[str]:
    """Press tab through every view; at the first frame after each key, the view shows its data.
    Returns the views visited."""
    app = pilot.app
    screen = app.main
    views = screen.visible_views()
    visited = []
    for _ in views:
        target = views[(views.index(screen.active_view) + 1) % len(views)]
        key(app, "tab")  # as the terminal sends it: no Pilot wait for idle
        while screen.active_view != target:
            await asyncio.sleep(0)
        # The key's handler has run: the view is drawn from the run's data already, before a frame.
        view = screen.views[target]
        assert screen.view_is_current(target) and view.settled(), target
        await first_frame(app)
        chart = view.chart()
        if chart is not None:
            assert not any(p in chart.title_text for p in PLACEHOLDERS), (target, chart.title_text)
        text = screen_text(app)
        assert not any(p in text for p in PLACEHOLDERS), (target, text)
        visited.append(target)
        await pilot.pause(0.05)
    return visited


@pytest.mark.parametrize(
    ("scenario", "fields"),
    [
        ("weight-decay-sweep", {"iters": "20"}),
        ("bn", {"train_steps": "2"}),
        ("digits-norms", {"steps": "4", "log_every": "2"}),
    ],
)
async def test_every_view_shows_its_data_at_the_first_frame_after_tab(scenario, fields):
    app = app_for(file=scenario)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.set_fields(**fields)
        await dash.run_to_end(timeout=120)
        visited = await tab_through(pilot)
        expected = {"loss", "results", "explain"} | ({"layers"} if scenario != "weight-decay-sweep" else {"fit"})
        assert expected <= set(visited), visited


async def test_switching_back_reuses_the_drawn_chart_and_footer():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.set_fields(iters="20")
        await dash.run_to_end()
        tabs = app.main.query_one(TabbedContent)
        tabs.active = "tab-loss"
        await pilot.pause(0.3)
        chart = app.main.query_one(LossChart)
        renders = chart.renders
        for view in ("results", "worked", "loss"):
            tabs.active = f"tab-{view}"
            await pilot.pause(0.3)
        assert chart.renders == renders, "no new plotext build: the data did not change"
        footer = app.main.query_one(KeysFooter)
        tabs.active = "tab-results"
        await pilot.pause(0.3)
        rebuilds = footer.rebuilds
        tabs.active = "tab-worked"  # the same keys (no chart): the footer stays as it is
        await pilot.pause(0.3)
        assert footer.rebuilds == rebuilds
        tabs.active = "tab-loss"  # the chart keys come: rebuilt once
        await pilot.pause(0.3)
        assert footer.rebuilds == rebuilds + 1


async def test_the_rate_counts_every_model_of_a_stacked_run():
    app = app_for(file="dropout-sweep")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.set_fields(iters="60")
        await dash.run_to_end()
        state = dash.run
        models = len(state.plan.runs)
        assert models == 7  # trained side by side, one stack: each step is 7 model-steps
        progress = state.collector.progress
        assert progress.step == progress.total == models * 60
        info = state.status_info()
        assert info.rate is not None and info.elapsed
        assert info.rate * info.elapsed == pytest.approx(models * 60)
        status = dash.status_text()
        assert f"{info.rate:,.0f} model-steps/s" in status
