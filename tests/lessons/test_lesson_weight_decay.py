"""The weight-decay lesson's claims (scenarios/weight-decay.toml) against the engine, seeds 0–9,
and its formulas (SGD with momentum, Adam, AdamW) against torch.optim."""

from __future__ import annotations

import pytest
import torch

SEEDS = range(10)


@pytest.fixture(scope="module")
def runs(lessons):
    doc, events = lessons.run("weight-decay", seed=0, seeds=10)
    from regtui.events import Curve

    curves = {(e.variant, e.seed): e for e in events if isinstance(e, Curve) and e.name == "fit"}
    return doc, curves, lessons.per_seed(doc, "no weight decay"), lessons.per_seed(doc, "weight decay")


def _roughness(y):
    return sum((y[i + 1] - 2 * y[i] + y[i - 1]) ** 2 for i in range(1, len(y) - 1))


def _distance_to_line(c):
    return sum((y - 1.5 * x) ** 2 for x, y in zip(c.x, c.y)) / len(c.x)


def test_text(lessons):
    text = lessons.text("weight-decay")
    for phrase in (
        "1 − lr·λ/(1 − μ)",
        "0.999 per step instead of 0.9999",
        "ends at 0.905",
        "at 0.368 with μ = 0.9",
        "for SGD only",
        "adaptive denominator",
        "Decoupled Weight Decay Regularization",
        "measured on seeds 0–9, `--seeds 10`",
        "below 2e-4 at step 2000 on each of seeds 0–9",
        "ends at 0.07–0.6",
        "the gap is not the variance itself",
        "(0.005–0.05)",
        "lower than without decay on at least 9 of seeds 0–9 (about 0.22 against about 0.28",
        "on at least 9 of seeds 0–9, and smoother (a smaller sum of squared second differences) on at least 8",
        "3.5–6 against 16–17.5 on seeds 0–9",
        "stays above its train loss on at least 9 of seeds 0–9",
    ):
        assert phrase in text, phrase
    assert "the widening gap is the variance" not in text
    assert "not at seed 3" not in text  # no single seed's outcome
    assert "so the shrink compounds the same way" not in text


def test_worked_numbers(runs):
    doc = runs[0]
    w = doc["summary"]["worked"]["weight decay"]
    assert w["shrink_per_step"]["predicted"] == pytest.approx(0.9999)
    assert w["effective_shrink_with_momentum"]["predicted"] == pytest.approx(0.999)
    plain, mom = w["zero_gradient_norm_without_momentum"], w["zero_gradient_norm_with_momentum"]
    assert round(plain["predicted"], 3) == round(plain["measured"], 3) == 0.905
    assert round(mom["predicted"], 3) == round(mom["measured"], 3) == 0.368
    assert w["zero_gradient_steps"] == 1000 and "steps" not in w  # not to be read as the run's iters
    assert mom["measured"] == pytest.approx(mom["predicted_exact"], rel=1e-12)
    assert mom["measured"] == pytest.approx(mom["predicted"], rel=1e-3)
    none = doc["summary"]["worked"]["no weight decay"]
    assert none["zero_gradient_norm_with_momentum"]["measured"] == 1.0


def test_measured_claims_over_seeds_0_to_9(runs):
    """Ranges and counts with margins measured under five numerics settings (see the text)."""
    _, curves, plain, decay = runs
    assert set(plain) == set(decay) == set(SEEDS)
    f = {(v, s): r[s]["final"] for v, r in (("no weight decay", plain), ("weight decay", decay)) for s in SEEDS}

    def count(pred) -> int:
        return sum(1 for s in SEEDS if pred(s))

    for s in SEEDS:
        p, d = f[("no weight decay", s)], f[("weight decay", s)]
        assert p["train_loss"] < 2e-4
        assert 0.07 <= p["test_loss"] <= 0.6
        assert 0.005 <= d["train_loss"] <= 0.05
        assert 3.5 <= d["weight_norm"] <= 6 and 16 <= p["weight_norm"] <= 17.5
    assert count(lambda s: f[("weight decay", s)]["test_loss"] < f[("no weight decay", s)]["test_loss"]) >= 9
    mean = {v: sum(f[(v, s)]["test_loss"] for s in SEEDS) / len(SEEDS) for v in ("no weight decay", "weight decay")}
    assert abs(mean["weight decay"] - 0.22) < 0.02 and abs(mean["no weight decay"] - 0.28) < 0.02
    assert count(lambda s: f[("weight decay", s)]["test_loss"] > f[("weight decay", s)]["train_loss"]) >= 9
    wd, none = ({s: curves[(v, s)] for s in SEEDS} for v in ("weight decay", "no weight decay"))
    assert count(lambda s: _distance_to_line(wd[s]) < _distance_to_line(none[s])) >= 9
    assert count(lambda s: _roughness(wd[s].y) < _roughness(none[s].y)) >= 8


def _steps(opt_cls, loss_fn, steps=50, **kw):
    torch.manual_seed(0)
    target = torch.randn(6, dtype=torch.float64)
    w = torch.randn(6, dtype=torch.float64, requires_grad=True)
    opt = opt_cls([w], **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(w, target).backward()
        opt.step()
    return w.detach()


def _cost(w, t):
    return ((w - t) ** 4).sum()


def test_sgd_momentum_weight_decay_is_the_l2_penalty():
    lam = 0.01
    a = _steps(torch.optim.SGD, _cost, lr=0.01, momentum=0.9, weight_decay=lam)
    b = _steps(torch.optim.SGD, lambda w, t: _cost(w, t) + lam * (w**2).sum() / 2, lr=0.01, momentum=0.9)
    assert torch.allclose(a, b, rtol=0, atol=1e-12)


def test_adam_divides_the_decay_and_adamw_decouples_it():
    lam, lr = 0.1, 0.01
    penalty = lambda w, t: _cost(w, t) + lam * (w**2).sum() / 2  # noqa: E731
    adam_wd = _steps(torch.optim.Adam, _cost, lr=lr, weight_decay=lam)
    adam_l2 = _steps(torch.optim.Adam, penalty, lr=lr)
    assert torch.allclose(adam_wd, adam_l2, rtol=0, atol=1e-12)  # Adam's weight_decay: λ·w into the gradient
    adamw = _steps(torch.optim.AdamW, _cost, lr=lr, weight_decay=lam)
    assert not torch.allclose(adamw, adam_l2, atol=1e-6)  # AdamW is not the L2 penalty
    # One AdamW step = multiply by (1 − lr·λ), then the plain Adam step (decoupled).
    w0 = torch.tensor([2.0, -3.0], dtype=torch.float64, requires_grad=True)
    g = torch.tensor([0.5, 0.1], dtype=torch.float64)
    opt = torch.optim.AdamW([w0], lr=lr, weight_decay=lam)
    w0.grad = g.clone()
    start = w0.detach().clone()
    opt.step()
    adam_step = lr * g / (g.abs() + 1e-8)  # first Adam step: m̂ = g, √v̂ = |g|
    assert torch.allclose(w0.detach(), start * (1 - lr * lam) - adam_step, rtol=0, atol=1e-12)
    # Adam's λ·w is divided by the adaptive denominator: with zero data gradient, the first step is lr·sign(w).
    w1 = torch.tensor([2.0, -300.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w1], lr=lr, weight_decay=lam)
    w1.grad = torch.zeros(2, dtype=torch.float64)
    opt.step()
    assert torch.allclose(w1.detach(), torch.tensor([2.0 - lr, -300.0 + lr], dtype=torch.float64), atol=1e-9)
