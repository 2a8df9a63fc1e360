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
        "below 1e-4 at step 2000 on every one of seeds 0–9",
        "ends at 0.09–0.53",
        "the gap is not the variance itself",
        "(0.008–0.04)",
        "on 9 of them — not at seed 3",
        "3.7–5.5 against 16.5–17.1 on seeds 0–9",
    ):
        assert phrase in text, phrase
    assert "the widening gap is the variance" not in text
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
    _, curves, plain, decay = runs
    rough = {(v, s): _roughness(curves[(v, s)].y) for v in ("weight decay", "no weight decay") for s in SEEDS}
    smoother = [s for s in SEEDS if rough[("weight decay", s)] < rough[("no weight decay", s)]]
    assert smoother == [0, 1, 2, 4, 5, 6, 7, 8, 9]  # "smoother ... on 9 of them — not at seed 3"
    for s in SEEDS:
        p, d = plain[s]["final"], decay[s]["final"]
        assert p["train_loss"] < 1e-4
        assert 0.085 <= p["test_loss"] < 0.535
        assert 0.0075 <= d["train_loss"] < 0.045
        assert d["test_loss"] < p["test_loss"]
        assert d["test_loss"] > d["train_loss"]  # does not cure overfitting
        assert 3.65 <= d["weight_norm"] < 5.55 and 16.45 <= p["weight_norm"] < 17.15
        cp, cd = curves[("no weight decay", s)], curves[("weight decay", s)]
        assert _distance_to_line(cd) < _distance_to_line(cp)


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
