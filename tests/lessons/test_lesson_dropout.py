"""The dropout lesson's claims (scenarios/dropout.toml) against the engine: the scaling demo's formulas
exactly, and the training claims as ranges and counts over seeds 0–9 with margins measured under five
numerics settings (default, ATEN_CPU_CAPABILITY=default or avx2, MKL_CBWR=COMPATIBLE, both)."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import pytest

from regtui.events import Curve, Final, Metrics

SEEDS = range(10)
D, N = "dropout", "no dropout"


@pytest.fixture(scope="module")
def runs(lessons):
    doc, events = lessons.run("dropout", seed=0, seeds=10)
    curves = {(e.variant, e.seed): e for e in events if isinstance(e, Curve) and e.name == "fit"}
    finals = {(e.variant, e.seed): e.values for e in events if isinstance(e, Final)}
    series: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for e in events:
        if isinstance(e, Metrics) and e.variant == D:
            for k, v in e.values.items():
                series[e.seed][k].extend(v)
    return doc, curves, finals, series


def _rough(y):
    return sum((y[i + 1] - 2 * y[i] + y[i - 1]) ** 2 for i in range(1, len(y) - 1))


def _dist(c):
    return sum((y - 1.5 * x) ** 2 for x, y in zip(c.x, c.y)) / len(c.x)


def _count(pred) -> int:
    return sum(1 for s in SEEDS if pred(s))


def test_text(lessons):
    text = lessons.text("dropout")
    for phrase in (
        "√(n·p/(1 − p)) = 100",
        "the 50 draws (5 per seed) all lay between 9,700 and 10,300",
        "larger on at least 9 of seeds 0–9",
        "above the eval-mode test loss on some of seeds 0–9 and below it on others (at least one of each)",
        "each model taking its own slice of every draw",
        "alone and inside `--seeds 10` start from the same weights and data but draw other masks",
        "measured on seeds 0–9, `--seeds 10`",
        "was 0.05–1, higher than without dropout on at least 9 of seeds 0–9",
        "the train–test gap is smaller on at least 6 of seeds 0–9",
        "lower with dropout on at least 6 of seeds 0–9 and higher on at least 1",
        "about 0.22 against about 0.28 without",
        "the spread over seeds is as large as the effect",
        "on at least 7 of seeds 0–9, but not reliably closer",
        "smaller on only about half of seeds 0–9 (between 2 and 8 of them)",
    ):
        assert phrase in text, phrase
    assert "usually higher" not in text
    assert "(seeds 0, 4, 6, 8)" not in text and "0.188" not in text  # no single seed's outcome


def test_scaling_worked_and_measured(lessons, runs):
    worked = [runs[0]["summary"]["worked"]]
    for seed in SEEDS[1:]:  # the scaling demo uses the base seed; training does not matter for it
        doc, _ = lessons.run("dropout", sets={"iters": 1}, seed=seed)
        worked.append(doc["summary"]["worked"])
    outputs = []
    for w in worked:
        n, p = w["n"], w["p"]
        assert (n, p) == (10000, 0.5)
        assert w["train_output_std"]["predicted"] == pytest.approx(100.0)
        assert w["train_output_mean"]["predicted"] == n
        assert w["eval_output"]["measured"] == w["eval_output"]["predicted"] == n
        for d in w["draws"]:
            assert d["train_output"]["measured"] == d["train_output"]["predicted"] == d["kept"] / (1 - p)
            outputs.append(d["train_output"]["measured"])
        # 5 draws: their mean lies within 4 standard errors of n, their std within a factor 3 of 100.
        assert abs(w["train_output_mean"]["measured"] - n) < 4 * 100 / math.sqrt(5)
        assert 100 / 3 < w["train_output_std"]["measured"] < 300
    assert len(outputs) == 50 and 9700 <= min(outputs) and max(outputs) <= 10300  # within 3 std of n


def test_forgotten_eval(runs):
    _, _, f, series = runs
    above = _count(lambda s: f[(D, s)]["test_loss_train_mode"] > f[(D, s)]["test_loss"])
    assert 1 <= above <= len(SEEDS) - 1  # "at least one of each"

    def jumps(xs):
        return sum(abs(b - a) for a, b in itertools.pairwise(xs)) / (len(xs) - 1)

    assert _count(lambda s: jumps(series[s]["test_loss_train_mode"]) > jumps(series[s]["test_loss"])) >= 9


def test_training_claims(runs):
    _, curves, f, _ = runs
    assert {s for _, s in f} == set(SEEDS)
    assert all(0.05 <= f[(D, s)]["train_loss"] <= 1 for s in SEEDS)
    assert _count(lambda s: f[(D, s)]["train_loss"] > f[(N, s)]["train_loss"]) >= 9

    def gap(v, s):
        return f[(v, s)]["test_loss"] - f[(v, s)]["train_loss"]

    assert _count(lambda s: gap(D, s) < gap(N, s)) >= 6
    lower = _count(lambda s: f[(D, s)]["test_loss"] < f[(N, s)]["test_loss"])
    assert 6 <= lower <= len(SEEDS) - 1  # lower on at least 6, higher on at least 1
    mean = {v: sum(f[(v, s)]["test_loss"] for s in SEEDS) / len(SEEDS) for v in (D, N)}
    assert abs(mean[D] - 0.22) < 0.03 and abs(mean[N] - 0.28) < 0.03 and mean[D] < mean[N]
    # "the spread over seeds is as large as the effect": each variant's range over seeds exceeds the gap of the means
    for v in (D, N):
        tests = [f[(v, s)]["test_loss"] for s in SEEDS]
        assert max(tests) - min(tests) > mean[N] - mean[D]
    assert _count(lambda s: _rough(curves[(D, s)].y) < _rough(curves[(N, s)].y)) >= 7
    assert 2 <= _count(lambda s: _dist(curves[(D, s)]) < _dist(curves[(N, s)])) <= 8


def test_a_seed_alone_and_inside_seeds_10_draws_other_masks(lessons):
    """Same data and initial weights, other dropout masks (the masks depend on the models stacked beside it)."""
    alone, alone_events = lessons.run("dropout", sets={"iters": 25}, seed=0)
    among, among_events = lessons.run("dropout", sets={"iters": 25}, seed=0, seeds=10)
    assert among["summary"]["data"] == alone["summary"]["data"]

    def first(events, kind, variant):
        return next(e for e in events if isinstance(e, kind) and e.variant == variant and e.seed == 0)

    for v in (N, D):  # the fit before training: the same initial weights
        assert first(among_events, Curve, v).y == first(alone_events, Curve, v).y
    no_drop = [first(ev, Metrics, N).values["train_loss"] for ev in (alone_events, among_events)]
    assert no_drop[0] == pytest.approx(no_drop[1], rel=1e-6)  # no masks: the same training
    step1 = [first(ev, Metrics, D).values["train_loss"][0] for ev in (alone_events, among_events)]
    assert step1[0] != pytest.approx(step1[1], rel=1e-3)  # the same weights, other masks
