"""Early stopping on a validation loss held out of the training set: against a plain loop that applies
the rule (patience logging steps without a loss lower than the best by more than min_delta), alone and
with every model of a stack stopping on its own."""

import math

import pytest
import torch
from custom_support import invoke, run_json
from torch import nn

from regtui import scenario as sc
from regtui.engine.custom import data as data_mod
from regtui.engine.custom.model_run import batch_order

TEXT = """
experiment = "train"
[params]
steps = 300
batch = 16
log_every = 10
lr = 0.1
patience = 3
{extra}
[model]
layers = [{{type = "linear", out = 64}}, {{type = "relu"}}, {{type = "linear", out = 64}}, {{type = "relu"}},
          {{type = "linear"}}]
[data]
source = "moons"
n = 80
noise = 0.4
"""


def stop_rule(losses, patience, min_delta):
    """(index of the logging step where training stops or None, index of the best)."""
    best, best_i, waited = math.inf, None, 0
    for i, loss in enumerate(losses):
        if loss < best - min_delta:
            best, best_i, waited = loss, i, 0
            continue
        waited += 1
        if waited >= patience:
            return i, best_i
    return None, best_i


def plain_val_losses(path, seed, params):
    """The validation loss at every logging step of a plain SGD loop over the whole run."""
    scenario = sc.load(path)
    data = data_mod.load(scenario.tables, path.parent, params, seed)
    assert data.x_val is not None and len(data.x_val) + len(data.x_train) == 60  # 10 % of 60 training samples
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    opt = torch.optim.SGD(model.parameters(), lr=params["lr"], momentum=0.9)
    order = batch_order(seed, len(data.x_train), 16, True, torch.device("cpu"))
    out = []
    for step in range(1, params["steps"] + 1):
        idx = next(order)
        loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0:
            with torch.no_grad():
                model.eval()
                out.append(nn.functional.cross_entropy(model(data.x_val), data.y_val).item())
                model.train()
    return out


def check(doc, path, rel):
    stops = []
    for v in doc["variants"]:
        for entry in v["per_seed"]:
            series, final = entry["series"], entry["final"]
            ref = plain_val_losses(path, entry["seed"], {**v["params"], "steps": 300})
            shown = len(series["val_loss"])
            assert series["val_loss"] == pytest.approx(ref[:shown], rel=rel)
            stop, best = stop_rule(series["val_loss"], v["params"]["patience"], v["params"]["min_delta"])
            assert final["early_stopped"] == (stop is not None)
            if stop is not None:
                assert final["stopped_at_step"] == series["step"][stop] == series["step"][-1]  # no events after
            assert final["best_val_step"] == series["step"][best]
            assert final["best_val_loss"] == pytest.approx(series["val_loss"][best], rel=1e-12)
            stops.append(final["stopped_at_step"])
    return stops


def test_a_run_alone_stops_where_the_rule_says(scenario_file):
    path = scenario_file(TEXT.format(extra=""))
    doc = run_json(path, "--seeds", "3", "--set", "stack_runs=off")
    stops = check(doc, path, rel=1e-6)
    assert any(s is not None and s < 300 for s in stops)  # the test saw a run stop early


def test_each_model_of_a_stack_stops_on_its_own(scenario_file):
    path = scenario_file(TEXT.format(extra=""))
    doc = run_json(path, "--seeds", "3", "--sweep", "lr=0.05,0.2", "--set", "stack_runs=on")
    assert {r.get("models") for r in doc["summary"]["stacking"]} == {6}
    stops = check(doc, path, rel=1e-4)
    assert len(set(stops)) > 1  # they stopped at different steps


def test_without_patience_the_run_trains_every_step_and_val_fraction_0_holds_nothing_out(scenario_file):
    """The validation split is held out by default (val_fraction 0.1: it chooses a sweep's best point too)."""
    text = TEXT.format(extra="").replace("patience = 3\n", "")
    v = run_json(scenario_file(text), "--set", "steps=20")["variants"][0]
    assert "early_stopped" not in v["final"] and "val_loss" in v["series"]
    doc = run_json(scenario_file(text), "--set", "steps=20", "--set", "val_fraction=0")
    assert "val_loss" not in doc["variants"][0]["series"]
    assert doc["summary"]["model"]["data"]["train"] == 60


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["patience=-1"], "patience"),
        (["val_fraction=1"], "val_fraction"),
        (["min_delta=-0.1"], "min_delta"),
    ],
)
def test_bad_early_stopping_values_are_one_line(sets, message, scenario_file):
    path = scenario_file(TEXT.format(extra=""))
    code, out, err = invoke("--scenario", path, "--json", "--no-save", *(x for s in sets for x in ("--set", s)))
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith(f"regtui: error: {message}"), err
