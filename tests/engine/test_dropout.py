"""The dropout experiment: the 1/(1−p) scaling demo, train/eval modes, p = 0 as a no-op, the tutorial's result."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from regtui import scenario
from regtui.engine import Cancelled, Context, dropout, run_plan
from regtui.engine.dropout import scaling_demo
from regtui.events import Final, Metrics, Summary

SMALL = {"hidden": 32, "iters": 200, "scaling_n": 1000}


def plan(name="dropout", sets=None, **kw):
    return scenario.plan(scenario.load(scenario.find(name)), sets=sets, **kw)


def run(p):
    events = []
    finished = run_plan(p, "cpu", emit=events.append)
    assert finished.status == "completed", finished.error
    return events


def finals(events):
    return {(e.variant, e.seed): e.values for e in events if isinstance(e, Final)}


def series(events):
    out = {}
    for e in events:
        if isinstance(e, Metrics):
            for k, v in e.values.items():
                out.setdefault((e.variant, e.seed, k), []).extend(v)
    return out


@pytest.mark.parametrize("p", [0.5, 0.75])
def test_scaling_demo_train_output_is_kept_over_1_minus_p(p):
    n = 10_000
    demo = scaling_demo(n, p, seed=0)
    assert demo["eval_output"] == n  # eval mode: Dropout is the identity
    assert demo["expected_output"] == n and demo["p"] == p and demo["n"] == n
    sigma = math.sqrt(n * p * (1 - p))
    for out, kept in zip(demo["train_outputs"], demo["train_kept"]):
        assert out == kept / (1 - p)  # exact: 1/(1-p) is a power of two here
        assert abs(kept - n * (1 - p)) < 6 * sigma  # binomial(n, 1-p)
    assert demo["train_output"] == demo["train_outputs"][0] and demo["kept"] == demo["train_kept"][0]
    assert len(demo["train_outputs"]) == 5 and len(set(demo["train_outputs"])) > 1  # varies per draw
    assert abs(demo["train_output"] - n) < 6 * sigma / (1 - p)  # ≈ n, not n·(1-p)


def test_scaling_demo_general_p_and_seeds():
    demo = scaling_demo(1000, 0.3, seed=1)
    for out, kept in zip(demo["train_outputs"], demo["train_kept"]):
        assert out == pytest.approx(kept / 0.7, rel=1e-5)
    assert scaling_demo(1000, 0.3, seed=1) == demo
    assert scaling_demo(1000, 0.3, seed=2)["train_kept"] != demo["train_kept"]


def test_events_of_the_dropout_experiment():
    events = run(plan(sets=SMALL, seed=2))
    (scaling,) = [e.value for e in events if isinstance(e, Summary) and e.key == "scaling"]
    assert set(scaling) >= {"p", "n", "train_output", "eval_output", "kept", "expected_output", "train_outputs"}
    assert scaling["n"] == 1000 and scaling["p"] == 0.5 and scaling["eval_output"] == 1000
    assert scaling["train_output"] == scaling["kept"] * 2
    f = finals(events)
    assert set(f) == {("no dropout", 2), ("dropout", 2)}
    for values in f.values():
        assert set(values) == {
            "train_loss",
            "test_loss",
            "test_loss_train_mode",
            "weight_norm",
            "diverged",
            "first_nonfinite_step",
        }
    s = series(events)
    assert len(s[("dropout", 2, "test_loss_train_mode")]) == 200
    # Without dropout, train and eval mode agree; with it they differ.
    assert s[("no dropout", 2, "test_loss_train_mode")] == s[("no dropout", 2, "test_loss")]
    assert s[("dropout", 2, "test_loss_train_mode")] != s[("dropout", 2, "test_loss")]


def test_p0_is_exactly_the_plain_network():
    """dropout = 0 gives bit-identical results to the weight-decay experiment with the same parameters."""
    sets = {"hidden": 32, "iters": 150}
    plain = run(scenario.plan(scenario.load(scenario.find("weight-decay")), sets={**sets, "weight_decay": 0.0}))
    no_dropout = run(plan(sets={**sets, "dropout": 0.0}))
    (a,), (b,) = finals(plain).values(), finals(no_dropout).values()
    for k in ("train_loss", "test_loss", "weight_norm"):
        assert a[k] == b[k]
    # ... also when it shares a stack with a dropout model (its mask is all ones).
    mixed = finals(run(plan(sets=sets, sweep={"dropout": (0.0, 0.5)})))
    assert mixed[("dropout=0", 0)]["train_loss"] == a["train_loss"]
    assert mixed[("dropout=0", 0)]["weight_norm"] == a["weight_norm"]


def test_tutorial_result_dropout_regularizes():
    events = run(plan(sets={"iters": 500, "scaling_n": 100}))
    f = finals(events)
    plain, dropped = f[("no dropout", 0)], f[("dropout", 0)]
    assert plain["train_loss"] < dropped["train_loss"]  # dropout keeps the net from memorizing the points
    gap = lambda v: v["test_loss"] - v["train_loss"]  # noqa: E731
    assert gap(plain) > gap(dropped)
    # Forgetting eval(): the dropout net's test loss in train mode is worse, on average over the run.
    s = series(events)
    train_mode = s[("dropout", 0, "test_loss_train_mode")][-200:]
    eval_mode = s[("dropout", 0, "test_loss")][-200:]
    assert sum(train_mode) > sum(eval_mode)


def test_same_seed_same_results():
    a, b = run(plan(sets=SMALL, seed=5)), run(plan(sets=SMALL, seed=5))
    assert series(a) == series(b) and finals(a) == finals(b)
    c = run(plan(sets=SMALL, seed=6))
    assert series(c)[("dropout", 6, "train_loss")] != series(a)[("dropout", 5, "train_loss")]


def test_cancel_raises_cancelled():
    p = plan(sets={**SMALL, "iters": 1_000_000})
    ctx = Context(torch.device("cpu"), lambda e: None, threading.Event())
    ctx.emit = lambda e: ctx.cancel.set() if isinstance(e, Metrics) else None
    with pytest.raises(Cancelled):
        dropout.run(p, ctx)
