"""Weight decay on every parameter vs only on the weights (pitfall lesson 7).

Every run trains ``layers`` × (Linear → LayerNorm | BatchNorm1d → ReLU) → Linear(hidden, 1)
(PyTorch's default init drawn from the run's generator: every variant of a seed starts from
the same weights and data) on a synthetic regression task — y = a fixed random two-layer
tanh teacher of x ~ N(0, I) plus noise of std 0.1 — with mini-batches drawn with replacement.

The optimizer (``torch.optim.AdamW`` or ``torch.optim.SGD``) gets

- ``exclude = false``: one group, every parameter decayed with λ = ``weight_decay``;
- ``exclude = true``: the usual two groups (:mod:`regtui.engine.decay_groups`) —
  ``{"params": weights, "weight_decay": λ}`` (the Linear weight matrices, every parameter with
  ``ndim >= 2`` here) and ``{"params": rest, "weight_decay": 0.0}`` (biases, and the norm
  layers' γ and β).

Per step (``Metrics``): ``train_loss``, ``test_loss`` (eval mode, after the step) and
``gamma_abs`` (mean |γ| over every norm layer). ``Final``: losses, ``gamma_abs``,
``gamma_norm`` (L2 norm of all γ), ``beta_norm`` and ``weight_norm`` (of the Linear weights).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from regtui.engine.context import Context
from regtui.engine.data import teacher_data
from regtui.engine.decay_groups import param_groups
from regtui.engine.loop import Tally, run_each, train_series
from regtui.engine.measures import param_norm
from regtui.engine.small_nets import mlp, regression_step
from regtui.events import Final, RunSpec
from regtui.scenario import Plan


def make_data(p: dict[str, Any], g: torch.Generator) -> tuple[torch.Tensor, ...]:
    return teacher_data(p["features"], p["train_samples"], p["test_samples"], g)


def norm_layers(model: nn.Module) -> list[nn.LayerNorm | nn.BatchNorm1d]:
    return [m for m in model.modules() if isinstance(m, (nn.LayerNorm, nn.BatchNorm1d))]


def make_optimizer(model: nn.Module, p: dict[str, Any]) -> torch.optim.Optimizer:
    groups = param_groups(model, p["weight_decay"], decay_all=not p["exclude"])
    if p["optimizer"] == "sgd":
        return torch.optim.SGD(groups, lr=p["lr"], momentum=p["momentum"])
    return torch.optim.AdamW(groups, lr=p["lr"])


def setup(p: dict[str, Any], seed: int) -> tuple[nn.Sequential, tuple[torch.Tensor, ...], torch.Generator]:
    """Model, data and the generator that then draws the mini-batch indices."""
    g = torch.Generator().manual_seed(seed)
    data = make_data(p, g)
    return mlp(p["features"], p["hidden"], p["layers"], 1, g, norm=p["norm"]), data, g


def gammas(model: nn.Module) -> torch.Tensor:
    return torch.cat([m.weight.detach().flatten() for m in norm_layers(model)])


def _run_one(run: RunSpec, ctx: Context, tally: Tally) -> None:
    p = run.params
    dev = ctx.device
    model, data, g = setup(p, run.seed)
    model.to(dev)
    x_train, y_train, x_test, y_test = (t.to(dev) for t in data)
    opt = make_optimizer(model, p)
    step = regression_step(
        model,
        opt,
        (x_train, y_train, x_test, y_test),
        p["batch"],
        g,
        extra=lambda m: {"gamma_abs": gammas(m).abs().mean()},
    )

    trained = train_series(ctx, run, p["steps"], lambda start, n: step, tally)
    model.eval()
    with torch.no_grad():
        test_loss = float(F.mse_loss(model(x_test), y_test))
        train_loss = float(F.mse_loss(model(x_train), y_train))
    norms = norm_layers(model)
    ctx.emit(
        Final(
            run.variant,
            run.seed,
            {
                "train_loss": train_loss,
                "test_loss": test_loss,
                "gamma_abs": float(gammas(model).abs().mean()),
                "gamma_norm": float(gammas(model).norm()),
                "beta_norm": float(param_norm([m.bias for m in norms])),
                "weight_norm": float(param_norm([q for q in model.parameters() if q.ndim >= 2])),
                "diverged": trained.first_nonfinite_step is not None,
                "first_nonfinite_step": trained.first_nonfinite_step,
            },
        )
    )


def run(plan: Plan, ctx: Context) -> None:
    run_each(plan, ctx, _run_one)
