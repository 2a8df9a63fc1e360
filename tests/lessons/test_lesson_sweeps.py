"""The two sweep lessons' claims (scenarios/weight-decay-sweep.toml, dropout-sweep.toml), seeds 0–2."""

from __future__ import annotations

import itertools

import pytest

from regtui.events import Curve

SEEDS = (0, 1, 2)
LAMS = ("0", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1")
PS = ("0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6")


def _rough(y):
    return sum((y[i + 1] - 2 * y[i] + y[i - 1]) ** 2 for i in range(1, len(y) - 1))


def _fits(events):
    return {(e.variant, e.seed): e for e in events if isinstance(e, Curve) and e.name == "fit"}


@pytest.fixture(scope="module")
def wd(lessons):
    doc, events = lessons.run("weight-decay-sweep", seed=0, seeds=3)
    return {
        (lam, s): p["final"] for lam in LAMS for s, p in lessons.per_seed(doc, f"weight_decay={lam}").items()
    }, _fits(events)


@pytest.fixture(scope="module")
def dropout(lessons):
    doc, events = lessons.run("dropout-sweep", seed=0, seeds=3)
    return {(p, s): r["final"] for p in PS for s, r in lessons.per_seed(doc, f"dropout={p}").items()}, _fits(events)


def test_texts(lessons):
    wd_text = lessons.text("weight-decay-sweep")
    for phrase in (
        "1 − lr·λ/(1 − μ)",
        "at most 2e-4",
        "within 0.005 of λ = 0's",
        "λ = 0.1 on seed 0 and λ = 0.03 on seeds 1 and 2",
        "train 0.62–1.10, test 0.83–0.91",
        "below 0.001 on seeds 0–2",
        "16.5–16.8 at λ = 0 to below 0.1",
    ):
        assert phrase in wd_text, phrase
    d_text = lessons.text("dropout-sweep")
    for phrase in (
        "0.008–0.27",
        "4 of the 18 curves",
        "0.5 on seed 0, 0.1 on seed 1 and 0.3 on seed 2",
        "p = 0.7 turns inf/NaN at step 74 and p = 0.8 at step 24",
    ):
        assert phrase in d_text, phrase
    assert "exactly the plain network" not in d_text and "exactly the two runs" not in wd_text


def test_weight_decay_sweep(wd, lessons):
    f, fits = wd
    for s in SEEDS:
        assert f[("0.001", s)]["train_loss"] <= 2e-4
        assert abs(f[("0.001", s)]["test_loss"] - f[("0", s)]["test_loss"]) < 0.005
        norms = [f[(lam, s)]["weight_norm"] for lam in LAMS]
        assert all(b < a for a, b in itertools.pairwise(norms)) and 16.45 <= norms[0] < 16.85 and norms[-1] < 0.1
        assert 0.615 <= f[("1", s)]["train_loss"] < 1.105 and 0.825 <= f[("1", s)]["test_loss"] < 0.915
        assert max(LAMS, key=lambda lam: f[(lam, s)]["test_loss"]) == "1"
        y = fits[("weight_decay=1", s)].y
        assert max(y) - min(y) < 1e-3
    best = [min(LAMS, key=lambda lam: f[(lam, s)]["test_loss"]) for s in SEEDS]
    assert best == ["0.1", "0.03", "0.03"]
    # λ = 0 and λ = 0.01 are the weight-decay lesson's two runs (up to float32 rounding).
    doc, _ = lessons.run("weight-decay", seed=0)  # seed 0 (tests/lessons/test_lesson_weight_decay covers 0–9)
    for name, lam in (("no weight decay", "0"), ("weight decay", "0.01")):
        for s, p in lessons.per_seed(doc, name).items():
            for k in ("test_loss", "weight_norm"):
                assert p["final"][k] == pytest.approx(f[(lam, s)][k], rel=1e-3)


def test_dropout_sweep(dropout, wd):
    f, fits = dropout
    trains = [f[(p, s)]["train_loss"] for p in PS[1:] for s in SEEDS]
    assert all(f[("0", s)]["train_loss"] < 1e-4 for s in SEEDS)
    assert all(f[(p, s)]["train_loss"] > f[("0", s)]["train_loss"] for p in PS[1:] for s in SEEDS)
    assert (round(min(trains), 3), round(max(trains), 2)) == (0.008, 0.27)
    rising = [all(f[(b, s)]["train_loss"] >= f[(a, s)]["train_loss"] for a, b in itertools.pairwise(PS)) for s in SEEDS]
    assert not all(rising)  # "it does not rise steadily with p"
    rougher = [
        (p, s) for p in PS[1:] for s in SEEDS if _rough(fits[(f"dropout={p}", s)].y) > _rough(fits[("dropout=0", s)].y)
    ]
    assert len(rougher) == 4
    assert [min(PS, key=lambda p: f[(p, s)]["test_loss"]) for s in SEEDS] == ["0.5", "0.1", "0.3"]
    # p = 0 is the plain network: the weight-decay sweep's λ = 0 run (up to float32 rounding).
    for s in SEEDS:
        assert f[("0", s)]["test_loss"] == pytest.approx(wd[0][("0", s)]["test_loss"], rel=1e-3)


def test_dropout_sweep_divergence(lessons):
    doc, _ = lessons.run("dropout-sweep", sweep={"dropout": (0.5, 0.7, 0.8)}, seed=0)
    steps = {v["name"]: (v["final"]["diverged"], v["final"]["first_nonfinite_step"]) for v in doc["variants"]}
    assert steps == {"dropout=0.5": (False, None), "dropout=0.7": (True, 74), "dropout=0.8": (True, 24)}
