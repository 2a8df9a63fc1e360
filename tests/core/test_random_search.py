"""Random search: --sample N draws points from ranges, the same points from the same seed.

The draws are checked against an independent computation with Python's ``random`` (the
algorithm docs/sweeps.md states), not against the code's own output.
"""

import math
import random
import shlex

import pytest

from regtui import scenario as sc
from regtui.specs import ConfigError


def _plan(name, sweeps, sample, seed=0, sets=()):
    scenario = sc.load(sc.find(name))
    return sc.plan(
        scenario, sc.parse_sets(scenario.spec, list(sets)), sc.parse_sweeps(scenario.spec, sweeps), seed, None, sample
    )


@pytest.mark.parametrize("seed", [0, 7, 123456])
def test_the_points_are_the_documented_draws_of_the_seed(seed):
    plan = _plan("digits-overfit", ["lr=log(1e-4,1e-1)", "dropout=uniform(0,0.6)"], 6, seed)
    rng = random.Random(seed)
    expected = []
    for _ in range(6):
        lr = 10 ** rng.uniform(math.log10(1e-4), math.log10(1e-1))
        expected.append((lr, rng.uniform(0.0, 0.6)))
    got = list(dict.fromkeys((r.params["lr"], r.params["dropout"]) for r in plan.runs))
    assert got == pytest.approx(expected, rel=1e-12)
    assert plan.sample == {"lr": "log(1e-4,1e-1)", "dropout": "uniform(0,0.6)"} and plan.points == 6


def test_a_choice_is_drawn_with_the_numbers_in_order():
    # the norms lesson takes norm and lr: a log range and a choice, drawn point by point
    plan = _plan("norms", ["lr=log(1e-4,1e-1)", "norm=choice(batch,group)"], 5, seed=11)
    rng = random.Random(11)
    expected = []
    for _ in range(5):
        lr = 10 ** rng.uniform(math.log10(1e-4), math.log10(1e-1))
        expected.append((lr, ("batch", "group")[rng.randrange(2)]))
    expected = list(dict.fromkeys(expected))
    got = list(dict.fromkeys((r.params["lr"], r.params["norm"]) for r in plan.runs))
    assert [g[1] for g in got] == [e[1] for e in expected]
    assert [g[0] for g in got] == pytest.approx([e[0] for e in expected], rel=1e-12)


def test_same_seed_same_points_other_seed_other_points():
    sweeps = ["weight_decay=log(1e-5,1e-1)", "hidden=uniform(4,64)"]
    a, b, c = (_plan("weight-decay", sweeps, 8, seed) for seed in (5, 5, 6))
    points = [[(r.params["weight_decay"], r.params["hidden"]) for r in p.runs] for p in (a, b, c)]
    assert points[0] == points[1] and points[0] != points[2]
    assert all(isinstance(h, int) and 4 <= h <= 64 for _, h in points[0])  # an integer parameter: rounded
    assert all(1e-5 <= w <= 1e-1 for w, _ in points[0])


def test_a_sample_table_is_the_command_line(write_toml):
    path = write_toml(
        'experiment = "weight-decay"\n[sample]\npoints = 4\nweight_decay = "log(1e-4, 1e-1)"\ndropout = [0.0, 0.5]\n'
    )
    from_file = sc.plan(sc.load(path), seed=2)
    scenario = sc.load(sc.find("weight-decay"))
    sweep = sc.parse_sweeps(scenario.spec, ["weight_decay=log(1e-4,1e-1)", "dropout=choice(0.0,0.5)"])
    from_cli = sc.plan(scenario, {}, sweep, 2, None, 4)
    assert [r.params for r in from_file.runs] == [r.params for r in from_cli.runs]


def test_the_replay_command_plans_the_same_points():
    plan = _plan("weight-decay", ["weight_decay=log(1e-4,1e-1)", "lr=choice(0.01,0.1)"], 5, seed=9)
    args = shlex.split(sc.replay_command(plan))
    assert args[args.index("--sample") + 1] == "5"
    sweeps = [args[i + 1] for i, a in enumerate(args) if a == "--sweep"]
    again = _plan("weight-decay", sweeps, 5, seed=int(args[args.index("--seed") + 1]))
    assert [r.params for r in again.runs] == [r.params for r in plan.runs]


def test_sampled_points_cross_a_grid_key():
    plan = _plan("norms", ["lr=log(1e-3,1e-1)", "norm=batch,layer"], 3, seed=1, sets=["batch=64"])
    assert len(plan.runs) == 6
    for norm in ("batch", "layer"):
        assert len({r.params["lr"] for r in plan.runs if r.params["norm"] == norm}) == 3


@pytest.mark.parametrize(
    "sweeps, sample, match",
    [
        (["weight_decay=log(0,1)"], 4, r"sample: weight_decay=log\(0,1\): log needs low > 0"),
        (["lr=uniform(0.1,0.01)"], 4, r"sample: lr=uniform\(0.1,0.01\): low must be below high"),
        (["lr=uniform(0.1)"], 4, r"uniform takes two numbers, low and high"),
        (["lr=normal(0,1)"], 4, r"sample: lr=normal\(0,1\) is not a range; write log\(low, high\)"),
        (["lr=log(1e-4,1e40)"], 4, r"lr: 1e\+40 is not allowed; expected a number > 0 and <= 1e\+30"),
        (["dropout=uniform(0,1)"], 4, r"dropout: 1.0 is not allowed; expected a number >= 0 and < 1"),
        (["lr=choice(0.1,,0.2)"], 4, r"has an empty value"),
        (["lr=log(1e-4,1e-1)"], None, r"--sweep lr=log\(1e-4,1e-1\) is a range; give --sample N"),
        (["lr=0.1,0.2"], 4, r"--sample: no range to draw from"),
        (["lr=log(1e-4,1e-1)"], 0, r"--sample: 0 is not allowed; expected an integer >= 1 and <= 1024"),
    ],
)
def test_bad_ranges_are_one_line_errors(sweeps, sample, match):
    with pytest.raises(ConfigError, match=match) as err:
        _plan("weight-decay", sweeps, sample)
    assert "\n" not in str(err.value)


def test_a_choice_range_of_a_choice_parameter_checks_its_values():
    with pytest.raises(ConfigError, match=r"norm: 'bn' is not allowed; expected one of batch"):
        _plan("norms", ["norm=choice(batch,bn)"], 3)
    with pytest.raises(ConfigError, match=r"sample: norm=log\(1,2\): norm is one of .*; draw it with choice"):
        _plan("norms", ["norm=log(1,2)"], 3)


@pytest.mark.parametrize(
    "table, match",
    [
        ('[sample]\nlr = "log(1e-4, 1e-1)"\n', r"sample: needs points = N"),
        ("[sample]\npoints = 3\n", r"sample: give at least one range"),
        ("[sample]\npoints = 3\nlr = 0.1\n", r"sample: lr must be a range such as"),
        ('[sample]\npoints = "x"\nlr = "log(1e-4, 1e-1)"\n', r"sample: points: 'x' is not an integer"),
    ],
)
def test_bad_sample_tables_name_the_problem(write_toml, table, match):
    with pytest.raises(ConfigError, match=match) as err:
        sc.load(write_toml('experiment = "weight-decay"\n' + table))
    assert "\n" not in str(err.value)


def test_a_stored_run_reruns_the_same_points(tmp_path):
    from regtui.store.replay import plan_record, rerun_options

    plan = _plan("weight-decay", ["weight_decay=log(1e-4,1e-1)", "lr=0.01,0.1"], 3, seed=4)
    opts = rerun_options(plan_record(plan, "cpu"), tmp_path, None)
    again = _plan(opts["name"], list(opts["sweeps"]), opts["sample"], seed=opts["seed"])
    assert [(r.variant, r.params) for r in again.runs] == [(r.variant, r.params) for r in plan.runs]


def test_headless_sample_runs_each_point_and_summarizes_them():
    import json

    from click.testing import CliRunner

    from regtui.cli import main

    args = ["--scenario", "weight-decay", "--json", "--no-save", "--device", "cpu", "--set", "iters=5"]
    args += ["--set", "hidden=4", "--sample", "3", "--sweep", "weight_decay=log(1e-4,1e-1)", "--seed", "8"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    rng = random.Random(8)
    drawn = [10 ** rng.uniform(-4, -1) for _ in range(3)]
    assert [v["params"]["weight_decay"] for v in doc["variants"]] == pytest.approx(drawn, rel=1e-12)
    assert doc["summary"]["sweep"]["keys"] == ["weight_decay"] and len(doc["summary"]["sweep"]["points"]) == 3
    bad = CliRunner().invoke(main, [*args[:-4], "--sample", "2", "--sweep", "weight_decay=log(1e-1,1e-4)"])
    assert bad.exit_code == 2 and "low must be below high" in bad.stderr and bad.stderr.count("\n") == 1
