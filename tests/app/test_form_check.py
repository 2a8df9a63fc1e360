"""The parameter form's check (no widget): the form's texts plan what the same CLI options plan, and
each bad field gets its own one-line error."""

from __future__ import annotations

from regtui import scenario as sc
from regtui.app.widgets.form_check import check, merged_count
from regtui.app.widgets.param_form import default_texts


def weight_decay() -> sc.Scenario:
    return sc.load(sc.find("weight-decay"))


def test_the_default_texts_plan_the_scenario_as_the_cli_does():
    scenario = weight_decay()
    checked = check(scenario, default_texts(scenario))
    assert checked.errors == {} and checked.error is None and checked.plan is not None
    assert checked.plan.sets == {} and checked.plan.runs == sc.plan(scenario).runs


def test_edited_fields_are_the_clis_sets():
    scenario = weight_decay()
    texts = {**default_texts(scenario), "lr": "0.05", "weight_decay": "0.0, 0.02", "seed": "3", "seeds": "2"}
    checked = check(scenario, texts)
    cli = sc.plan(scenario, sc.parse_sets(scenario.spec, ["lr=0.05", "weight_decay=0.0,0.02"]), seed=3, seeds=2)
    assert checked.plan is not None and checked.plan.sets == cli.sets and checked.plan.runs == cli.runs


def test_one_value_for_every_variant_merges_them():
    scenario = weight_decay()
    checked = check(scenario, {**default_texts(scenario), "weight_decay": "0.01"})
    assert merged_count(checked.plan) == 1 < len(scenario.variants)


def test_each_bad_field_has_its_own_error():
    scenario = weight_decay()
    texts = {**default_texts(scenario), "lr": "-1", "weight_decay": "0.0, 0.01, 0.02", "seeds": "0"}
    checked = check(scenario, texts)
    assert checked.plan is None and set(checked.errors) == {"lr", "weight_decay", "seeds"}
    assert checked.errors["lr"].startswith("lr: ") and "3 values for 2 variants" in checked.errors["weight_decay"]
    assert checked.error == checked.errors["lr"], "the first field's error is the form's"


def test_a_sweep_needs_both_fields():
    scenario = weight_decay()
    texts = default_texts(scenario)
    assert "sweep_values" in check(scenario, {**texts, "sweep_key": "lr", "sweep_values": ""}).errors
    assert "sweep_key" in check(scenario, {**texts, "sweep_key": "", "sweep_values": "0.1,0.2"}).errors
    assert "sweep_key" in check(scenario, {**texts, "sweep_key": "nope", "sweep_values": "0.1,0.2"}).errors
    swept = check(scenario, {**texts, "sweep_key": "lr", "sweep_values": "0.1,0.2"}).plan
    assert swept is not None and swept.sweep == {"lr": (0.1, 0.2)}
