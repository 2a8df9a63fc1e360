"""Sweeps typed into the form: a choice (drawn by category), a factory's argument, random search."""

from __future__ import annotations

import math
import random

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


async def test_random_search_typed_as_a_range_and_its_points():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="10", hidden="4", seed="5")
        await dash.type_into("sweep_key", "weight_decay")
        await dash.type_into("sweep_values", "log(1e-4,1e-1)")
        assert dash.plan is None and "say how many: log(1e-4,1e-1)*8" in dash.form.errors["sweep_values"]
        await dash.type_into("sweep_values", "log(1e-4,1e-1)*3")
        assert not dash.form.errors
        rng = random.Random(5)
        drawn = [10 ** rng.uniform(math.log10(1e-4), math.log10(1e-1)) for _ in range(3)]
        assert list(dash.plan.sweep["weight_decay"]) == drawn
        await pilot.press("escape")
        await dash.run_to_end()
        assert dash.run.status == "done"
        assert "--sample 3 --sweep 'weight_decay=log(1e-4,1e-1)'" in app.main.query_one("#replay").command
        dash.show_view("sweep")
        await pilot.pause(0.2)
        chart = app.main.query_one(SweepChart)
        assert chart.series_points and all(n == 3 for n in chart.series_points.values())


FACTORY = """
from torch import nn

def make(width=8):
    return nn.Sequential(nn.Flatten(), nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))
"""

SCENARIO = """
experiment = "train"
[params]
steps = 4
batch = 16
log_every = 2
[model]
factory = "net.py:make"
[model.args]
width = 16
[data]
source = "digits"
"""


async def test_a_factory_argument_is_a_field_and_sweeps(tmp_path):
    (tmp_path / "net.py").write_text(FACTORY, encoding="utf-8")
    (tmp_path / "mine.toml").write_text(SCENARIO, encoding="utf-8")
    app = app_for(file=str(tmp_path / "mine.toml"))
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert dash.field("width").value == "16"
        await dash.type_into("sweep_key", "width")
        await dash.type_into("sweep_values", "4,32")
        assert dash.plan.sweep == {"width": (4, 32)}
        await dash.type_into("sweep_key", "norm")  # the factory takes no norm: not a parameter here
        assert "norm: the model factory 'net.py:make' takes no norm argument" in dash.form.errors["sweep_key"]
        await dash.type_into("sweep_key", "width")
        await pilot.press("escape")
        await dash.run_to_end()
        assert dash.run.status == "done"
        finals = [dash.collector.variant_record(n)["final"]["parameters"] for n in ("width=4", "width=32")]
        assert finals == [64 * w + w + w * 10 + 10 for w in (4, 32)]
