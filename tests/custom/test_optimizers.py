"""RMSprop, SGD with Nesterov momentum and gradient clipping against torch.optim and clip_grad_norm_
on a plain loop: the same weights at every logging step, alone and (SGD) stacked."""

import math

import pytest
import torch
from custom_support import invoke, run_json
from torch import nn

from regtui import scenario as sc
from regtui.engine.custom import data as data_mod
from regtui.engine.custom.model_run import batch_order

STEPS, LOG = 30, 10
TEXT = """
experiment = "train"
[params]
steps = 30
batch = 16
log_every = 10
val_fraction = 0  # every training sample trains: the clip acts at every logging step (below)
{extra}
[model]
layers = [{{type = "linear", out = 16}}, {{type = "relu"}}, {{type = "linear"}}]
[data]
source = "moons"
n = 200
"""


def plain_loop(path, seed, make_opt, clip=0.0):
    """{logging step: (per-layer weight norms, the gradient's total norm before clipping)}."""
    scenario = sc.load(path)
    p = sc.plan(scenario).runs[0].params
    data = data_mod.load(scenario.tables, path.parent, p, seed)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = make_opt(model.parameters())
    order = batch_order(seed, len(data.x_train), 16, True, torch.device("cpu"))
    logged = {}
    for step in range(1, STEPS + 1):
        idx = next(order)
        loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        total = math.sqrt(sum((q.grad.double() ** 2).sum().item() for q in model.parameters()))
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if step % LOG == 0:
            norms = [math.sqrt(sum((q.double() ** 2).sum().item() for q in model[i].parameters())) for i in (0, 2)]
            logged[step] = (norms, total)
    return logged


def check(doc, path, make_opt, rel, clip=0.0):
    for v in doc["variants"]:
        params = v["params"]
        for entry in v.get("per_seed") or [{"seed": v["seeds"][0], "series": v["series"]}]:
            ref = plain_loop(path, entry["seed"], lambda ps, p=params: make_opt(ps, p), clip or params["grad_clip"])
            series = entry["series"]
            assert series["step"] == list(ref)
            for k, layer in enumerate(("0.linear", "2.linear")):
                assert series[f"weight_norm/{layer}"] == pytest.approx([ref[s][0][k] for s in ref], rel=rel)


def sgd(ps, p):
    return torch.optim.SGD(ps, lr=p["lr"], momentum=p["momentum"], nesterov=p["nesterov"])


def test_rmsprop_alone_is_torch_rmsprop(scenario_file):
    path = scenario_file(TEXT.format(extra="optimizer = 'rmsprop'\nlr = 0.01\nalpha = 0.9"))  # no momentum: SGD's
    doc = run_json(path, "--seeds", "2")
    assert {r["alone_because"] for r in doc["summary"]["stacking"]} == {
        "RMSprop has no stacked update (torch has no fused RMSprop kernel)"
    }
    check(doc, path, lambda ps, p: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-8), rel=1e-6)


@pytest.mark.parametrize("stack", ["off", "on"])
def test_nesterov_is_torch_sgd_with_nesterov(stack, scenario_file):
    path = scenario_file(TEXT.format(extra="lr = 0.1\nnesterov = true"))
    doc = run_json(path, "--seeds", "2", "--sweep", "momentum=0.5,0.9", "--set", f"stack_runs={stack}")
    assert all(("stack" in r) == (stack == "on") for r in doc["summary"]["stacking"])
    check(doc, path, sgd, rel=1e-6 if stack == "off" else 1e-4)


@pytest.mark.parametrize("stack", ["off", "on"])
def test_grad_clip_is_clip_grad_norm(stack, scenario_file):
    path = scenario_file(TEXT.format(extra="lr = 0.5"))
    doc = run_json(path, "--seeds", "2", "--sweep", "grad_clip=0,0.2", "--set", f"stack_runs={stack}")
    assert all(("stack" in r) == (stack == "on") for r in doc["summary"]["stacking"])
    check(doc, path, sgd, rel=1e-6 if stack == "off" else 1e-4)
    clipped = next(v for v in doc["variants"] if v["params"]["grad_clip"] == 0.2)
    ref = plain_loop(path, clipped["seeds"][0], lambda ps: sgd(ps, clipped["params"]), 0.2)
    assert all(total > 0.2 for _, total in ref.values())  # the clip acted at every logging step
    free = next(v for v in doc["variants"] if v["params"]["grad_clip"] == 0)
    assert free["final"]["weight_norm"] != pytest.approx(clipped["final"]["weight_norm"], rel=1e-3)


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["optimizer=lbfgs"], "optimizer: 'lbfgs' is not allowed; expected one of sgd, adam, adamw, rmsprop"),
        (["optimizer=adam", "nesterov=true"], "nesterov: true is not allowed with optimizer = adam"),
        (["momentum=0", "nesterov=true"], "nesterov: true is not allowed with momentum = 0; expected momentum > 0"),
        (["grad_clip=-1"], "grad_clip"),
        (["alpha=1"], "alpha"),
    ],
)
def test_bad_optimizer_values_are_one_line(sets, message, scenario_file):
    path = scenario_file(TEXT.format(extra="lr = 0.1"))
    code, out, err = invoke("--scenario", path, "--json", "--no-save", *(x for s in sets for x in ("--set", s)))
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err
