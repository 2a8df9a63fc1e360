"""The command line under the views is always the CLI command of the form (issue 18, item 9b):
edits of seed, seeds and the sweep fields show in it, before and after a run, and the command,
parsed by the CLI itself, plans exactly what the form plans."""

from __future__ import annotations

import shlex

from regtui import scenario as sc
from regtui.app.widgets.replay_line import ReplayLine
from regtui.cli import main
from regtui.specs import MAX_MODELS, SEED_MAX, parse_count

from .conftest import app_for
from .driver import Dashboard

WIDE = (120, 40)


def cli_plan(command: str) -> sc.Plan:
    """The plan the CLI makes of ``command`` (click parses it; then as the headless run does)."""
    argv = shlex.split(command)
    assert argv[0] == "regtui"
    params = main.make_context("regtui", argv[1:]).params
    scenario = sc.load(sc.find(params["scenario"]))
    seeds = params["seeds"]
    return sc.plan(
        scenario,
        sc.parse_sets(scenario.spec, params["sets"]),
        sc.parse_sweeps(scenario.spec, params["sweeps"]),
        parse_count("--seed", params["seed"], 0, SEED_MAX),
        None if seeds is None else parse_count("--seeds", seeds, 1, MAX_MODELS),
    )


def models(plan: sc.Plan) -> list[tuple[str, int, dict]]:
    return [(r.variant, r.seed, r.params) for r in plan.runs]


def line(app) -> tuple[str, str]:
    """(prefix, command) of the command line."""
    widget = app.main.query_one(ReplayLine)
    return str(widget.render()).split(" ", 1)[0], widget.command


def check_reproduces_the_form(app) -> sc.Plan:
    dash = Dashboard.of(app)
    plan = dash.plan
    assert plan is not None, dash.form_error
    again = cli_plan(line(app)[1])
    assert models(again) == models(plan)
    assert (again.seed, again.seeds, again.sweep) == (plan.seed, plan.seeds, plan.sweep)
    return plan


async def test_seeds_and_sweep_edits_show_in_the_command():
    app = app_for(file="dropout-sweep")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert len(check_reproduces_the_form(app).runs) == 7
        await dash.set_fields(seed="4", seeds="2")
        assert "--seed 4 --seeds 2" in line(app)[1]
        assert len(check_reproduces_the_form(app).runs) == 14
        # the sweep cleared: one model, with the dropout field's value
        await dash.set_fields(seeds="1", sweep_key="", sweep_values="", dropout="0.3")
        plan = check_reproduces_the_form(app)
        assert [(r.variant, r.params["dropout"]) for r in plan.runs] == [("dropout=0.3", 0.3)]
        assert "--sweep" not in line(app)[1]
        # another key swept instead of the file's: that sweep alone
        await dash.set_fields(sweep_key="lr", sweep_values="0.1,0.01")
        plan = check_reproduces_the_form(app)
        assert plan.sweep == {"lr": (0.1, 0.01)} and len(plan.runs) == 2
        assert "--sweep lr=0.1,0.01" in line(app)[1]
        # the file's own sweep again: the command is the bare one
        await dash.set_fields(sweep_key="dropout", sweep_values="0.0,0.1,0.2,0.3,0.4,0.5,0.6", dropout="0.0")
        assert check_reproduces_the_form(app).sweep == {"dropout": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)}
        assert line(app) == ("cli:", "regtui --scenario dropout-sweep --seed 4 --device cpu --json")


async def test_after_a_run_the_command_follows_the_form():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="20", hidden="8")
        await pilot.press("escape")
        await dash.run_to_end()
        ran = line(app)
        assert ran[0] == "replay:" and ran[1] == sc.replay_command(dash.run.plan, "cpu")
        await dash.set_fields(seeds="3")
        prefix, command = line(app)
        assert prefix == "cli:" and "--seeds 3" in command
        check_reproduces_the_form(app)
        await dash.set_fields(sweep_key="lr", sweep_values="0.1,0.01")
        assert "--sweep lr=0.1,0.01" in line(app)[1]
        check_reproduces_the_form(app)
        await dash.set_fields(seeds="1", sweep_key="", sweep_values="")  # back to what ran
        assert line(app) == ran
