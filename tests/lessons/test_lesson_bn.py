"""The bn lesson's claims (scenarios/bn.toml) against the engine's output.

The measuring pass (no training) is checked on seeds 0–9, the 80 training steps on seeds 0–4
(each seed trains three 100-layer nets, one at a time), the shallow run on seeds 0–9. Ranges and
counts carry margins measured under five numerics settings (default, ATEN_CPU_CAPABILITY=default
and =avx2, MKL_CBWR=COMPATIBLE, both), so they hold on any machine; no single seed's figure is
pinned."""

from __future__ import annotations

import math

import pytest
import torch

from regtui.events import LayerStats

MEASURED_SEEDS = tuple(range(10))
TRAINED_SEEDS = tuple(range(5))
TINY = float(torch.finfo(torch.float32).tiny)
LN4 = math.log(4)


@pytest.fixture(scope="module")
def measured(lessons):
    """The measuring pass only (train_steps = 0), seeds 0–9: the per-layer numbers do not depend on training."""
    doc, _ = lessons.run("bn", sets={"train_steps": 0}, seed=0, seeds=len(MEASURED_SEEDS))
    return doc["summary"]["worked"]


@pytest.fixture(scope="module")
def trained(lessons):
    """The scenario at its defaults (80 steps), seeds 0–4: (document, batchnorm profiles at step 80 by seed)."""
    doc, events = lessons.run("bn", seed=0, seeds=len(TRAINED_SEEDS))
    profiles = {e.seed: e for e in events if isinstance(e, LayerStats) and e.variant == "batchnorm" and e.step == 80}
    return doc, profiles


def _w(worked, variant, seed):
    return worked[f"{variant} · seed {seed}"]


def test_text_states_the_measured_numbers(lessons):
    text = lessons.text("bn")
    for phrase in (
        "√(1/6) ≈ 0.408",
        "0.40–0.42 on seeds 0–9",
        "**subnormal**",
        "between 1e-40 and 3e-39 on seeds 0–9",
        "L = 98",
        "at L = 37",
        "block 35–37 on seeds 0–9",
        "0.56–0.60 after block 100 on seeds 0–9",
        "within 0.1 for all 80 steps on seeds 0–4",
        "dips below 1.3 on at least 4 of seeds 0–4",
        "last loss 0.8–1.5 over those seeds",
        "above chance on at least 4 of seeds 0–4 (1.4–1.7)",
        "(on seeds 0–4: block 1 1e6–1e7, block 50 20–100, block 100 0.55–0.60)",
        "1e6/(1 + √15) ≈ 2e5",
    ):
        assert phrase in text, phrase
    assert "exactly 0 in float32" not in text
    assert "at seed 0" not in text  # no single seed's figure as what the user will see


def test_default_init_factor_and_subnormal_activations(measured):
    """Measured over seeds 0–9 (five settings): factor 0.4022–0.4110, last std 2.2e-40–2.0e-39."""
    assert math.sqrt(1 / 6) == pytest.approx(0.408, abs=5e-4)
    assert math.ceil(math.log(TINY) / math.log(math.sqrt(1 / 6))) == 98
    assert math.sqrt(1 / 6) ** 100 == pytest.approx(1e-39, rel=0.3)
    for s in MEASURED_SEEDS:
        w = _w(measured, "default init", s)
        assert w["factor"]["predicted"] == pytest.approx(math.sqrt(1 / 6))
        assert 0.40 <= w["factor"]["measured"] <= 0.42
        assert w["subnormal_block"]["predicted"] == 98
        std = w["std_last_block"]["measured"]
        # Subnormal, not zero (plain PyTorch's behaviour, flushing off during the measurement).
        assert 0 < std < TINY
        assert 1e-40 <= std <= 3e-39
        # The worked prediction (√(1 − 1/π)·0.408¹⁰⁰ ≈ 1e-39) is within a factor 5 of the measured std.
        assert w["std_last_block"]["predicted"] / 5 < std < w["std_last_block"]["predicted"] * 5


def test_flushing_is_back_on_after_the_measurement(measured):
    # The runner turns flushing on for training; bn.py turns it off only around the measurement.
    assert float(torch.tensor(1e-39, dtype=torch.float32) * 1.0) == 0.0


def test_normal_init_overflows_where_predicted(measured):
    """Measured over seeds 0–9 (five settings): factor 11.13–11.34, inf/NaN at block 36 or 37."""
    assert math.ceil(math.log(float(torch.finfo(torch.float32).max)) / math.log(math.sqrt(128))) == 37
    for s in MEASURED_SEEDS:
        w = _w(measured, "normal init", s)
        assert w["factor"]["predicted"] == pytest.approx(11.31, abs=0.01)
        assert w["factor"]["measured"] == pytest.approx(w["factor"]["predicted"], rel=0.03)
        assert w["overflow_block"]["predicted"] == 37
        assert 35 <= w["overflow_block"]["measured"] <= 37


def test_kaiming_and_batchnorm_factors(measured):
    """Measured over seeds 0–9 (five settings): kaiming factor 0.983–1.002, batchnorm 0.9998–1.0002
    with a last std of 0.572–0.588."""
    assert math.sqrt(0.5 - 1 / (2 * math.pi)) == pytest.approx(0.584, abs=5e-4)
    for s in MEASURED_SEEDS:
        assert _w(measured, "kaiming init", s)["factor"]["measured"] == pytest.approx(1.0, rel=0.03)
        bn = _w(measured, "batchnorm", s)
        assert bn["factor"]["measured"] == pytest.approx(1.0, rel=1e-3)
        assert 0.56 <= bn["std_last_block"]["measured"] <= 0.60


def test_worked_measured_matches_the_layer_stats(trained, lessons):
    doc, _ = trained
    for name in ("default init", "kaiming init", "batchnorm"):
        for s, v in lessons.per_seed(doc, name).items():
            worked = doc["summary"]["worked"][f"{name} · seed {s}"]
            assert worked["std_last_block"]["measured"] == v["final"]["output_std"]


def test_training_claims_over_seeds_0_to_4(trained, lessons):
    """Measured over seeds 0–4 (five settings): default init within 0.049 of ln 4 at every step;
    kaiming's lowest loss 0.58–1.17, its last 0.93–1.40; batchnorm's last 1.46–1.63 (above ln 4 on
    every seed 0–9)."""
    doc, _ = trained
    default, normal = lessons.per_seed(doc, "default init"), lessons.per_seed(doc, "normal init")
    kaiming, bn = lessons.per_seed(doc, "kaiming init"), lessons.per_seed(doc, "batchnorm")
    assert set(default) == set(normal) == set(kaiming) == set(bn) == set(TRAINED_SEEDS)
    for s in TRAINED_SEEDS:
        losses = default[s]["series"]["train_loss"]
        assert len(losses) == 80 and all(abs(x - LN4) < 0.1 for x in losses)
        assert normal[s]["final"]["diverged"] and normal[s]["final"]["first_nonfinite_step"] == 1
        assert 0.8 <= kaiming[s]["final"]["train_loss"] <= 1.5
        assert 1.4 <= bn[s]["final"]["train_loss"] <= 1.7
    assert sum(min(kaiming[s]["series"]["train_loss"]) < 1.3 for s in TRAINED_SEEDS) >= 4
    assert sum(bn[s]["final"]["train_loss"] > LN4 for s in TRAINED_SEEDS) >= 4


def test_batchnorm_profile_after_training(trained):
    """Measured over seeds 0–4 (five settings): block 1 2.4e6–5.5e6, block 50 35–72, block 100 0.566–0.586."""
    _, profiles = trained
    assert sorted(profiles) == list(TRAINED_SEEDS)
    for profile in profiles.values():
        assert profile.first_nonfinite_layer is None
        std = profile.std
        assert std[0] > std[49] > std[99]  # in the millions at block 1, falling towards 0.58
        assert 1e6 <= std[0] <= 1e7
        assert 20 <= std[49] <= 100
        assert 0.55 <= std[99] <= 0.60


def test_a_std_of_millions_after_a_batchnorm_layer_needs_gamma_or_beta_of_that_order():
    """The text's bound: in a training batch of N, BatchNorm's normalized values satisfy |x̂| ≤ √(N − 1)
    (Samuelson's inequality, biased variance), so ReLU(γ·x̂ + β) ≤ max|γ|·√15 + max|β| at N = 16."""
    assert 1e6 / (1 + math.sqrt(15)) == pytest.approx(2e5, rel=0.03)
    g = torch.Generator().manual_seed(0)
    bn = torch.nn.BatchNorm1d(256).double().train()
    for x in (
        torch.randn(16, 256, generator=g, dtype=torch.float64),
        torch.randn(16, 256, generator=g, dtype=torch.float64) ** 5 * 1e3,  # heavy tails
        torch.cat([torch.full((1, 256), 1e4, dtype=torch.float64), torch.zeros(15, 256, dtype=torch.float64)]),
    ):
        with torch.no_grad():
            largest = float(bn(x).abs().max())
        assert largest <= math.sqrt(15)
    # The extreme case (the last one) reaches the bound: one outlier among 16 equal values.
    assert largest == pytest.approx(math.sqrt(15), rel=1e-6)


def test_shallow_net_at_lr_0_1(lessons):
    """Measured over seeds 0–9 (five settings): batchnorm's last loss below 1 on 9–10 seeds
    (0.04–1.38, mean 0.27–0.38); kaiming inf/NaN on 9–10 seeds, at step 12–33."""
    text = lessons.text("bn")
    assert "below 1 on at least 8 seeds and about 0.3 on average" in text
    assert "turned inf/NaN on at least 8 (at step 10–35)" in text
    seeds = range(10)
    doc, _ = lessons.run("bn", sets={"depth": 10, "lr": 0.1}, seed=0, seeds=len(seeds))
    bn, kaiming = lessons.per_seed(doc, "batchnorm"), lessons.per_seed(doc, "kaiming init")
    losses = [bn[s]["final"]["train_loss"] for s in seeds]
    assert sum(x < 1 for x in losses) >= 8
    assert 0.15 <= sum(losses) / len(losses) <= 0.6  # "about 0.3"
    diverged = [kaiming[s]["final"] for s in seeds if kaiming[s]["final"]["diverged"]]
    assert len(diverged) >= 8
    assert all(10 <= f["first_nonfinite_step"] <= 35 for f in diverged)
