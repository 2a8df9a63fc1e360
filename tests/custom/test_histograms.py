"""Per-layer histograms of weights, gradients and activations against torch.histc of the same tensors in a
plain loop, alone and stacked, and as TensorBoard histograms on export."""

import json

import pytest
import torch
from custom_support import invoke, run_json
from torch import nn

from regtui import scenario as sc
from regtui.engine.custom import data as data_mod
from regtui.engine.custom.model_run import batch_order

BINS = 20
TEXT = """
experiment = "train"
[params]
steps = 20
batch = 16
log_every = 10
lr = 0.1
histograms = true
[model]
layers = [{type = "linear", out = 16}, {type = "relu"}, {type = "linear"}]
[data]
source = "moons"
n = 200
"""


def hist(t, lo=None, hi=None):
    """(min, max, count, sum, sum of squares, counts) as the document should hold them (``lo``, ``hi``: the
    range to bin over, else the tensor's own)."""
    x = t.detach().flatten().float()
    if lo is None:
        lo, hi = x.min().item(), x.max().item()
        if lo == hi:
            lo, hi = lo - 1, hi + 1
    counts = torch.histc(x, BINS, lo, hi).tolist()
    return [lo, hi, x.numel(), x.double().sum().item(), (x.double() ** 2).sum().item(), *counts]


def plain_loop(path, seed):
    """{(step, layer, of): tensor} of a plain SGD loop with hooks at steps 10 and 20."""
    scenario = sc.load(path)
    p = sc.plan(scenario).runs[0].params
    data = data_mod.load(scenario.tables, path.parent, p, seed)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    names = ["0.linear", "1.relu", "2.linear"]
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    order = batch_order(seed, len(data.x_train), 16, True, torch.device("cpu"))
    out = {}
    for step in range(1, 21):
        acts = {}
        hooks = [
            m.register_forward_hook(lambda mod, inp, o, n=n, acts=acts: acts.__setitem__(n, o))
            for n, m in zip(names, model)
            if step % 10 == 0
        ]
        idx = next(order)
        loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        for h in hooks:
            h.remove()
        if step % 10 == 0:
            for n, m in zip(names, model):
                out[(step, n, "activations")] = acts[n].detach().clone()
                if list(m.parameters()):
                    out[(step, n, "gradients")] = torch.cat([q.grad.flatten() for q in m.parameters()])
        opt.step()
        if step % 10 == 0:
            for n, m in zip(names, model):
                if list(m.parameters()):
                    out[(step, n, "weights")] = torch.cat([q.detach().flatten() for q in m.parameters()])
    return out


def rows_of(doc):
    table = doc["tables"]["histograms"]
    assert table["columns"][:10] == [
        "variant",
        "seed",
        "step",
        "layer",
        "of",
        "min",
        "max",
        "count",
        "sum",
        "sum_squares",
    ]
    assert len(table["columns"]) == 10 + BINS
    return {(r[1], r[2], r[3], r[4]): r[5:] for r in table["rows"]}


@pytest.mark.parametrize("stack", ["off", "on"])
def test_histograms_are_torch_histc_of_the_same_tensors(stack, scenario_file):
    path = scenario_file(TEXT)
    doc = run_json(path, "--seeds", "2", "--set", f"stack_runs={stack}")
    got = rows_of(doc)
    assert len(got) == 2 * 2 * (3 + 2 + 2)  # seeds × logging steps × (activations of 3 layers, 2 × 2 with params)
    rel = 1e-6 if stack == "off" else 1e-4
    for seed in (0, 1):
        for (step, layer, of), tensor in plain_loop(path, seed).items():
            row, ref = got[(seed, step, layer, of)], hist(tensor)
            assert row[:5] == pytest.approx(ref[:5], rel=rel, abs=1e-6), (seed, step, layer, of)
            assert sum(row[5:]) == ref[2]
            if stack == "off":
                assert row[5:] == ref[5:]
            else:  # float rounding moves the range's ends (and values) a little: bin over the row's range,
                # and allow a value close to a bin's edge into the next bin
                same_range = hist(tensor, row[0], row[1])
                assert sum(abs(a - b) for a, b in zip(row[5:], same_range[5:])) <= 2, (seed, step, layer, of)


def test_without_histograms_there_is_no_table(scenario_file):
    doc = run_json(scenario_file(TEXT.replace("histograms = true", "")))
    assert "histograms" not in doc["tables"]


def test_tensorboard_reads_them_back(scenario_file, tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.setenv("REGTUI_RUNS_DIR", str(tmp_path / "runs"))
    code, out, err = invoke("--scenario", scenario_file(TEXT), "--json", "--device", "cpu")
    assert code == 0, err
    doc = json.loads(out)
    code, _, err = invoke("runs", "export", "1", "--format", "tensorboard", "--out", tmp_path / "tb")
    assert code == 0, err
    acc = EventAccumulator(str(tmp_path / "tb" / "1" / "default"), size_guidance={"histograms": 0})
    acc.Reload()
    got = rows_of(doc)
    for of, layer in (("weights", "0.linear"), ("gradients", "2.linear"), ("activations", "1.relu")):
        events = acc.Histograms(f"{of}/{layer}")
        assert [e.step for e in events] == [10, 20]
        for e in events:
            row = got[(0, e.step, layer, of)]
            h = e.histogram_value
            assert (h.min, h.max, h.num) == pytest.approx(row[:3]) and list(h.bucket) == row[5:]
            assert h.bucket_limit[-1] == pytest.approx(row[1])
