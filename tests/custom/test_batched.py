"""Runs trained together as one stacked model (regtui.engine.custom.batched) against one at a time and plain PyTorch.

Without dropout a stacked run must give its one-at-a-time run's numbers (same init, batches
and torch.optim semantics) to float rounding; with dropout the masks are other draws of the
same distribution, so the checks are what must hold anyway. Few steps, small nets.
"""

import math
import threading

import pytest
import torch
from custom_support import invoke, run_json
from torch import nn

from regtui import scenario as sc
from regtui.engine import run_plan
from regtui.engine.custom import data as data_mod
from regtui.engine.custom import stackable
from regtui.engine.custom.model_run import batch_order
from regtui.events import Final, Metrics, Progress, RunSpec, Summary

MLP = [
    '{type = "flatten"}',
    '{type = "linear", out = 12}',
    '{type = "tanh"}',
    '{type = "linear", out = 12}',
    '{type = "relu"}',
    '{type = "linear"}',
]


def toml(value):
    return str(value).lower() if isinstance(value, bool) else repr(value)


def scenario(params, variants="", layers=MLP, data='source = "moons"\nn = 120', seeds=2):
    params = {"batch": 16, "steps": 12, "log_every": 4, **params}
    lines = "\n".join(f"{k} = {toml(v)}" for k, v in params.items())
    return f"""
experiment = "train"
seeds = {seeds}
[params]
{lines}
[model]
layers = [{", ".join(layers)}]
[data]
{data}
{variants}
"""


def variants(*rows):
    out = []
    for name, values in rows:
        body = "\n".join(f"{k} = {toml(v)}" for k, v in values.items())
        out.append(f'[[variants]]\nname = "{name}"\n{body}')
    return "\n".join(out)


def both(path, *extra):
    """The document stacked (stack_runs = on) and one at a time (off)."""
    return (
        run_json(path, "--set", "stack_runs=on", *extra),
        run_json(path, "--set", "stack_runs=off", *extra),
    )


def per_seed(doc):
    """(variant, seed) -> {"series", "final", "layers"} of every run."""
    out = {}
    for v in doc["variants"]:
        name = "" if v["name"].startswith("stack_runs=") else v["name"]  # --set names a lone variant
        for one in v.get("per_seed") or [{"seed": v["seeds"][0], "series": v["series"], "final": v["final"]}]:
            out[(name, one["seed"])] = one
    return out


def assert_same_numbers(a, b, rel=1e-4, abs_=1e-6):
    ra, rb = per_seed(a), per_seed(b)
    assert ra.keys() == rb.keys()
    for key in ra:
        sa, sb = ra[key]["series"], rb[key]["series"]
        assert sa.keys() == sb.keys(), key
        for name in sa:
            assert sa[name] == pytest.approx(sb[name], rel=rel, abs=abs_, nan_ok=True), (key, name)
        fa = {k: v for k, v in ra[key]["final"].items() if k != "stacked"}
        fb = {k: v for k, v in rb[key]["final"].items() if k != "stacked"}
        assert fa == pytest.approx(fb, rel=rel, abs=abs_, nan_ok=True), key


OPTIMIZERS = {
    "sgd": variants(
        ("plain", {"lr": 0.1, "momentum": 0.0}),
        ("momentum + wd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
        ("no bias decay", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.05, "decay_norm_and_bias": False}),
        ("smoothed", {"lr": 0.2, "label_smoothing": 0.1}),
    ),
    "adam": variants(
        ("plain", {"lr": 0.01}),
        ("wd + betas", {"lr": 0.005, "weight_decay": 0.01, "beta1": 0.8, "beta2": 0.99}),
        ("no bias decay", {"lr": 0.01, "weight_decay": 0.1, "decay_norm_and_bias": False}),
    ),
    "adamw": variants(
        ("plain", {"lr": 0.01, "weight_decay": 0.0}),
        ("decoupled", {"lr": 0.01, "weight_decay": 0.5}),
    ),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_stacked_runs_give_the_one_at_a_time_numbers(scenario_file, optimizer):
    path = scenario_file(scenario({"optimizer": optimizer}, OPTIMIZERS[optimizer]))
    on, off = both(path)
    assert_same_numbers(on, off)
    rows = on["summary"]["stacking"]
    assert len(rows) == len(per_seed(on)) and all(r["models"] == len(rows) for r in rows)
    assert all(one["final"]["stacked"] for one in per_seed(on).values())
    assert not any(one["final"]["stacked"] for one in per_seed(off).values())
    assert {r["alone_because"] for r in off["summary"]["stacking"]} == {"stack_runs = off"}
    # every event kind the views draw from is there, with the same shapes
    for key, one in per_seed(on).items():
        other = per_seed(off)[key]
        assert one["series"]["step"] == [4, 8, 12]
        assert set(one["series"]) >= {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}
        assert {k for k in one["series"] if k.startswith(("weight_norm/", "grad_norm/"))} == {
            f"{kind}/{n}.linear" for kind in ("weight_norm", "grad_norm") for n in (1, 3, 5)
        }
        assert set(one["final"]) == set(other["final"])


def test_layer_statistics_and_regression_agree(scenario_file):
    """mse on regression targets, a bias-free Linear, GELU and Sigmoid; one seed, so `layers` is the model's own."""
    layers = ['{type = "linear", out = 8, bias = false}', '{type = "gelu"}', '{type = "linear", out = 8}']
    layers += ['{type = "sigmoid"}', '{type = "linear"}']
    text = scenario(
        {"optimizer": "adam", "lr": 0.02},
        variants(("a", {"weight_decay": 0.0}), ("b", {"weight_decay": 0.1})),
        layers=layers,
        data='source = "regression"\nn = 64',
        seeds=1,
    )
    on, off = both(scenario_file(text))
    assert_same_numbers(on, off)
    for va, vb in zip(on["variants"], off["variants"]):
        assert va["layers_training"]["mean"] == pytest.approx(vb["layers_training"]["mean"], rel=1e-4, abs=1e-6)
        assert va["layers_training"]["std"] == pytest.approx(vb["layers_training"]["std"], rel=1e-4, abs=1e-6)
        assert "train_accuracy" not in va["series"]


def plain_loop(path, seed, lr, weight_decay):
    """What a user would write: nn.Sequential, torch.optim.SGD, the same mini-batches; nothing else."""
    scenario_ = sc.load(path)
    p = sc.plan(scenario_).runs[0].params
    data = data_mod.load(scenario_.tables, path.parent, p, seed)
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(2, 12), nn.Tanh(), nn.Linear(12, 12), nn.ReLU(), nn.Dropout(0.0), nn.Linear(12, 2)
    )
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    order = batch_order(seed, len(data.x_train), 16, True, torch.device("cpu"))
    losses = []
    for _ in range(12):
        idx = next(order)
        loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        test = nn.functional.cross_entropy(model.eval()(data.x_test), data.y_test).item()
    norm = math.sqrt(sum((q.double() ** 2).sum().item() for q in model.parameters()))
    return losses, test, norm


def test_stacked_runs_match_a_plain_pytorch_loop(scenario_file):
    layers = [*MLP[:5], '{type = "dropout", p = 0.0}', MLP[5]]
    rows = variants(("a", {"lr": 0.05, "weight_decay": 0.0}), ("b", {"lr": 0.1, "weight_decay": 0.02}))
    path = scenario_file(scenario({"optimizer": "sgd", "momentum": 0.9}, rows, layers=layers, seeds=3))
    doc = run_json(path)  # auto: the 6 runs share the model and data
    assert {r["stack"] for r in doc["summary"]["stacking"]} == {1}
    for (name, seed), one in per_seed(doc).items():
        lr, wd = (0.05, 0.0) if name == "a" else (0.1, 0.02)
        losses, test, norm = plain_loop(path, seed, lr, wd)
        assert one["final"]["stacked"] is True
        chunks = [sum(losses[i : i + 4]) / 4 for i in (0, 4, 8)]
        assert one["series"]["train_loss"] == pytest.approx(chunks, rel=1e-5)
        assert one["final"]["test_loss"] == pytest.approx(test, rel=1e-5)
        assert one["final"]["weight_norm"] == pytest.approx(norm, rel=1e-5)


DROPOUT = [*MLP[:3], '{type = "dropout"}', *MLP[3:5], '{type = "dropout"}', MLP[5]]


def test_dropout_runs_stack_with_their_own_masks(scenario_file):
    rows = variants(("none", {"dropout": 0.0}), ("half", {"dropout": 0.5}))
    text = scenario({"optimizer": "adam", "lr": 0.01}, rows, layers=DROPOUT, data='source = "moons"\nn = 200')
    path = scenario_file(text)
    on, off = both(path)
    ra, rb = per_seed(on), per_seed(off)
    for seed in (0, 1):
        # p = 0: no draws, the one-at-a-time numbers
        a, b = ra[("none", seed)], rb[("none", seed)]
        assert a["series"]["train_loss"] == pytest.approx(b["series"]["train_loss"], rel=1e-4)
        assert a["final"]["test_loss"] == pytest.approx(b["final"]["test_loss"], rel=1e-4)
        assert a["final"]["test_loss_train_mode"] == a["final"]["test_loss"]
        # p = 0.5: active in train mode, off in eval mode; finite, in the one-at-a-time run's range
        h, hb = ra[("half", seed)]["final"], rb[("half", seed)]["final"]
        assert h["stacked"] is True and hb["stacked"] is False
        assert h["test_loss_train_mode"] != h["test_loss"]
        assert all(math.isfinite(h[k]) for k in ("train_loss", "test_loss", "weight_norm", "test_loss_train_mode"))
        assert 0.5 * hb["test_loss"] < h["test_loss"] < 2 * hb["test_loss"]
        assert h["weight_norm"] == pytest.approx(hb["weight_norm"], rel=0.2)
        # different draws from the one-at-a-time run's: not the same numbers
        assert h["train_loss"] != pytest.approx(hb["train_loss"], rel=1e-6)


def test_a_dropout_run_does_not_depend_on_its_stack(scenario_file):
    """Model m's masks come from its own seed: alone (a stack of one) or among others, the same numbers."""
    rows = variants(("half", {"dropout": 0.5}), ("other", {"dropout": 0.3, "lr": 0.02}))
    path = scenario_file(scenario({"optimizer": "sgd", "lr": 0.05}, rows, layers=DROPOUT))
    together = per_seed(run_json(path, "--set", "stack_runs=on"))
    one = scenario({"optimizer": "sgd", "lr": 0.05}, variants(("half", {"dropout": 0.5})), layers=DROPOUT, seeds=1)
    alone = per_seed(run_json(scenario_file(one, name="alone.toml"), "--set", "stack_runs=on", "--seed", "1"))
    assert alone[("half", 1)]["final"] == pytest.approx(together[("half", 1)]["final"], rel=1e-5)


def test_the_same_plan_gives_the_same_numbers_every_time(scenario_file):
    rows = variants(("none", {"dropout": 0.0}), ("half", {"dropout": 0.5}))
    path = scenario_file(scenario({"optimizer": "adamw", "lr": 0.01}, rows, layers=DROPOUT))
    first, second = run_json(path), run_json(path)
    for doc in (first, second):
        doc.pop("elapsed_s")
    assert first == second
    assert all(one["final"]["stacked"] for one in per_seed(first).values())


def test_a_diverging_model_leaves_the_others_alone(scenario_file):
    rows = variants(("calm", {"lr": 0.05}), ("wild", {"lr": 1e12}))
    path = scenario_file(scenario({"optimizer": "sgd", "momentum": 0.9}, rows))
    on, off = both(path)
    ra, rb = per_seed(on), per_seed(off)
    for seed in (0, 1):
        wild, wild_off = ra[("wild", seed)]["final"], rb[("wild", seed)]["final"]
        assert wild["diverged"] is True and wild["stacked"] is True
        assert wild["first_nonfinite_step"] == wild_off["first_nonfinite_step"]
        assert len(ra[("wild", seed)]["series"]["step"]) == len(rb[("wild", seed)]["series"]["step"]) < 3
        calm, calm_off = ra[("calm", seed)], rb[("calm", seed)]
        assert calm["final"]["diverged"] is False
        assert calm["series"]["train_loss"] == pytest.approx(calm_off["series"]["train_loss"], rel=1e-4)
        assert calm["final"]["test_loss"] == pytest.approx(calm_off["final"]["test_loss"], rel=1e-4)


def events_of(path, *sets, cancel_after=None):
    scenario_ = sc.load(path)
    plan = sc.plan(scenario_, sets=dict(s.split("=") for s in sets))
    events = []
    cancel = threading.Event()

    def emit(event):
        events.append(event)
        if cancel_after is not None and isinstance(event, Metrics) and len(events) > cancel_after:
            cancel.set()

    try:
        finished = run_plan(plan, "cpu", emit=emit, cancel=cancel)
    finally:
        torch.set_flush_denormal(False)  # run_plan turns it on process-wide; other tests draw subnormals
    return events, finished


def test_progress_reaches_the_total_and_cancel_stops_a_stack(scenario_file):
    rows = variants(("calm", {"lr": 0.05}), ("wild", {"lr": 1e12}))
    path = scenario_file(scenario({"optimizer": "sgd", "steps": 40}, rows))
    events, finished = events_of(path)
    assert finished.status == "completed"
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress[-1].step == progress[-1].total == 4 * 40
    assert [e.step for e in progress] == sorted(e.step for e in progress)
    assert len([e for e in events if isinstance(e, Final)]) == 4
    events, finished = events_of(path, cancel_after=3)
    assert finished.status == "interrupted"
    assert all(e.values["diverged"] for e in events if isinstance(e, Final))  # only what ended before the cancel
    assert len([e for e in events if isinstance(e, Metrics) and e.step]) <= 4  # the chunk it was in, no further


def test_what_trains_one_at_a_time_and_why(scenario_file):
    # BatchNorm: its running statistics are not stacked
    bn = [MLP[0], MLP[1], '{type = "batchnorm1d"}', *MLP[2:]]
    doc = run_json(scenario_file(scenario({"optimizer": "sgd"}, layers=bn)))
    assert {r["alone_because"] for r in doc["summary"]["stacking"]} == {"BatchNorm1d layers train one at a time"}
    assert not any(one["final"]["stacked"] for one in per_seed(doc).values())
    # a lone run under auto: alone, and no stacking summary for one run
    doc = run_json(scenario_file(scenario({"optimizer": "sgd"}, seeds=1)))
    assert doc["variants"][0]["final"]["stacked"] is False and "stacking" not in doc["summary"]
    # runs that differ in batch size are not stacked together
    rows = variants(("a", {"batch": 8}), ("b", {"batch": 16}))
    doc = run_json(scenario_file(scenario({"optimizer": "sgd"}, rows)))
    assert sorted((r["variant"], r["stack"]) for r in doc["summary"]["stacking"]) == [
        ("a", 1),
        ("a", 1),
        ("b", 2),
        ("b", 2),
    ]


FACTORY = """
import torch

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Linear(2, 2)

    def forward(self, x):
        return self.body(x)


def make():
    return Net()


def sequential():
    return torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.SiLU(), torch.nn.Linear(8, 2))
"""


def test_factory_models_stack_when_they_are_a_plain_sequential(scenario_file):
    text = scenario({"optimizer": "adam", "lr": 0.01}).replace(f"layers = [{', '.join(MLP)}]", 'factory = "nets.py:{}"')
    path = scenario_file(text.format("make"), nets__py=FACTORY)
    doc = run_json(path)
    assert {r["alone_because"] for r in doc["summary"]["stacking"]} == {"the model is a Net, not an nn.Sequential"}
    path = scenario_file(text.format("sequential"), nets__py=FACTORY)
    on, off = both(path)
    assert {r["stack"] for r in on["summary"]["stacking"]} == {1}
    assert_same_numbers(on, off)


def test_a_bad_stack_runs_value_names_the_allowed_ones(scenario_file):
    path = scenario_file(scenario({"optimizer": "sgd"}))
    code, _, err = invoke("--scenario", path, "--json", "--no-save", "--set", "stack_runs=maybe")
    assert code != 0
    assert "stack_runs: 'maybe' is not allowed; expected one of auto, on, off" in err


def spec(seed, **params):
    base = dict.fromkeys(stackable.SHARED, 0) | {"stack_runs": "auto"}
    return RunSpec("v", seed, base | params)


def test_plan_stacks_groups_splits_evenly_and_keeps_the_order():
    cpu = torch.device("cpu")
    runs = [spec(s) for s in range(12)]
    assert stackable.plan_stacks(runs, cpu) == [list(range(6)), list(range(6, 12))]
    runs = [spec(0), spec(1, batch=2), spec(2), spec(3, stack_runs="off"), spec(4, batch=2)]
    assert stackable.plan_stacks(runs, cpu) == [[0, 2], [1, 4], [3]]
    assert stackable.stacked([runs[0], runs[2]]) and not stackable.stacked([runs[3]])
    assert stackable.stacked([spec(0, stack_runs="on")]) and not stackable.stacked([spec(0)])
    assert stackable.plan_stacks(runs, torch.device("meta")) == [[i] for i in range(5)]


def test_only_the_stacking_summary_and_the_flag_are_new(scenario_file):
    """The events of a stacked plan: the kinds of the one-at-a-time path, one Summary more for both."""
    path = scenario_file(scenario({"optimizer": "sgd"}, layers=DROPOUT))
    on, _ = events_of(path, "stack_runs=on")
    off, _ = events_of(path, "stack_runs=off")

    def kinds(events):
        return sorted({type(e).__name__ for e in events})

    assert kinds(on) == kinds(off)
    assert [e.key for e in on if isinstance(e, Summary)] == ["model", "stacking"]
    # one at a time, the stacking summary grows run by run, before each trains
    assert [e.key for e in off if isinstance(e, Summary)] == ["model", "stacking", "stacking"]
    assert [len(e.value) for e in off if isinstance(e, Summary) and e.key == "stacking"] == [1, 2]


def test_auto_leaves_big_steps_alone_and_on_stacks_them(scenario_file):
    wide = [MLP[0], '{type = "linear", out = 2048}', '{type = "relu"}', '{type = "linear", out = 2048}', MLP[5]]
    text = scenario({"optimizer": "sgd", "batch": 64, "steps": 1, "log_every": 1}, layers=wide)
    path = scenario_file(text)
    doc = run_json(path)
    assert {r["alone_because"] for r in doc["summary"]["stacking"]} == {
        "a step is too much arithmetic to gain from stacking (1614 MFLOP; auto stacks up to 500)"
    }
    doc = run_json(path, "--set", "stack_runs=on")
    assert {r["stack"] for r in doc["summary"]["stacking"]} == {1}
