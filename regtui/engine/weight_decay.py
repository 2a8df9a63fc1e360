"""Weight decay (L2): the tutorial's overfitting MLP trained with and without SGD's ``weight_decay``.

SGD with ``weight_decay=λ`` adds λ·w to every gradient, which is the gradient
of the L2 penalty λ·‖w‖²/2; with momentum 0 one step is
``w ← w·(1 − lr·λ) − lr·grad``: the weights shrink by a constant factor before
the gradient step, hence the name. With momentum μ the λ·w term accumulates in
the momentum buffer (≈ λ·w/(1 − μ) while w changes slowly), so the effective
shrink per step is about 1 − lr·λ/(1 − μ): ten times stronger at μ = 0.9. (This
equivalence with an L2 penalty holds for SGD only: Adam divides λ·w by its
adaptive denominator, and AdamW decouples the decay from the gradient.)

``Summary("worked")``: per variant, the shrink factors written with their numbers
and what they predict for a weight after ``ZERO_GRAD_STEPS`` steps with a zero data
gradient, beside a measured zero-gradient run of SGD's update (:mod:`regtui.engine.sgd`,
``torch.optim.SGD``'s arithmetic without importing ``torch.optim``, whose first optimizer
pulls in ``torch._dynamo``, ≈1 s; a test checks it against ``torch.optim.SGD``) on a small
float64 tensor (with the variant's momentum, and without momentum); the first
``MAX_WORKED`` variants only.

All runs of the plan are trained by :mod:`regtui.engine.mlp_training` (runs that
share hidden/layers/n_points/iters form one group of stacked models, see
:mod:`regtui.engine.stacked`; lr, momentum, weight_decay, dropout, slope and
noise may differ per model). Events, metric definitions and final values are
documented in mlp_training: ``Summary("data")``,
``Progress``, ``Metrics`` (train_loss, test_loss), ``Curve("fit")`` and
``Final`` (train_loss, test_loss, weight_norm, diverged, first_nonfinite_step).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from regtui.engine.context import Context
from regtui.engine.mlp_training import run_mlp_plan, units
from regtui.engine.sgd import sgd_update
from regtui.events import Summary
from regtui.scenario import Plan

ZERO_GRAD_STEPS = 1000
MAX_WORKED = 16  # variants with a worked entry (a long sweep would otherwise spend seconds here)

__all__ = ["run", "units"]  # units: the plan's stacks, each a Ray task (regtui.engine.ray_executor)


def zero_gradient_run(lr: float, weight_decay: float, momentum: float, steps: int = ZERO_GRAD_STEPS) -> float:
    """Measured: the norm after ``steps`` SGD steps (torch.optim.SGD's update) with a zero data
    gradient, from norm 1."""
    w = torch.full((4,), 0.5, dtype=torch.float64)  # ‖w‖ = 1
    buf = torch.empty_like(w)
    for step in range(steps):
        sgd_update(
            [w],
            [torch.zeros_like(w)],
            [buf],
            lr=lr,
            momentum=momentum,
            weight_decay=weight_decay,
            first=step == 0,
            fused=False,
        )
    return float(w.norm())


def predicted_exact(lr: float, weight_decay: float, momentum: float, steps: int = ZERO_GRAD_STEPS) -> float:
    """Predicted from the update rule alone (plain Python floats, no torch): the buffer b = μ·b + λ·w
    (b starts at 0), then w ← w − lr·b, with a zero data gradient, from w = 1."""
    w, b = 1.0, 0.0
    for _ in range(steps):
        b = momentum * b + weight_decay * w
        w -= lr * b
    return w


def _power(base: float, n: int) -> float:
    """base**n, or ±inf where it overflows (a diverging lr is a result, not an error)."""
    try:
        return base**n
    except OverflowError:
        return math.copysign(math.inf, base) if n % 2 else math.inf


def worked(lr: float, weight_decay: float, momentum: float, steps: int = ZERO_GRAD_STEPS) -> dict[str, Any]:
    shrink = 1 - lr * weight_decay
    effective = 1 - lr * weight_decay / (1 - momentum) if momentum < 1 else None
    return {
        "lr": lr,
        "weight_decay": weight_decay,
        "momentum": momentum,
        "zero_gradient_steps": steps,  # a separate weight under decay alone, not the run's iters
        "shrink_per_step": {"formula": f"1 − lr·λ = 1 − {lr:g}·{weight_decay:g}", "predicted": shrink},
        "effective_shrink_with_momentum": {
            "formula": f"1 − lr·λ/(1 − μ) = 1 − {lr:g}·{weight_decay:g}/(1 − {momentum:g})",
            "predicted": effective,
        },
        "zero_gradient_norm_without_momentum": {
            "formula": f"(1 − lr·λ)^{steps}",
            "predicted": _power(shrink, steps),
            "measured": zero_gradient_run(lr, weight_decay, 0.0, steps),
        },
        "zero_gradient_norm_with_momentum": {
            "formula": f"(1 − lr·λ/(1 − μ))^{steps}",
            "predicted": None if effective is None else _power(effective, steps),
            "predicted_exact": predicted_exact(lr, weight_decay, momentum, steps),
            "measured": zero_gradient_run(lr, weight_decay, momentum, steps),
        },
    }


def run(plan: Plan, ctx: Context) -> None:
    out: dict[str, Any] = {}
    for r in plan.runs if ctx.lead else ():  # the worked numbers belong to the plan: its lead part's
        if r.variant not in out and len(out) < MAX_WORKED:
            ctx.check()
            p = r.params
            out[r.variant] = worked(p["lr"], p["weight_decay"], p["momentum"])
    try:
        run_mlp_plan(plan, ctx)
    finally:  # after the training's own summaries ("data" first), also when the run is interrupted
        if ctx.lead:
            ctx.emit(Summary("worked", out))
