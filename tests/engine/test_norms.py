"""The four-norms experiment (regtui.engine.norms), against PyTorch's documented layers."""

from __future__ import annotations

import dataclasses
import math
import threading

import pytest
from torch import nn

from regtui import scenario
from regtui.engine import run_plan
from regtui.events import Final, Metrics, Summary
from regtui.specs import ConfigError

SMALL = {"steps": 20, "train_samples": 64, "test_samples": 32}


def _plan(sets: dict | None = None, seed: int = 0):
    sc = scenario.load(scenario.find("norms"))
    return scenario.plan(sc, sets=sets or {}, sweep=None, seed=seed)


def _run(plan, cancel=None, emit=None):
    events: list = []

    def collect(event):
        events.append(event)
        if emit:
            emit(event)

    finished = run_plan(plan, "cpu", emit=collect, cancel=cancel)
    return finished, events


def _finals(events):
    return {e.variant: e.values for e in events if isinstance(e, Final)}


@pytest.fixture(scope="module")
def small():
    return _run(_plan(SMALL))


def test_norms_table_matches_pytorch_layers(small):
    finished, events = small
    assert finished.status == "completed", finished.error
    table = [e.value for e in events if isinstance(e, Summary) and e.key == "norms"]
    assert len(table) == 1  # once per plan, not per variant
    rows = {r["norm"]: r for r in table[0]}
    assert list(rows) == ["BatchNorm2d", "LayerNorm", "InstanceNorm2d", "GroupNorm"]
    c, s, g = 6, 8, 3  # the spec defaults: channels, size, groups
    references = {
        "BatchNorm2d": nn.BatchNorm2d(c),
        "LayerNorm": nn.LayerNorm([c, s, s]),
        "InstanceNorm2d": nn.InstanceNorm2d(c),
        "GroupNorm": nn.GroupNorm(g, c),
    }
    for name, layer in references.items():
        row = rows[name]
        weight = None if layer.weight is None else list(layer.weight.shape)
        bias = None if layer.bias is None else list(layer.bias.shape)
        assert row["weight_shape"] == weight and row["bias_shape"] == bias
        assert row["running_buffers"] == any(True for _ in layer.buffers())
        assert row["max_abs_diff"] < 1e-5
        assert row["made_for"] and row["reduces_over"]
    # what the tutorial says, spelled out
    assert rows["BatchNorm2d"]["weight_shape"] == [c] and rows["BatchNorm2d"]["running_buffers"]
    assert rows["LayerNorm"]["weight_shape"] == [c, s, s] and not rows["LayerNorm"]["running_buffers"]
    assert rows["InstanceNorm2d"]["weight_shape"] is None and not rows["InstanceNorm2d"]["running_buffers"]
    assert rows["GroupNorm"]["weight_shape"] == [c] and not rows["GroupNorm"]["running_buffers"]
    assert rows["BatchNorm2d"]["reduces_over"] == "N, H, W"
    assert rows["LayerNorm"]["reduces_over"] == "C, H, W"
    assert rows["InstanceNorm2d"]["reduces_over"] == "H, W"


def test_every_variant_trains_and_reports(small):
    _, events = small
    finals = _finals(events)
    assert len(finals) == 8
    assert {"BatchNorm · batch 2", "GroupNorm · batch 64"} <= set(finals)
    for name, values in finals.items():
        assert set(values) >= {"train_loss", "test_loss", "test_accuracy", "diverged"}
        assert values["diverged"] is False
        assert math.isfinite(values["train_loss"]) and math.isfinite(values["test_loss"])
        assert 0 <= values["test_accuracy"] <= 1
        steps = [s for e in events if isinstance(e, Metrics) and e.variant == name for s in e.step]
        assert steps == list(range(1, 21))


def test_groups_must_divide_channels():
    with pytest.raises(ConfigError, match="groups"):
        _plan({"groups": 4})  # channels = 6


def test_same_seed_is_identical():
    sets = {**SMALL, "steps": 10}
    a = [repr(e) for e in _run(_plan(sets, seed=5))[1] if isinstance(e, (Metrics, Final, Summary))]
    b = [repr(e) for e in _run(_plan(sets, seed=5))[1] if isinstance(e, (Metrics, Final, Summary))]
    assert a == b


def test_divergence_is_a_result():
    finished, events = _run(_plan({**SMALL, "lr": 1e6}))
    assert finished.status == "completed", finished.error
    finals = _finals(events)
    assert any(v["diverged"] for v in finals.values())
    for v in finals.values():
        if v["diverged"]:
            assert math.isnan(v["train_loss"]) or math.isnan(v["test_loss"])


def test_cancel_stops_promptly():
    cancel = threading.Event()
    after: list = []

    def emit(event):
        if cancel.is_set():
            after.append(event)
        elif isinstance(event, Metrics):
            cancel.set()

    finished, _ = _run(_plan({"steps": 1_000_000}), cancel=cancel, emit=emit)
    assert finished.status == "interrupted"
    assert not [e for e in after if isinstance(e, (Metrics, Final))]


def test_batchnorm_suffers_at_batch_two_where_groupnorm_does_not():
    """The scenario's point, at its default 1000 steps (≈ 6 s).

    One seed is noisy (float rounding differs between CPUs and torch versions, and training
    amplifies it), so the claim is checked over three seeds: on average GroupNorm beats
    BatchNorm at batch 2 by a clear margin, and it does so on most seeds.
    """
    gaps = []
    keep = ("BatchNorm · batch 2", "GroupNorm · batch 2")
    for seed in (0, 1, 2):
        plan = _plan(seed=seed)
        plan = dataclasses.replace(plan, runs=tuple(r for r in plan.runs if r.variant in keep))
        finished, events = _run(plan)
        assert finished.status == "completed"
        finals = _finals(events)
        gaps.append(finals["GroupNorm · batch 2"]["test_accuracy"] - finals["BatchNorm · batch 2"]["test_accuracy"])
    assert sum(gaps) / len(gaps) > 0.1, gaps
    assert sum(g > 0 for g in gaps) >= 2, gaps
