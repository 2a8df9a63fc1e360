"""Editing a value the variants define keeps the comparison: one value per variant."""

from __future__ import annotations

import shlex

from regtui import scenario as sc

from .conftest import app_for
from .driver import Dashboard

WIDE = (120, 40)


async def test_per_variant_values_keep_the_comparison_and_the_replay_reproduces_it():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert dash.plan.sets == {}
        await dash.type_into("weight_decay", "0, 0.05")
        plan = dash.plan
        assert plan is not None
        # "weight decay" was named for 0.01: edited, it is labelled by the value it runs with
        assert [(r.variant, r.params["weight_decay"]) for r in plan.runs] == [
            ("no weight decay", 0.0),
            ("weight_decay=0.05", 0.05),
        ]
        replay = app.main.query_one("#replay").command
        assert "--set weight_decay=0.0,0.05" in replay
        # the replay line, parsed as the CLI parses it, plans exactly what the form planned
        argv = shlex.split(replay)
        sets = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
        scenario = sc.load(sc.find("weight-decay"))
        again = sc.plan(scenario, sc.parse_sets(scenario.spec, sets))
        assert [(r.variant, r.params) for r in again.runs] == [(r.variant, r.params) for r in plan.runs]


async def test_a_wrong_count_of_per_variant_values_is_refused_inline():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.type_into("weight_decay", "0, 0.05, 1")
        assert dash.plan is None
        assert "3 values for 2 variants" in (dash.form_error or "")


def test_cli_per_variant_set():
    scenario = sc.load(sc.find("weight-decay"))
    plan = sc.plan(scenario, sc.parse_sets(scenario.spec, ["weight_decay=0,0.05"]))
    assert [r.params["weight_decay"] for r in plan.runs] == [0.0, 0.05]
    assert sc.replay_command(plan).count("--set weight_decay=0.0,0.05") == 1
    single = sc.plan(scenario, sc.parse_sets(scenario.spec, ["weight_decay=0.05"]))  # unchanged meaning
    assert [r.params["weight_decay"] for r in single.runs] == [0.05]
