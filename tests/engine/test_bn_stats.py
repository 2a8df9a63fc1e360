"""The running-statistics demo (regtui.engine.bn_stats) against the tutorial and PyTorch's docs.

PyTorch's documented rule: running = (1 − m)·running + m·batch, with the *unbiased* batch
variance for running_var, starting from running_mean = 0 and running_var = 1; eval mode
normalizes with the running statistics and updates nothing.
"""

from __future__ import annotations

import math
import threading

import pytest
import torch
from torch import nn

from regtui import scenario
from regtui.engine import run_plan
from regtui.events import Final, Summary, TableRows

NAMES = ("bn1d", "bn2d", "bn3d")
POSITIONS = {"bn1d": 1, "bn2d": 4, "bn3d": 12}  # values per sample and channel
COLUMNS = (
    "iteration",
    "feature",
    "batch_mean",
    "batch_var_biased",
    "batch_var_unbiased",
    "running_mean",
    "running_var",
)


def _run(sets: dict | None = None, seed: int = 0, seeds: int | None = None, cancel=None):
    sc = scenario.load(scenario.find("bn-stats"))
    plan = scenario.plan(sc, sets=sets or {}, sweep=None, seed=seed, seeds=seeds)
    events: list = []
    finished = run_plan(plan, "cpu", emit=events.append, cancel=cancel)
    return finished, events


def _rows(events, name):
    tables = [e for e in events if isinstance(e, TableRows) and e.name == name]
    assert tables, f"no table {name}"
    assert all(t.columns == COLUMNS and t.key == ("iteration", "feature") for t in tables)
    return [dict(zip(t.columns, r)) for t in tables for r in t.rows]


def _summary(events, key):
    return next(e.value for e in events if isinstance(e, Summary) and e.key == key)


@pytest.fixture(scope="module")
def tutorial():
    return _run()  # the scenario's defaults: batch 3, 5 features, bn_momentum 0.3, 2 iterations


def test_tutorial_numbers(tutorial):
    finished, events = tutorial
    assert finished.status == "completed", finished.error
    for name in NAMES:
        rows = {(r["iteration"], r["feature"]): r for r in _rows(events, name)}
        assert set(rows) == {(i, k) for i in (1, 2) for k in range(1, 6)}
        for k in range(1, 6):
            first, second = rows[(1, k)], rows[(2, k)]
            assert first["batch_mean"] == pytest.approx(k)
            assert first["batch_var_biased"] == 0 and first["batch_var_unbiased"] == 0
            assert first["running_mean"] == pytest.approx(0.3 * k)
            assert first["running_var"] == pytest.approx(0.7)
            assert second["running_mean"] == pytest.approx(0.51 * k)
            assert second["running_var"] == pytest.approx(0.49)


def test_final_holds_the_bn1d_running_stats(tutorial):
    _, events = tutorial
    final = next(e for e in events if isinstance(e, Final))
    assert final.values["bn1d_running_mean"] == pytest.approx([0.51 * k for k in range(1, 6)])
    assert final.values["bn1d_running_var"] == pytest.approx([0.49] * 5)
    assert final.values["num_batches_tracked"] == 2


def test_shapes_match_pytorch(tutorial):
    _, events = tutorial
    shapes = _summary(events, "shapes")
    assert shapes["bn1d"]["input"] == [3, 5, 1]
    assert shapes["bn2d"]["input"] == [3, 5, 2, 2]
    assert shapes["bn3d"]["input"] == [3, 5, 2, 2, 3]
    for name, cls in zip(NAMES, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
        reference = cls(5)
        for key in ("weight", "bias", "running_mean", "running_var"):
            assert shapes[name][key] == list(getattr(reference, key).shape) == [5]


def test_eval_mode_uses_running_stats_and_updates_nothing(tutorial):
    _, events = tutorial
    evals = _summary(events, "eval")
    eps = 1e-5
    for name in NAMES:
        e = evals[name]
        assert e["max_abs_diff"] < 1e-5
        assert e["running_mean_unchanged"] is True and e["running_var_unchanged"] is True
        assert e["num_batches_tracked_before"] == e["num_batches_tracked_after"] == 2
        # γ = 1, β = 0: (k − 0.51k) / sqrt(0.49 + eps)
        expected = [(k - 0.51 * k) / math.sqrt(0.49 + eps) for k in range(1, 6)]
        assert e["output_first_sample"] == pytest.approx(expected, rel=1e-6)
        # train mode: each feature is constant over the batch, so it normalizes to 0
        assert e["train_output_first_sample"] == pytest.approx([0.0] * 5, abs=1e-6)


def test_random_inputs_follow_the_ema_with_unbiased_variance():
    m = 0.2
    finished, events = _run({"noise": 1.5, "iters": 4, "bn_momentum": m, "batch": 4, "features": 3})
    assert finished.status == "completed", finished.error
    for name in NAMES:
        n = 4 * POSITIONS[name]
        prev = {}
        rows = sorted(_rows(events, name), key=lambda r: r["iteration"])
        assert len(rows) == 4 * 3
        for r in rows:
            assert r["batch_var_biased"] > 0
            assert r["batch_var_unbiased"] == pytest.approx(r["batch_var_biased"] * n / (n - 1))
            mean0, var0 = prev.get(r["feature"], (0.0, 1.0))
            assert r["running_mean"] == pytest.approx((1 - m) * mean0 + m * r["batch_mean"])
            assert r["running_var"] == pytest.approx((1 - m) * var0 + m * r["batch_var_unbiased"])
            assert r["running_var"] != pytest.approx((1 - m) * var0 + m * r["batch_var_biased"])
            prev[r["feature"]] = (r["running_mean"], r["running_var"])


def test_pytorch_reference_stores_unbiased_variance():
    """The oracle itself: plain nn.BatchNorm1d on random data, EMA computed by hand."""
    g = torch.Generator().manual_seed(0)
    bn = nn.BatchNorm1d(3, momentum=0.3)
    mean, var = torch.zeros(3), torch.ones(3)
    for _ in range(3):
        x = torch.randn(5, 3, generator=g) * 2 + 1
        bn(x)
        mean = 0.7 * mean + 0.3 * x.mean(0)
        var = 0.7 * var + 0.3 * x.var(0, unbiased=True)
    assert torch.allclose(bn.running_mean, mean, atol=1e-6)
    assert torch.allclose(bn.running_var, var, atol=1e-6)


def test_several_seeds_get_their_own_tables():
    finished, events = _run(seeds=2)
    assert finished.status == "completed"
    names = {e.name for e in events if isinstance(e, TableRows)}
    assert names == {f"{n} · default · seed {s}" for n in NAMES for s in (0, 1)}
    assert len([e for e in events if isinstance(e, Final)]) == 2


def test_batch_of_one_runs_2d_and_3d_and_reports_1d_refusal_as_pytorch_words_it():
    finished, events = _run({"batch": 1, "noise": 1.0, "iters": 1})
    assert finished.status == "completed"
    with pytest.raises(ValueError) as plain:  # PyTorch's own refusal: one value per channel
        nn.BatchNorm1d(5).train()(torch.ones(1, 5, 1))  # the engine feeds (N, C, L=1)
    finals = {k: v for e in events if isinstance(e, Final) for k, v in e.values.items()}
    assert str(plain.value) in finals["bn1d_refused"]
    tables = {e.name.split(" ")[0] for e in events if isinstance(e, TableRows)}
    assert tables == {"bn2d", "bn3d"}  # N = 1 but H·W > 1 values per channel: PyTorch trains them


def test_cancel_before_start_emits_no_rows():
    cancel = threading.Event()
    cancel.set()
    finished, events = _run(cancel=cancel)
    assert finished.status == "interrupted"
    assert not [e for e in events if isinstance(e, TableRows)]
