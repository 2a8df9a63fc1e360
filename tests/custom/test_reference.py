"""The per-layer statistics, norms and BatchNorm tables against a plain PyTorch loop with hooks.

Same model, seed, data and mini-batches; the plain loop does nothing but train (no test
evaluation in between), so this also proves that the engine's evaluations — in eval mode and
in train mode, with BatchNorm's buffers and the RNG restored — leave training untouched.
"""

import math

import pytest
import torch
from custom_support import run_json
from torch import nn

from regtui import scenario as sc
from regtui.engine.custom import data as data_mod
from regtui.engine.custom.model_run import batch_order

TEXT = """
experiment = "train"
[params]
steps = 12
batch = 8
log_every = 6
lr = 0.05
momentum = 0.9
weight_decay = 0.01
decay_norm_and_bias = false
stats_features = 3
[model]
layers = [{type = "conv2d", out = 4}, {type = "batchnorm2d", momentum = 0.3}, {type = "relu"},
          {type = "dropout", p = 0.25}, {type = "flatten"}, {type = "linear", out = 10}, {type = "batchnorm1d"},
          {type = "tanh"}, {type = "linear"}]
[data]
source = "images"
n = 96
classes = 3
"""


def plain_loop(path, seed):
    scenario = sc.load(path)
    p = sc.plan(scenario).runs[0].params
    data = data_mod.load(scenario.tables, path.parent, p, seed)
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.BatchNorm2d(4, momentum=0.3),
        nn.ReLU(),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(4 * 6 * 6, 10),
        nn.BatchNorm1d(10),
        nn.Tanh(),
        nn.Linear(10, 3),
    )
    decay = [model[0].weight, model[5].weight, model[8].weight]
    rest = [q for q in model.parameters() if all(q is not d for d in decay)]
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=0.05, momentum=0.9
    )
    order = batch_order(seed, len(data.x_train), 8, True, torch.device("cpu"))
    logged = {}
    losses = []
    for step in range(1, 13):
        acts, bn_in = [], {}
        hooks = []
        if step % 6 == 0:
            for i, m in enumerate(model):
                hooks.append(
                    m.register_forward_hook(
                        lambda mod, inp, out, acts=acts: acts.append(
                            (out.double().mean().item(), out.double().std().item())
                        )
                    )
                )
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    hooks.append(
                        m.register_forward_pre_hook(
                            lambda mod, inp, i=i, bn_in=bn_in: bn_in.__setitem__(i, inp[0].detach().double())
                        )
                    )
        idx = next(order)
        loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        grads = {
            i: math.sqrt(sum((q.grad.double() ** 2).sum().item() for q in m.parameters()))
            for i, m in enumerate(model)
            if list(m.parameters())
        }
        opt.step()
        losses.append(loss.item())
        for h in hooks:
            h.remove()
        if step % 6 == 0:
            rows = []
            for i, x in bn_in.items():
                dims = [d for d in range(x.dim()) if d != 1]
                bn = model[i]
                for f in range(3):
                    rows.append(
                        (
                            i,
                            f + 1,
                            bn.running_mean[f].item(),
                            bn.running_var[f].item(),
                            x.mean(dim=dims)[f].item(),
                            x.var(dim=dims, unbiased=True)[f].item(),
                        )
                    )
            weights = {
                i: math.sqrt(sum((q.double() ** 2).sum().item() for q in m.parameters()))
                for i, m in enumerate(model)
                if list(m.parameters())
            }
            logged[step] = {
                "acts": acts,
                "rows": rows,
                "loss": sum(losses[-6:]) / 6,
                "grads": grads,
                "weights": weights,
            }
    return logged


def test_layer_stats_norms_and_running_stats_match_a_plain_loop(scenario_file):
    path = scenario_file(TEXT)
    doc = run_json(path, "--seed", "3")
    ref = plain_loop(path, 3)
    v = doc["variants"][0]
    names = [layer["name"] for layer in doc["summary"]["model"]["layers"]]
    assert names == [
        "0.conv2d",
        "1.batchnorm2d",
        "2.relu",
        "3.dropout",
        "4.flatten",
        "5.linear",
        "6.batchnorm1d",
        "7.tanh",
        "8.linear",
    ]
    assert v["series"]["step"] == [6, 12]
    # activation mean/std after every layer, in the last logging step's forward
    assert v["layers_training"]["mean"] == pytest.approx([m for m, _ in ref[12]["acts"]], rel=1e-5, abs=1e-7)
    assert v["layers_training"]["std"] == pytest.approx([s for _, s in ref[12]["acts"]], rel=1e-5, abs=1e-7)
    history = v["layers_steps"]  # every logging step's profile, with the layers' names
    assert history["names"] == names and history["step"] == [6, 12]
    for k, step in enumerate((6, 12)):
        assert history["std"][k] == pytest.approx([s for _, s in ref[step]["acts"]], rel=1e-5, abs=1e-7)
    for k, step in enumerate((6, 12)):
        assert v["series"]["train_loss"][k] == pytest.approx(ref[step]["loss"], rel=1e-5)
        for i, name in enumerate(names):
            if i in ref[step]["weights"]:
                assert v["series"][f"weight_norm/{name}"][k] == pytest.approx(ref[step]["weights"][i], rel=1e-5)
                assert v["series"][f"grad_norm/{name}"][k] == pytest.approx(ref[step]["grads"][i], rel=1e-5)
    rows = doc["tables"]["running_stats"]["rows"]
    assert doc["tables"]["running_stats"]["columns"] == [
        "variant",
        "seed",
        "step",
        "layer",
        "feature",
        "running_mean",
        "running_var",
        "batch_mean",
        "batch_var",
    ]
    for step in (6, 12):
        ours = [r for r in rows if r[2] == step]
        assert [(r[3], r[4]) for r in ours] == [(names[i], f) for i, f, *_ in ref[step]["rows"]]
        for r, (_, _, rm, rv, bm, bv) in zip(ours, ref[step]["rows"]):
            assert r[5:] == pytest.approx([rm, rv, bm, bv], rel=1e-5, abs=1e-7)
    # the forgot-eval() series exist because the net has Dropout and BatchNorm
    assert "test_loss_train_mode" in v["series"] and "test_accuracy_train_mode" in v["final"]
