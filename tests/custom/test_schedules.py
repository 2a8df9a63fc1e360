"""Learning-rate schedules against torch.optim.lr_scheduler on a plain loop: the same lr at every
logging step and the same weights, one run alone and models stacked (each with its own lr)."""

import math

import pytest
import torch
from custom_support import invoke, run_json
from torch import nn
from torch.optim import lr_scheduler

from regtui import scenario as sc
from regtui.app import plotting
from regtui.engine.custom import data as data_mod
from regtui.engine.custom.model_run import batch_order

STEPS, LOG = 40, 8
TEXT = """
experiment = "train"
[params]
steps = 40
batch = 16
log_every = 8
lr = 0.05
momentum = 0.9
{extra}
[model]
layers = [{{type = "linear", out = 16}}, {{type = "relu"}}, {{type = "linear"}}]
[data]
source = "moons"
n = 200
"""

SCHEDULES = {
    "step": ("schedule = 'step'\nstep_size = 12\ngamma = 0.5", lambda opt, lr: lr_scheduler.StepLR(opt, 12, 0.5)),
    "cosine": (
        "schedule = 'cosine'\nmin_lr = 0.001",
        lambda opt, lr: lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS, eta_min=0.001),
    ),
    "onecycle": (
        "schedule = 'onecycle'\npct_start = 0.25",
        lambda opt, lr: lr_scheduler.OneCycleLR(
            opt, max_lr=lr, total_steps=STEPS, pct_start=0.25, cycle_momentum=False
        ),
    ),
    "warmup_cosine": (
        "schedule = 'warmup_cosine'\nwarmup_steps = 10",
        lambda opt, lr: lr_scheduler.SequentialLR(
            opt,
            [
                lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=10),
                lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS - 10),
            ],
            milestones=[10],
        ),
    ),
}


def plain_loop(path, seed, lr, make_scheduler):
    """SGD with momentum and the scheduler, stepped after each optimizer step: {logging step: (lr, norms)}."""
    scenario = sc.load(path)
    p = sc.plan(scenario).runs[0].params
    data = data_mod.load(scenario.tables, path.parent, p, seed)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = make_scheduler(opt, lr)
    order = batch_order(seed, len(data.x_train), 16, True, torch.device("cpu"))
    logged = {}
    for step in range(1, STEPS + 1):
        idx = next(order)
        loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        used = opt.param_groups[0]["lr"]
        opt.step()
        sched.step()
        if step % LOG == 0:
            norms = [math.sqrt(sum((q.double() ** 2).sum().item() for q in model[i].parameters())) for i in (0, 2)]
            logged[step] = (used, norms)
    return logged


def check(doc, path, name, rel):
    for v in doc["variants"]:
        lr = v["params"]["lr"]
        for entry in v.get("per_seed") or [{"seed": v["seeds"][0], "series": v["series"]}]:
            ref = plain_loop(path, entry["seed"], lr, SCHEDULES[name][1])
            series = entry["series"]
            assert series["step"] == list(ref)
            assert series["lr"] == pytest.approx([ref[s][0] for s in ref], rel=1e-12)
            for k, layer in enumerate(("0.linear", "2.linear")):
                assert series[f"weight_norm/{layer}"] == pytest.approx([ref[s][1][k] for s in ref], rel=rel)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_a_run_alone_follows_torch_schedulers(name, scenario_file):
    path = scenario_file(TEXT.format(extra=SCHEDULES[name][0]))
    doc = run_json(path, "--seed", "2", "--set", "stack_runs=off")
    check(doc, path, name, rel=1e-6)


@pytest.mark.parametrize("name", ["step", "onecycle", "warmup_cosine"])
def test_stacked_models_each_follow_their_own_lr(name, scenario_file):
    path = scenario_file(TEXT.format(extra=SCHEDULES[name][0]))
    doc = run_json(path, "--seeds", "2", "--sweep", "lr=0.05,0.1", "--set", "stack_runs=on")
    assert {r.get("models") for r in doc["summary"]["stacking"]} == {4}  # one stack of four models
    check(doc, path, name, rel=1e-4)  # bmm sums in another order than mm: float32 rounding


def test_without_a_schedule_there_is_no_lr_metric(scenario_file):
    doc = run_json(scenario_file(TEXT.format(extra="")))
    assert "lr" not in doc["variants"][0]["series"]


def test_the_lr_is_a_metric_group_of_its_own():
    assert plotting.metric_group("lr") == "learning rate"
    assert plotting.group_metrics(["train_loss", "lr", "test_loss"]) == {
        "loss": ["train_loss", "test_loss"],
        "learning rate": ["lr"],
    }


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["schedule=linear"], "schedule: 'linear' is not allowed; expected one of none, step, cosine, onecycle, "),
        (["schedule=warmup_cosine", "warmup_steps=40"], "warmup_steps: 40 is not allowed with steps = 40"),
        (["schedule=onecycle", "pct_start=0.025"], "pct_start: 0.025 is not allowed with steps = 40"),
        (["gamma=0"], "gamma"),
    ],
)
def test_bad_schedule_values_are_one_line(sets, message, scenario_file):
    path = scenario_file(TEXT.format(extra=""))
    code, out, err = invoke("--scenario", path, "--json", "--no-save", *(x for s in sets for x in ("--set", s)))
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err
