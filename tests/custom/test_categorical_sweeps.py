"""Sweeping a choice or a flag of the train kind: each grid point trains with its own value.

The models are observed where they are built (``model.build``, ``model.optimizer``), so the test
sees the modules and the optimizer each run really trained with, not a label.
"""

import pytest
import torch
from custom_support import run_json
from torch import nn

from regtui.engine.custom import model as model_mod

CONV = """
experiment = "train"
[params]
steps = 4
batch = 8
log_every = 2
norm_groups = 2
[model]
layers = [
  {type = "conv2d", out = 4, kernel = 3, padding = 1},
  {type = "norm"},
  {type = "relu"},
  {type = "flatten"},
  {type = "linear"},
]
[data]
source = "images"
n = 48
size = 8
classes = 3
"""

NORM_CLASSES = {
    "batch": nn.BatchNorm2d,
    "layer": nn.LayerNorm,
    "group": nn.GroupNorm,
    "instance": nn.InstanceNorm2d,
}


@pytest.fixture
def built(monkeypatch):
    """Every model and optimizer the run builds, with the parameters it was built for."""
    seen = {"models": [], "optimizers": []}
    build, optimizer = model_mod.build, model_mod.optimizer

    def recording_build(tables, base, shape, outputs, params):
        model, observed = build(tables, base, shape, outputs, params)
        seen["models"].append((dict(params), model))
        return model, observed

    def recording_optimizer(model, p):
        opt = optimizer(model, p)
        seen["optimizers"].append((dict(p), opt))
        return opt

    monkeypatch.setattr(model_mod, "build", recording_build)
    monkeypatch.setattr(model_mod, "optimizer", recording_optimizer)
    return seen


def test_a_norm_sweep_trains_each_norm(scenario_file, built):
    path = scenario_file(CONV)
    doc = run_json(path, "--sweep", "norm=batch,layer,group,instance")
    assert [v["name"] for v in doc["variants"]] == [f"norm={n}" for n in NORM_CLASSES]
    assert doc["sweep"] == {"norm": list(NORM_CLASSES)}
    trained = {}
    for params, model in built["models"]:
        norms = [type(m) for m in model.modules() if isinstance(m, tuple(NORM_CLASSES.values()))]
        trained.setdefault(params["norm"], set()).add(tuple(norms))
    assert trained == {name: {(cls,)} for name, cls in NORM_CLASSES.items()}
    # the summary's points carry the category itself, and each point's model is the right one
    points = doc["summary"]["sweep"]["points"]
    assert [p["values"] for p in points] == [{"norm": n} for n in NORM_CLASSES]
    groups = next(m for p, m in built["models"] if p["norm"] == "group")
    assert next(m for m in groups.modules() if isinstance(m, nn.GroupNorm)).num_groups == 2


def test_an_optimizer_sweep_crossed_with_norm_is_a_grid(scenario_file, built):
    path = scenario_file(CONV)
    doc = run_json(path, "--sweep", "optimizer=sgd,adamw", "--sweep", "norm=batch,layer")
    names = [v["name"] for v in doc["variants"]]
    assert names == [
        "optimizer=sgd, norm=batch",
        "optimizer=sgd, norm=layer",
        "optimizer=adamw, norm=batch",
        "optimizer=adamw, norm=layer",
    ]
    classes = {(p["optimizer"], p["norm"]): type(opt) for p, opt in built["optimizers"]}
    assert classes == {
        ("sgd", "batch"): torch.optim.SGD,
        ("sgd", "layer"): torch.optim.SGD,
        ("adamw", "batch"): torch.optim.AdamW,
        ("adamw", "layer"): torch.optim.AdamW,
    }
    assert doc["summary"]["sweep"]["keys"] == ["optimizer", "norm"]


def test_a_flag_sweep_from_a_sweep_table(scenario_file, built):
    path = scenario_file(CONV + '\n[sweep]\nshuffle = [true, false]\nnorm = ["instance"]\n')
    doc = run_json(path)
    assert [v["params"]["shuffle"] for v in doc["variants"]] == [True, False]
    assert [v["name"] for v in doc["variants"]] == ["shuffle=true, norm=instance", "shuffle=false, norm=instance"]
    assert {p["shuffle"] for p, _ in built["optimizers"]} == {True, False}
