"""Dropout before BatchNorm vs after it: the variance shift (pitfall lesson 9).

Li, Chen, Hu, Yang: "Understanding the Disharmony between Dropout and Batch Normalization by
Variance Shift", CVPR 2019. Every run trains (``order``)

- ``before``: Linear(features, hidden) → ReLU → **Dropout(p) → BatchNorm1d**
  → Linear(hidden, hidden) → ReLU → Linear(hidden, 1)
- ``after``:  Linear(features, hidden) → ReLU → **BatchNorm1d → Dropout(p)** → (the same)
- ``none``:   the same without Dropout

with ``torch.optim.SGD(lr, momentum)`` on mini-batches (drawn with replacement) of the
teacher regression task (see :func:`regtui.engine.data.teacher_data`). PyTorch's default
init comes from a generator seeded with the run's seed (every variant of a seed starts from
the same weights and data); Dropout's masks come from torch's global generator, seeded with
the run's seed inside :func:`torch.random.fork_rng`.

Measured after training, at the BatchNorm layer's input over the whole test set (a forward
hook): ``eval_mean``/``eval_var`` (eval mode: Dropout off; biased variance), ``train_var``
(train mode: Dropout on; one forward pass on a copy of the model, so the running statistics
stay as trained) and ``running_var``. For dropout on an input of mean μ and variance σ²
(independent mask, kept values scaled by 1/(1 − p)) the train-mode variance is
(σ² + μ²)/(1 − p) − μ²; ``predicted_train_var`` is that formula from the eval-mode μ and σ².
Per feature in the ``bn_input`` table; ``Final`` holds the feature means of the ratios
``train_var / eval_var``, ``predicted_train_var / eval_var`` and ``running_var / eval_var``
(the variance shift) and the losses; ``test_loss_recalibrated`` is the test loss after
BatchNorm's statistics are recomputed on the training set with Dropout off.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from regtui.engine.context import Context
from regtui.engine.data import teacher_data
from regtui.engine.init import init_layers
from regtui.engine.loop import Tally, run_each, train_series
from regtui.engine.small_nets import regression_step
from regtui.events import Final, RunSpec, TableRows
from regtui.scenario import Plan

COLUMNS = ("variant", "seed", "feature", "eval_mean", "eval_var", "train_var", "predicted_train_var", "running_var")
SHOWN = 8  # features per run in the bn_input table


def make_model(p: dict[str, Any], g: torch.Generator) -> nn.Sequential:
    h = p["hidden"]
    bn = nn.BatchNorm1d(h, momentum=p["bn_momentum"])
    orders: dict[str, list[nn.Module]] = {
        "before": [nn.Dropout(p["p"]), bn],
        "after": [bn, nn.Dropout(p["p"])],
        "none": [bn],
    }
    middle = orders[p["order"]]
    model = nn.Sequential(nn.Linear(p["features"], h), nn.ReLU(), *middle, nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1))
    init_layers(model, g)
    return model


def batchnorm(model: nn.Module) -> nn.BatchNorm1d:
    return next(m for m in model.modules() if isinstance(m, nn.BatchNorm1d))


def bn_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The BatchNorm layer's input for ``x`` in the model's current mode."""
    seen: list[torch.Tensor] = []
    hook = batchnorm(model).register_forward_pre_hook(lambda m, args: seen.append(args[0].detach()))
    try:
        with torch.no_grad():
            model(x)
    finally:
        hook.remove()
    return seen[0]


def dropout_train_var(mean: torch.Tensor, var: torch.Tensor, p: float) -> torch.Tensor:
    """Variance of Dropout(p)'s output in train mode, for an input of the given mean and variance."""
    return (var + mean**2) / (1 - p) - mean**2


def measure(model: nn.Sequential, x: torch.Tensor, p: float) -> dict[str, torch.Tensor]:
    """Per-feature statistics of the BatchNorm input (see the module docstring)."""
    model.eval()
    h_eval = bn_input(model, x)
    h_train = bn_input(copy.deepcopy(model).train(), x)
    mean, var = h_eval.mean(0), h_eval.var(0, unbiased=False)
    running = batchnorm(model).running_var
    assert running is not None
    drop_before = any(isinstance(m, nn.Dropout) for m in list(model)[:3])
    return {
        "eval_mean": mean,
        "eval_var": var,
        "train_var": h_train.var(0, unbiased=False),
        "predicted_train_var": dropout_train_var(mean, var, p) if drop_before else var,
        "running_var": running.detach().clone(),
    }


def recalibrated(model: nn.Sequential, x_train: torch.Tensor) -> nn.Sequential:
    """A copy whose BatchNorm statistics are recomputed on the training set with Dropout off
    (the remedy Li et al. discuss): one train-mode BatchNorm pass, everything else in eval mode."""
    fixed = copy.deepcopy(model).eval()
    bn = batchnorm(fixed)
    bn.reset_running_stats()
    bn.momentum = None  # cumulative average: after one pass, exactly this pass's statistics
    bn.train()
    with torch.no_grad():
        fixed(x_train)
    return fixed.eval()


def _run_one(run: RunSpec, ctx: Context, tally: Tally) -> None:
    p = run.params
    dev = ctx.device
    g = torch.Generator().manual_seed(run.seed)
    x_train, y_train, x_test, y_test = (
        t.to(dev) for t in teacher_data(p["features"], p["train_samples"], p["test_samples"], g)
    )
    model = make_model(p, g).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"])
    step = regression_step(model, opt, (x_train, y_train, x_test, y_test), p["batch"], g)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(run.seed)
        trained = train_series(ctx, run, p["steps"], lambda start, n: step, tally)
        ctx.check()
        stats = measure(model, x_test, p["p"])
        model.eval()
        with torch.no_grad():
            test_loss = float(F.mse_loss(model(x_test), y_test))
            test_loss_recal = float(F.mse_loss(recalibrated(model, x_train)(x_test), y_test))
    cols = {k: v.double().cpu() for k, v in stats.items()}
    rows = tuple(
        (run.variant, run.seed, f + 1, *(float(cols[c][f]) for c in COLUMNS[3:]))
        for f in range(min(SHOWN, p["hidden"]))
    )
    # Keyed by variant too: the live table shows every variant's rows, so the shift is visible beside "no shift".
    ctx.emit(TableRows("bn_input", COLUMNS, rows, key=("variant", "feature")))
    live = cols["eval_var"] > 1e-12  # features a ReLU switched off have no variance to compare
    ratio = {
        k: float((cols[k][live] / cols["eval_var"][live]).mean()) if bool(live.any()) else None
        for k in ("train_var", "predicted_train_var", "running_var")
    }
    ctx.emit(
        Final(
            run.variant,
            run.seed,
            {
                "train_loss": trained.train_loss,
                "test_loss": test_loss,
                "test_loss_recalibrated": test_loss_recal,
                "train_var_ratio": ratio["train_var"],
                "predicted_var_ratio": ratio["predicted_train_var"],
                "running_var_ratio": ratio["running_var"],
                "diverged": trained.first_nonfinite_step is not None,
                "first_nonfinite_step": trained.first_nonfinite_step,
            },
        )
    )


def run(plan: Plan, ctx: Context) -> None:
    run_each(plan, ctx, _run_one)
