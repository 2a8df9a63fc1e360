"""The two sweep lessons' claims (scenarios/weight-decay-sweep.toml, dropout-sweep.toml) as ranges and
counts over seeds 0–4 with margins measured under five numerics settings (default,
ATEN_CPU_CAPABILITY=default or avx2, MKL_CBWR=COMPATIBLE, both), and why the dropout sweep's p = 0.5
run is not the dropout lesson's."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from regtui.events import Curve, Final, Metrics

SEEDS = range(5)
LAMS = (0.0, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)
PS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def _rough(y):
    return sum((y[i + 1] - 2 * y[i] + y[i - 1]) ** 2 for i in range(1, len(y) - 1))


def _count(pred) -> int:
    return sum(1 for s in SEEDS if pred(s))


def _by_value(doc: dict[str, Any], events: list[Any], key: str) -> tuple[dict, dict]:
    """(value, seed) -> final values and -> last fit curve, for the sweep over ``key``."""
    name = {v["name"]: v["params"][key] for v in doc["variants"]}
    finals = {(name[e.variant], e.seed): e.values for e in events if isinstance(e, Final)}
    fits = {(name[e.variant], e.seed): e for e in events if isinstance(e, Curve) and e.name == "fit"}
    return finals, fits


@pytest.fixture(scope="module")
def wd(lessons):
    doc, events = lessons.run("weight-decay-sweep", seed=0, seeds=len(SEEDS))
    return _by_value(doc, events, "weight_decay")


@pytest.fixture(scope="module")
def dropout(lessons):
    doc, events = lessons.run("dropout-sweep", seed=0, seeds=len(SEEDS))
    return _by_value(doc, events, "dropout")


def test_texts(lessons):
    wd_text = lessons.text("weight-decay-sweep")
    for phrase in (
        "1 − lr·λ/(1 − μ)",
        "their figures agree up to float32 rounding",
        "measured on seeds 0–4, `--seeds 5`",
        "at λ = 1e-3 the last train loss stays below 1e-3 and the final test loss within 0.02 of λ = 0's on each",
        "falls from about 0.22 at λ = 0 to about 0.1 at λ = 0.1",
        "at an intermediate λ (0.01–0.3) on at least 4 of seeds 0–4",
        "(train 0.5–1.6, test 0.7–1.1 on seeds 0–4; the highest test loss of the sweep on at least 4 of them, "
        "about 0.87 on average)",
        "below 0.001 on at least 4 of seeds 0–4",
        "falls with every step up in λ on at least 4 of seeds 0–4 (from 16–17.5 at λ = 0 to below 0.3 at λ = 1)",
        "Which λ is best differs from seed to seed",
    ):
        assert phrase in wd_text, phrase
    d_text = lessons.text("dropout-sweep")
    for phrase in (
        "measured on seeds 0–4, `--seeds 5`",
        "its figures agree with that run up to float32 rounding",
        "above p = 0's for each p > 0 on at least 4 of seeds 0–4 (0.005–1 against below 2e-4)",
        "does not rise steadily with p on every seed",
        "5–15 of the 30 curves with p > 0 on seeds 0–4",
        "lower at each p from 0.2 to 0.5 than at p = 0",
        "the p with the lowest final test loss differs from seed to seed",
        "each model taking its own slice of every draw",
        "`--sweep dropout=0,0.5` stacks the same two models as the Dropout lesson and gives its numbers exactly",
        "p = 0.8 turns inf/NaN within the first 50 steps on at least 4 of seeds 0–4",
        "p = 0.7 within the first 300 steps on at least 2 of them and p = 0.5 on at most 1",
    ):
        assert phrase in d_text, phrase
    for text in (wd_text, d_text):
        assert "on seed 0" not in text and "at step 74" not in text  # no single seed's outcome
    assert "exactly the plain network" not in d_text and "exactly the two runs" not in wd_text


def test_weight_decay_sweep(wd, lessons):
    f, fits = wd
    assert {s for _, s in f} == set(SEEDS)
    for s in SEEDS:
        assert f[(1e-3, s)]["train_loss"] < 1e-3
        assert abs(f[(1e-3, s)]["test_loss"] - f[(0.0, s)]["test_loss"]) < 0.02
        assert 0.5 <= f[(1.0, s)]["train_loss"] <= 1.6 and 0.7 <= f[(1.0, s)]["test_loss"] <= 1.1
    mean = {lam: sum(f[(lam, s)]["test_loss"] for s in SEEDS) / len(SEEDS) for lam in LAMS}
    assert abs(mean[0.0] - 0.22) < 0.03 and abs(mean[0.1] - 0.1) < 0.03 and abs(mean[1.0] - 0.87) < 0.05
    best = {s: min(LAMS, key=lambda lam: f[(lam, s)]["test_loss"]) for s in SEEDS}
    assert _count(lambda s: 0.01 <= best[s] <= 0.3) >= 4
    assert len(set(best.values())) >= 2  # "differs from seed to seed"
    assert _count(lambda s: max(LAMS, key=lambda lam: f[(lam, s)]["test_loss"]) == 1.0) >= 4
    assert _count(lambda s: max(fits[(1.0, s)].y) - min(fits[(1.0, s)].y) < 1e-3) >= 4
    norms = {s: [f[(lam, s)]["weight_norm"] for lam in LAMS] for s in SEEDS}
    assert _count(lambda s: all(b < a for a, b in itertools.pairwise(norms[s]))) >= 4
    assert all(16 <= norms[s][0] <= 17.5 and norms[s][-1] < 0.3 for s in SEEDS)
    # λ = 0 and λ = 0.01 are the weight-decay lesson's two runs, up to float32 rounding amplified over 2000 steps.
    _, events = lessons.run("weight-decay", seed=0)
    for name, lam in (("no weight decay", 0.0), ("weight decay", 1e-2)):
        final = next(e.values for e in events if isinstance(e, Final) and e.variant == name)
        assert final["test_loss"] == pytest.approx(f[(lam, 0)]["test_loss"], rel=0.05)
        assert final["weight_norm"] == pytest.approx(f[(lam, 0)]["weight_norm"], rel=1e-3)


def test_dropout_sweep(dropout, wd):
    f, fits = dropout
    assert {s for _, s in f} == set(SEEDS)
    assert all(f[(0.0, s)]["train_loss"] < 2e-4 for s in SEEDS)
    for p in PS[1:]:
        assert sum(1 for s in SEEDS if f[(p, s)]["train_loss"] > f[(0.0, s)]["train_loss"]) >= 4
        assert all(0.005 <= f[(p, s)]["train_loss"] <= 1 for s in SEEDS)
    train = {s: [f[(p, s)]["train_loss"] for p in PS] for s in SEEDS}
    assert _count(lambda s: any(b < a for a, b in itertools.pairwise(train[s]))) >= 1  # not steadily rising
    rougher = sum(1 for p in PS[1:] for s in SEEDS if _rough(fits[(p, s)].y) > _rough(fits[(0.0, s)].y))
    assert 5 <= rougher <= 15
    mean = {p: sum(f[(p, s)]["test_loss"] for s in SEEDS) / len(SEEDS) for p in PS}
    assert all(mean[p] < mean[0.0] for p in (0.2, 0.3, 0.4, 0.5))
    assert len({min(PS, key=lambda p: f[(p, s)]["test_loss"]) for s in SEEDS}) >= 2
    # p = 0 is the plain network: the weight-decay sweep's λ = 0 run, up to float32 rounding amplified over 2000 steps.
    for s in SEEDS:
        assert f[(0.0, s)]["test_loss"] == pytest.approx(wd[0][(0.0, s)]["test_loss"], rel=0.05)


def test_dropout_sweep_divergence(lessons):
    """The first 300 steps of the text's command: where a run turns inf/NaN does not depend on iters."""
    doc, events = lessons.run("dropout-sweep", sets={"iters": 300}, sweep={"dropout": (0.5, 0.7, 0.8)}, seeds=5)
    f, _ = _by_value(doc, events, "dropout")
    step = {k: v["first_nonfinite_step"] for k, v in f.items()}
    assert _count(lambda s: step[(0.8, s)] is not None and step[(0.8, s)] <= 50) >= 4
    assert _count(lambda s: step[(0.7, s)] is not None) >= 2
    assert _count(lambda s: step[(0.5, s)] is not None) <= 1
    assert all(v["diverged"] == (step[k] is not None) for k, v in f.items())


def test_p_half_here_is_the_dropout_lesson_s_run_with_other_masks(lessons):
    """Same data and initial weights as the dropout lesson's dropout run, other masks; stacked as there
    (``--sweep dropout=0,0.5``), the very same numbers."""
    sets = {"iters": 100}
    lesson, lesson_events = lessons.run("dropout", sets=sets)
    sweep, sweep_events = lessons.run("dropout-sweep", sets=sets)
    pair, pair_events = lessons.run("dropout-sweep", sets=sets, sweep={"dropout": (0.0, 0.5)})

    def by_p(doc, events, kind):
        name = {v["name"]: v["params"]["dropout"] for v in doc["variants"]}
        return {name[e.variant]: e for e in reversed(events) if isinstance(e, kind)}  # the first event wins

    runs = (("l", lesson, lesson_events), ("s", sweep, sweep_events), ("p", pair, pair_events))
    first_fit, step1, finals = (
        {k: by_p(d, ev, Curve) for k, d, ev in runs},
        {k: by_p(d, ev, Metrics)[0.5].values["train_loss"][0] for k, d, ev in runs},
        {k: by_p(d, ev, Final) for k, d, ev in runs},
    )
    assert sweep["summary"]["data"] == lesson["summary"]["data"]
    assert first_fit["s"][0.5].y == first_fit["l"][0.5].y  # the same initial weights
    assert step1["s"] != pytest.approx(step1["l"], rel=1e-3)  # other masks from the first step
    assert finals["s"][0.5].values["test_loss"] != finals["l"][0.5].values["test_loss"]  # "different test losses"
    assert finals["p"][0.5].values == finals["l"][0.5].values  # stacked as in the lesson: exactly its run
    assert finals["p"][0.0].values == finals["l"][0.0].values


def test_dropout_sweep_s_scaling_demo_is_in_worked_numbers(lessons):
    """The text sends the reader to the Worked numbers view for the 1/(1 − p) factor on 10,000 ones."""
    assert "Worked numbers view shows that factor on the scaling demo's 10,000 ones" in " ".join(
        lessons.text("dropout-sweep").split()
    )
    doc, _ = lessons.run("dropout-sweep", sets={"iters": 1})
    worked = doc["summary"]["worked"]
    assert worked["n"] == 10000 and worked["train_output_mean"]["predicted"] == 10000
    assert worked["draws"][0]["train_output"]["measured"] == worked["draws"][0]["kept"] / (1 - worked["p"])
