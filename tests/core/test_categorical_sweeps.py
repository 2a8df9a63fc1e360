"""Sweeping choices and flags (norm, init, batchnorm, optimizer): planned, labelled and summarized.

The engines' side (each run trains with its value) is tested in tests/custom/test_categorical_sweeps.py
and the dashboard's in tests/app/test_categorical_sweep_form.py.
"""

import pytest

from regtui import scenario as sc
from regtui.specs import ConfigError
from regtui.text_report import text_report
from regtui.variant_record import sweep_summary


@pytest.mark.parametrize(
    "name, item, key, values",
    [
        ("norms", "norm=batch,layer,group,instance", "norm", ("batch", "layer", "group", "instance")),
        ("bn", "init=default,normal,kaiming", "init", ("default", "normal", "kaiming")),
        ("bn", "batchnorm=true,false", "batchnorm", (True, False)),
        ("digits-norms", "optimizer=sgd,adamw", "optimizer", ("sgd", "adamw")),
    ],
)
def test_every_value_of_a_choice_or_flag_runs(name, item, key, values):
    scenario = sc.load(sc.find(name))
    sweep = sc.parse_sweeps(scenario.spec, [item])
    assert sweep == {key: values}
    plan = sc.plan(scenario, {}, sweep)
    # every planned model runs with one of the values, and each value is run
    assert {r.params[key] for r in plan.runs} == set(values)
    per_value = [sum(r.params[key] == v for r in plan.runs) for v in values]
    assert len(set(per_value)) == 1 and per_value[0] * len(values) == len(plan.runs)


def test_two_keys_form_a_grid_and_labels_write_flags_as_typed():
    scenario = sc.load(sc.find("bn"))
    sweep = sc.parse_sweeps(scenario.spec, ["init=normal,kaiming", "batchnorm=true,false"])
    plan = sc.plan(scenario, {}, sweep)
    points = {(r.params["init"], r.params["batchnorm"]) for r in plan.runs}
    assert points == {("normal", True), ("normal", False), ("kaiming", True), ("kaiming", False)}
    assert "init=kaiming, batchnorm=false" in plan.variant_names
    assert "--sweep init=normal,kaiming --sweep batchnorm=true,false" in sc.replay_command(plan)


def test_sweeping_a_choice_the_variants_set_labels_every_point_alike():
    """norms' variants are named for their norm ("BatchNorm · batch 2"): swept over norm, that name holds
    for one point only, so every point is labelled by the values it runs with (one format for all)."""
    scenario = sc.load(sc.find("norms"))
    plan = sc.plan(scenario, {}, sc.parse_sweeps(scenario.spec, ["norm=batch,group"]))
    labels = {(r.params["batch"], r.params["norm"]): r.variant for r in plan.runs}
    assert labels == {(b, n): f"batch={b} · norm={n}" for b in (2, 64) for n in ("batch", "group")}


def test_a_sweep_table_takes_choices(write_toml):
    path = write_toml('experiment = "norms"\n[sweep]\nnorm = ["layer", "group"]\n')
    assert sc.load(path).sweep == {"norm": ("layer", "group")}


@pytest.mark.parametrize(
    "item, match",
    [
        ("norm=batch,,layer", r"sweep: norm='batch,,layer' has an empty value; write e.g. norm=batch,layer"),
        ("norm=batch,bacth", r"norm: 'bacth' is not allowed; expected one of batch, layer, instance, group"),
    ],
)
def test_bad_categorical_values_are_one_line_errors(item, match):
    scenario = sc.load(sc.find("norms"))
    with pytest.raises(ConfigError, match=match) as err:
        sc.parse_sweeps(scenario.spec, [item])
    assert "\n" not in str(err.value)


def _record(name, params, test_loss):
    return {"name": name, "params": params, "final": {"train_loss": 0.1, "test_loss": test_loss}}


def test_the_summary_and_its_table_keep_categories():
    variants = [
        _record("norm=batch", {"norm": "batch", "lr": 0.1}, 0.5),
        _record("norm=layer", {"norm": "layer", "lr": 0.1}, 0.25),
        _record("big lr · norm=batch", {"norm": "batch", "lr": 1.0}, 0.75),
    ]
    summary = sweep_summary({"norm": ("batch", "layer")}, variants)
    assert [p["values"] for p in summary["points"]] == [{"norm": "batch"}, {"norm": "layer"}, {"norm": "batch"}]
    assert [p["group"] for p in summary["points"]] == ["lr=0.1", "lr=0.1", "lr=1"]
    assert summary["best"]["values"] == {"norm": "layer"}
    doc = {"title": "t", "scenario": "s", "experiment": "norms", "status": "completed", "device": "cpu", "seed": 0}
    doc.update(elapsed_s=1.0, torch_version="2", variants=[], tables={}, summary={"sweep": summary})
    text = text_report(doc)
    rows = [line.split() for line in text.splitlines() if "norm=" in line and "best" not in line]
    assert [r[-5] for r in rows] == ["batch", "layer", "batch"]  # the category, in the row of its model
    assert "best test_loss 0.25 at norm=layer" in text
