"""The weight-decay experiment end to end: events, the tutorial's result, reproducibility, divergence, cancel."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from regtui import scenario
from regtui.engine import Cancelled, Context, run_plan, weight_decay
from regtui.events import Curve, Final, Metrics, Progress, RunFinished, RunStarted, Summary

SMALL = {"hidden": 32, "iters": 300}


def plan(name="weight-decay", sets=None, **kw):
    return scenario.plan(scenario.load(scenario.find(name)), sets=sets, **kw)


def run(p, device="cpu"):
    events = []
    finished = run_plan(p, device, emit=events.append)
    assert finished.status == "completed", finished.error
    return events


def finals(events):
    return {(e.variant, e.seed): e.values for e in events if isinstance(e, Final)}


def series(events, key="train_loss"):
    out = {}
    for e in events:
        if isinstance(e, Metrics):
            out.setdefault((e.variant, e.seed), []).extend(e.values[key])
    return out


def test_bundled_scenarios_load_and_plan():
    for name in ("weight-decay", "weight-decay-sweep", "dropout", "dropout-sweep"):
        s = scenario.load(scenario.find(name))
        assert s.title and s.summary and len(s.explanation) > 500
        assert scenario.plan(s).runs
    wd = plan()
    runs = [(r.variant, r.params["weight_decay"]) for r in wd.runs]
    assert runs == [("no weight decay", 0.0), ("weight decay", 0.01)]
    assert wd.params["hidden"] == 200 and wd.params["iters"] == 2000 and wd.params["lr"] == 0.01
    sweep = plan("weight-decay-sweep")
    lams = sorted(r.params["weight_decay"] for r in sweep.runs)
    assert len(lams) == 8 and lams[0] == 0.0 and lams[-1] / lams[1] >= 100  # spans decades


def test_events_and_their_shapes():
    p = plan(sets={**SMALL, "iters": 130})
    events = run(p)
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    (data,) = [e for e in events if isinstance(e, Summary) and e.key == "data"]
    assert data.value["train"]["x"] == pytest.approx(torch.linspace(-1, 1, 10).tolist())
    assert len(data.value["train"]["y"]) == len(data.value["test"]["y"]) == 10
    progress = [e for e in events if isinstance(e, Progress)]
    # In model-steps (the status line's "model-steps/s"): 2 models × 130 steps.
    assert progress[0].step == 0 and progress[-1].step == progress[-1].total == 2 * 130
    for key in (("no weight decay", 0), ("weight decay", 0)):
        chunks = [e for e in events if isinstance(e, Metrics) and (e.variant, e.seed) == key]
        steps = [s for c in chunks for s in c.step]
        assert steps == list(range(1, 131))
        assert all(set(c.values) == {"train_loss", "test_loss"} for c in chunks)
        assert all(len(c.values["train_loss"]) == len(c.step) for c in chunks)
        curves = [e for e in events if isinstance(e, Curve) and (e.variant, e.seed) == key]
        assert len(curves) >= 5 and all(c.name == "fit" for c in curves)
        assert len(curves[-1].x) == 200 and curves[-1].x[0] == -1.0 and curves[-1].x[-1] == 1.0
        final = finals(events)[key]
        assert set(final) == {"train_loss", "test_loss", "weight_norm", "diverged", "first_nonfinite_step"}
        assert final["diverged"] is False and final["first_nonfinite_step"] is None
        train = series(events)[key]
        assert final["train_loss"] == train[-1]  # final train loss = last training-step loss


def test_final_curve_is_the_eval_prediction_of_an_independent_net():
    """The last Curve equals nn.Sequential with the same init trained by torch.optim.SGD (float32, few steps)."""
    from torch import nn

    from regtui.engine.mlp_training import make_data
    from regtui.engine.stacked import linear_init

    p = plan(sets={"hidden": 16, "iters": 20})
    events = run(p)
    r = p.runs[1]  # "weight decay"
    curve = [e for e in events if isinstance(e, Curve) and e.variant == r.variant][-1]
    layers = []
    for i, (w, b) in enumerate(linear_init(r.seed, [1, 16, 16, 16, 1])):
        lin = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(w)
            lin.bias.copy_(b)
        layers += [lin, nn.ReLU()] if i < 3 else [lin]
    net = nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=0.01)
    data = make_data(r.seed, 10, 1.5, 0.5, 0.3)
    for _ in range(20):
        opt.zero_grad()
        nn.MSELoss()(net(data.x.view(-1, 1)), data.train_y.view(-1, 1)).backward()
        opt.step()
    with torch.no_grad():
        expected = net(torch.tensor(curve.x).view(-1, 1)).view(-1)
    assert torch.allclose(torch.tensor(curve.y), expected, atol=1e-5)


def test_tutorial_result_weight_decay_reduces_overfitting():
    events = run(plan(sets={"iters": 600}))
    f = finals(events)
    plain, decayed = f[("no weight decay", 0)], f[("weight decay", 0)]
    assert plain["train_loss"] < decayed["train_loss"]  # λ = 0 fits the noise harder
    assert plain["test_loss"] - plain["train_loss"] > decayed["test_loss"] - decayed["train_loss"]
    assert decayed["weight_norm"] < 0.7 * plain["weight_norm"]  # decay shrinks the weights
    assert plain["train_loss"] < 0.05  # it really overfits: 10 noisy points, near-zero train loss


def test_same_seed_same_results_and_other_seeds_differ():
    a = run(plan(sets=SMALL, seed=3))
    b = run(plan(sets=SMALL, seed=3))
    c = run(plan(sets=SMALL, seed=4))
    assert series(a) == series(b) and finals(a) == finals(b)
    key_c = {k[0]: v for k, v in series(c).items()}
    assert all(v != key_c[k[0]] for k, v in series(a).items())
    data = lambda ev: next(e.value for e in ev if isinstance(e, Summary))  # noqa: E731
    assert data(a) == data(b) != data(c)


def test_a_model_is_the_same_alone_or_in_a_sweep():
    """A model's result does not depend on the other models trained beside it (incl. split stacks)."""
    alone = finals(run(plan(sets={**SMALL, "weight_decay": 0.01}, seeds=1)))
    lams = (0.0, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)  # 10 models: more than one CPU stack
    swept = finals(run(plan(sets=SMALL, sweep={"weight_decay": lams})))
    (mine,) = alone.values()
    other = swept[("weight_decay=0.01", 0)]
    for k in ("train_loss", "test_loss", "weight_norm"):
        assert other[k] == pytest.approx(mine[k], rel=1e-5)


def test_divergence_is_a_result_and_stays_in_its_model():
    p = plan(sets={**SMALL, "iters": 60, "weight_decay": 0.0}, sweep={"lr": (0.01, 50.0)})
    events = run(p)
    f = finals(events)
    bad, good = f[("lr=50", 0)], f[("lr=0.01", 0)]
    assert bad["diverged"] is True and isinstance(bad["first_nonfinite_step"], int)
    assert 1 <= bad["first_nonfinite_step"] <= 60
    assert math.isnan(bad["train_loss"]) or math.isinf(bad["train_loss"])
    assert good["diverged"] is False and math.isfinite(good["train_loss"])
    ref = finals(run(plan(sets={**SMALL, "iters": 60, "weight_decay": 0.0, "lr": 0.01})))
    (expected,) = ref.values()
    assert good["train_loss"] == pytest.approx(expected["train_loss"], rel=1e-5)
    assert good["weight_norm"] == pytest.approx(expected["weight_norm"], rel=1e-5)


def test_cancel_stops_promptly():
    p = plan(sets={"hidden": 32, "iters": 1_000_000})
    cancel = threading.Event()
    events = []

    def emit(event):
        events.append(event)
        if isinstance(event, Metrics):
            cancel.set()

    finished = run_plan(p, "cpu", emit=emit, cancel=cancel)
    assert finished.status == "interrupted"
    progress = [e for e in events if isinstance(e, Progress)]
    assert not progress or progress[-1].step < progress[-1].total  # stopped, not run to the end
    assert not any(isinstance(e, Final) for e in events)
    # Called directly, the experiment raises Cancelled from ctx.check().
    ctx = Context(torch.device("cpu"), lambda e: None, threading.Event())
    ctx.cancel.set()
    with pytest.raises(Cancelled):
        weight_decay.run(p, ctx)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    p = plan(sets={**SMALL, "iters": 50})
    cpu, gpu = finals(run(p)), finals(run(p, "cuda:0"))
    for key, values in cpu.items():
        assert gpu[key]["train_loss"] == pytest.approx(values["train_loss"], rel=1e-3, abs=1e-6)


@pytest.mark.parametrize(
    ("lr", "wd", "momentum"), [(0.01, 0.01, 0.9), (0.1, 0.05, 0.0), (0.5, 1.0, 0.5), (3.0, 1.0, 0.9)]
)
def test_zero_gradient_run_is_torch_optim_sgd(lr, wd, momentum):
    """The worked numbers' measured run uses the project's SGD update; torch.optim.SGD is the oracle."""
    w = torch.full((4,), 0.5, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, momentum=momentum, weight_decay=wd)
    for _ in range(200):
        w.grad = torch.zeros_like(w)
        opt.step()
    expected = float(w.detach().norm())
    measured = weight_decay.zero_gradient_run(lr, wd, momentum, steps=200)
    assert measured == expected or (math.isnan(expected) and math.isnan(measured))


@pytest.mark.parametrize(
    ("name", "sets"),
    [
        ("weight-decay", "iters=5"),
        ("weight-decay-sweep", "iters=5"),
        ("dropout", "iters=5"),
        ("dropout-sweep", "iters=5"),
        ("bn", "train_steps=2"),
        ("norms", "steps=2"),
    ],
)
def test_lessons_without_torch_optim_never_import_dynamo(name, sets):
    """The first torch.optim optimizer imports torch._dynamo (about 1 s); these lessons use regtui's SGD."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from regtui.cli import main\n"
        f"sys.argv = ['regtui', '--scenario', {name!r}, '--set', {sets!r}, '--json', '--no-save', '--device', 'cpu']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('dynamo' if 'torch._dynamo' in sys.modules else 'no dynamo', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "no dynamo"
