"""The train kind's validation split: its size, that it shares no sample, and that it chooses a sweep's best.

A sweep's best point is chosen on the validation loss and reported with its test figures; a run
without a validation split (the lessons, val_fraction = 0) says it chose on test.
"""

from pathlib import Path

import pytest
import torch
from custom_support import invoke, run_json

from regtui import scenario as sc
from regtui.custom_specs.params import TRAIN
from regtui.engine.custom import data as data_mod
from regtui.text_report import text_report
from regtui.variant_record import sweep_summary

MOONS = {"data": {"source": "moons", "n": 200, "noise": 0.2}, "model": {"layers": []}}


def _load(seed=0, **params):
    p = {**TRAIN.defaults(), **params}
    return data_mod.load(MOONS, Path("."), p, seed)


def _rows(x):
    return {tuple(r) for r in x.tolist()}


def test_the_split_sizes_follow_the_fractions():
    d = _load(test_fraction=0.25, val_fraction=0.1)
    # 200 samples: 50 held out for testing; of the 150 left, 15 for validation, 135 to train
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (135, 15, 50)
    assert d.describe()["validation"] == 15
    none = _load(test_fraction=0.25, val_fraction=0)
    assert none.x_val is None and len(none.x_train) == 150


def test_the_three_splits_share_no_sample_and_cover_the_data():
    d = _load(seed=3, test_fraction=0.25, val_fraction=0.2)
    train, val, test = _rows(d.x_train), _rows(d.x_val), _rows(d.x_test)
    assert not (train & val) and not (train & test) and not (val & test)
    g = torch.Generator().manual_seed(3)
    x_all, _ = data_mod.GENERATORS["moons"](MOONS["data"], g)
    assert train | val | test == _rows(x_all)


def test_the_split_is_seeded_and_train_size_leaves_validation_alone():
    a, b, c = _load(seed=1), _load(seed=1), _load(seed=2)
    assert torch.equal(a.x_val, b.x_val) and not torch.equal(a.x_val, c.x_val)
    capped = _load(seed=1, train_size=20)
    assert torch.equal(capped.x_val, a.x_val) and torch.equal(capped.x_train, a.x_train[:20])
    # the training samples train_size keeps are those it kept before there was a validation split
    before = _load(seed=1, train_size=20, val_fraction=0)
    assert torch.equal(capped.x_train, before.x_train)


def _record(name, lr, val, test):
    final = {"train_loss": 0.1, "val_loss": val, "test_loss": test, "test_accuracy": 1 - test}
    return {"name": name, "params": {"lr": lr}, "final": final}


def test_the_best_point_is_the_lowest_validation_loss_with_its_test_figures():
    variants = [_record("lr=0.1", 0.1, 0.30, 0.20), _record("lr=0.01", 0.01, 0.25, 0.40)]
    best = sweep_summary({"lr": (0.1, 0.01)}, variants)["best"]
    # the lowest test loss is lr=0.1, but validation chooses lr=0.01: its test loss is the one reported
    assert best == {
        "variant": "lr=0.01",
        "values": {"lr": 0.01},
        "val_loss": 0.25,
        "test_loss": 0.40,
        "test_accuracy": 0.6,
        "chosen_on": "validation",
    }
    without = [{**v, "final": {k: x for k, x in v["final"].items() if k != "val_loss"}} for v in variants]
    assert sweep_summary({"lr": (0.1, 0.01)}, without)["best"] == {
        "variant": "lr=0.1",
        "values": {"lr": 0.1},
        "test_loss": 0.20,
        "chosen_on": "test",
    }


TRAIN_SWEEP = """
experiment = "train"
[params]
steps = 6
batch = 16
log_every = 3
[model]
layers = [{type = "linear", out = 8}, {type = "relu"}, {type = "linear"}]
[data]
source = "moons"
n = 120
"""


def test_a_train_sweep_chooses_on_validation(scenario_file):
    path = scenario_file(TRAIN_SWEEP)
    doc = run_json(path, "--sweep", "lr=0.01,0.3,1.0")
    finals = {v["name"]: v["final"] for v in doc["variants"]}
    assert all(f["val_size"] == 9 and f["train_size"] == 81 and f["test_size"] == 30 for f in finals.values())
    best = doc["summary"]["sweep"]["best"]
    chosen = min(finals, key=lambda n: finals[n]["val_loss"])
    assert best["chosen_on"] == "validation" and best["variant"] == chosen
    assert best["test_loss"] == finals[chosen]["test_loss"] and best["val_loss"] == finals[chosen]["val_loss"]
    text = text_report(doc)
    assert "(chosen on validation); there test_loss" in text
    off = run_json(path, "--sweep", "lr=0.01,0.3", "--set", "val_fraction=0")
    assert off["summary"]["sweep"]["best"]["chosen_on"] == "test"
    assert all("val_loss" not in v["final"] for v in off["variants"])


def test_a_lesson_sweep_says_it_chose_on_test():
    scenario = sc.load(sc.find("weight-decay"))
    plan = sc.plan(scenario, {"iters": 5, "hidden": 4}, {"weight_decay": (0.0, 0.1)})
    from regtui.engine import run_plan
    from regtui.report import Collector

    collector = Collector()
    run_plan(plan, "cpu", emit=collector)
    assert collector.document()["summary"]["sweep"]["best"]["chosen_on"] == "test"


def test_a_training_part_too_small_to_spare_a_sample_has_no_validation_split(scenario_file):
    # 3 samples: 1 held out for testing leaves 2, the fewest a run trains on: no validation split
    doc = run_json(scenario_file(TRAIN_SWEEP.replace("n = 120", "n = 3")), "--sweep", "lr=0.1,0.2")
    assert all(v["final"]["train_size"] == 2 and v["final"]["val_size"] == 0 for v in doc["variants"])
    assert doc["summary"]["sweep"]["best"]["chosen_on"] == "test"
    assert _load(test_fraction=0.25, val_fraction=0.99).x_val.shape[0] == 148  # 150 less the 2 that train


@pytest.mark.parametrize("value", ["1", "-0.1"])
def test_val_fraction_is_checked(scenario_file, value):
    code, _, err = invoke(
        "--scenario", scenario_file(TRAIN_SWEEP), "--json", "--no-save", "--set", f"val_fraction={value}"
    )
    assert code == 2 and "val_fraction" in err and "expected a number >= 0 and < 1" in err
