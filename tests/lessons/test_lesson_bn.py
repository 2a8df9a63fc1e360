"""The bn lesson's claims (scenarios/bn.toml) against the engine's output, seeds 0–2."""

from __future__ import annotations

import math

import pytest
import torch

SEEDS = (0, 1, 2)
TINY = float(torch.finfo(torch.float32).tiny)


@pytest.fixture(scope="module")
def measured(lessons):
    """The measuring pass only (train_steps = 0), seeds 0–2: the per-layer numbers do not depend on training."""
    doc, _ = lessons.run("bn", sets={"train_steps": 0}, seed=0, seeds=3)
    return doc["summary"]["worked"]


@pytest.fixture(scope="module")
def trained(lessons):
    doc, _ = lessons.run("bn", seed=0)
    return doc


def _w(worked, variant, seed):
    return worked[f"{variant} · seed {seed}"]


def test_text_states_the_measured_numbers(lessons):
    text = lessons.text("bn")
    for phrase in (
        "√(1/6) ≈ 0.408",
        "0.402–0.407 on seeds 0–2",
        "**subnormal**",
        "2.2e-40 to 8.2e-40 on seeds 0–2",
        "L = 98",
        "at L = 37",
        "block 36–37 on seeds 0–2",
        "0.580–0.581",
        "0.17–0.36",
        "step 20–30",
    ):
        assert phrase in text, phrase
    assert "exactly 0 in float32" not in text


def test_default_init_factor_and_subnormal_activations(measured):
    assert math.sqrt(1 / 6) == pytest.approx(0.408, abs=5e-4)
    assert math.ceil(math.log(TINY) / math.log(math.sqrt(1 / 6))) == 98
    assert math.sqrt(1 / 6) ** 100 == pytest.approx(1e-39, rel=0.3)
    for s in SEEDS:
        w = _w(measured, "default init", s)
        assert w["factor"]["predicted"] == pytest.approx(math.sqrt(1 / 6))
        assert 0.402 <= round(w["factor"]["measured"], 3) <= 0.407
        assert w["subnormal_block"]["predicted"] == 98
        std = w["std_last_block"]["measured"]
        # Subnormal, not zero (plain PyTorch's behaviour, flushing off during the measurement).
        assert 0 < std < TINY
        assert 2.2e-40 <= float(f"{std:.1e}") <= 8.2e-40
        # The worked prediction (√(1 − 1/π)·0.408¹⁰⁰ ≈ 1e-39) is within a factor 5 of the measured std.
        assert w["std_last_block"]["predicted"] / 5 < std < w["std_last_block"]["predicted"] * 5


def test_flushing_is_back_on_after_the_measurement(measured):
    # The runner turns flushing on for training; bn.py turns it off only around the measurement.
    assert float(torch.tensor(1e-39, dtype=torch.float32) * 1.0) == 0.0


def test_normal_init_overflows_where_predicted(measured):
    assert math.ceil(math.log(float(torch.finfo(torch.float32).max)) / math.log(math.sqrt(128))) == 37
    for s in SEEDS:
        w = _w(measured, "normal init", s)
        assert w["factor"]["predicted"] == pytest.approx(11.31, abs=0.01)
        assert w["factor"]["measured"] == pytest.approx(w["factor"]["predicted"], rel=0.03)
        assert w["overflow_block"]["predicted"] == 37
        assert w["overflow_block"]["measured"] in (36, 37)


def test_kaiming_and_batchnorm_factors(measured):
    assert math.sqrt(0.5 - 1 / (2 * math.pi)) == pytest.approx(0.584, abs=5e-4)
    for s in SEEDS:
        assert _w(measured, "kaiming init", s)["factor"]["measured"] == pytest.approx(1.0, rel=0.02)
        bn = _w(measured, "batchnorm", s)
        assert bn["factor"]["measured"] == pytest.approx(1.0, rel=1e-3)
        assert 0.580 <= round(bn["std_last_block"]["measured"], 3) <= 0.581


def test_worked_measured_matches_the_layer_stats(trained, lessons):
    per_seed = lessons.per_seed
    for name in ("default init", "kaiming init", "batchnorm"):
        v = per_seed(trained, name)[0]
        worked = trained["summary"]["worked"][f"{name} · seed 0"]
        assert worked["std_last_block"]["measured"] == v["final"]["output_std"]


def test_training_claims_at_seed_0(trained, lessons):
    per_seed = lessons.per_seed
    ln4 = math.log(4)
    default = per_seed(trained, "default init")[0]
    assert all(abs(x - ln4) < 0.05 for x in default["series"]["train_loss"])
    assert len(default["series"]["train_loss"]) == 80
    normal = per_seed(trained, "normal init")[0]["final"]
    assert normal["diverged"] and normal["first_nonfinite_step"] == 1
    assert round(per_seed(trained, "kaiming init")[0]["final"]["train_loss"], 2) == 1.32
    bn = per_seed(trained, "batchnorm")[0]["final"]["train_loss"]
    assert round(bn, 2) == 1.52 and bn > ln4


def test_shallow_net_at_lr_0_1(lessons):
    per_seed = lessons.per_seed
    doc, _ = lessons.run("bn", sets={"depth": 10, "lr": 0.1}, seed=0, seeds=3)
    bn, kaiming = per_seed(doc, "batchnorm"), per_seed(doc, "kaiming init")
    for s in SEEDS:
        assert 0.17 <= round(bn[s]["final"]["train_loss"], 2) <= 0.36
        assert kaiming[s]["final"]["diverged"]
        assert 20 <= kaiming[s]["final"]["first_nonfinite_step"] <= 30


@pytest.fixture(scope="module")
def bn_trained_profiles(lessons):
    """The batchnorm net alone (every variant set to it merges into one), seeds 0–2: its profile at step 80."""
    _, events = lessons.run("bn", sets={"init": "normal", "batchnorm": True}, seed=0, seeds=3)
    from regtui.events import LayerStats

    return {e.seed: e for e in events if isinstance(e, LayerStats) and e.step == 80}


def test_batchnorm_profile_after_training(lessons, bn_trained_profiles):
    text = lessons.text("bn")
    assert "block 1 is 2.5e6–3.6e6 and after block 50 28–46 on seeds 0–2" in text
    assert "block 100 stays at 0.57" in text
    assert sorted(bn_trained_profiles) == list(SEEDS)
    for profile in bn_trained_profiles.values():
        assert profile.first_nonfinite_layer is None
        assert 2.5e6 <= float(f"{profile.std[0]:.2g}") <= 3.6e6
        assert 28 <= round(profile.std[49]) <= 46
        assert round(profile.std[99], 2) == 0.57


def test_plain_pytorch_batchnorm_net_grows_its_first_gamma_and_beta(lessons):
    """An independent copy of the batchnorm net (nn.Sequential, torch.optim.SGD, the lesson's
    hyperparameters): after 80 steps the first BN layer's γ and β are of order 1e7."""
    from torch import nn
    from torch.nn import functional as F

    assert "γ and β of order 1e7 in its first BN layer" in lessons.text("bn")
    g = torch.Generator().manual_seed(0)
    depth, width, batch, classes = 100, 256, 16, 4
    layers: list[nn.Module] = []
    for _ in range(depth):
        linear = nn.Linear(width, width, bias=False)
        nn.init.normal_(linear.weight, generator=g)
        layers += [linear, nn.BatchNorm1d(width), nn.ReLU()]
    net = nn.Sequential(*layers, nn.Linear(width, classes))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    centers = torch.randn(classes, width, generator=g)
    for _ in range(80):
        labels = torch.randint(classes, (batch,), generator=g)
        x = (centers[labels] + torch.randn(batch, width, generator=g)) / math.sqrt(2.0)
        loss = F.cross_entropy(net(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    first_bn = net[1]
    for p in (first_bn.weight, first_bn.bias):
        assert 1e6 <= float(p.detach().abs().max()) < 1e8
    assert float(net[-3].weight.detach().abs().max()) < 10  # the last BN layer's γ barely moved
