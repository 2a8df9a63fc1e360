"""A choice swept from the form: typed into the sweep fields, run, and drawn by category."""

from __future__ import annotations

from regtui.app.widgets.sweep_chart import SweepChart

from .conftest import app_for
from .driver import Dashboard
from .screen_text import screen_lines

WIDE = (120, 40)


async def test_a_typed_choice_sweep_runs_each_value_and_draws_categories():
    app = app_for(file="bn")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(depth="4", width="8", train_steps="3")
        await dash.type_into("sweep_key", "init")
        await dash.type_into("sweep_values", "normal,kaiming")
        assert not dash.form.errors
        assert dash.plan.sweep == {"init": ("normal", "kaiming")}
        assert {r.params["init"] for r in dash.plan.runs} == {"normal", "kaiming"}
        await dash.type_into("sweep_values", "normal,he")
        assert dash.plan is None and "'he' is not allowed" in dash.form.errors["sweep_values"]
        await dash.type_into("sweep_values", "normal,kaiming")
        await pilot.press("escape")  # leave the field so "r" is a key, not a letter
        await dash.run_to_end()
        assert dash.run.status == "done"
        dash.show_view("sweep")
        await pilot.pause(0.2)
        chart = app.main.query_one(SweepChart)
        assert "by category" in chart.title_text
        assert chart.series_points and all(n == 2 for n in chart.series_points.values())
        text = "\n".join(screen_lines(app))
        assert "normal" in text and "kaiming" in text  # the categories label the x axis
        assert "--sweep init=normal,kaiming" in app.main.query_one("#replay").command
