"""SGD, Adam and AdamW at the same weight_decay λ (pitfall lesson 6).

Every run trains the tutorial's overfitting MLP (``layers`` × Linear(·, hidden) → ReLU, then
Linear(hidden, 1); PyTorch's default init drawn from a generator seeded with the run's seed,
so every variant of a seed starts from the same weights and data) full-batch on
``n_points`` points with the run's ``torch.optim`` optimizer:

- ``sgd``:   ``torch.optim.SGD(lr=sgd_lr, momentum=sgd_momentum, weight_decay=λ)``
- ``adam``:  ``torch.optim.Adam(lr=lr, weight_decay=λ)`` — λ·w is added to the gradient
  (coupled L2) and then divided by sqrt(v̂) + eps like the rest of it;
- ``adamw``: ``torch.optim.AdamW(lr=lr, weight_decay=λ)`` — w ← w − lr·λ·w, outside Adam's
  normalization (decoupled).

Per step (``Metrics``): ``train_loss`` (the MSE the step's gradient came from), ``test_loss``
(eval mode, after the step) and ``weight_norm`` (L2 norm of all parameters after the step).
``Final``: the last values and ``weight_norm_init``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from regtui.engine.context import Context
from regtui.engine.data import line_data
from regtui.engine.loop import Tally, run_each, train_series
from regtui.engine.measures import param_norm
from regtui.engine.small_nets import mlp, regression_step
from regtui.events import Final, RunSpec
from regtui.scenario import Plan


def make_optimizer(name: str, params: list[nn.Parameter], p: dict) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=p["sgd_lr"], momentum=p["sgd_momentum"], weight_decay=p["weight_decay"])
    if name == "adam":
        return torch.optim.Adam(params, lr=p["lr"], weight_decay=p["weight_decay"])
    return torch.optim.AdamW(params, lr=p["lr"], weight_decay=p["weight_decay"])


def setup(p: dict, seed: int) -> tuple[nn.Sequential, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The run's model and data: the same for every optimizer at one seed (the model is drawn after the data)."""
    g = torch.Generator().manual_seed(seed)
    x, y_train, y_test = line_data(p["n_points"], p["slope"], p["train_noise"], p["test_noise"], g)
    return mlp(1, p["hidden"], p["layers"], 1, g), x, y_train, y_test


def _run_one(run: RunSpec, ctx: Context, tally: Tally) -> None:
    p = run.params
    dev = ctx.device
    model, x, y_train, y_test = setup(p, run.seed)
    model.to(dev)
    x, y_train, y_test = x.to(dev), y_train.to(dev), y_test.to(dev)
    params = list(model.parameters())
    norm0 = float(param_norm(params))
    opt = make_optimizer(p["optimizer"], params, p)

    # Full batch; the test inputs are the training inputs.
    weight_norm = lambda m: {"weight_norm": param_norm(params)}  # noqa: E731
    step = regression_step(model, opt, (x, y_train, x, y_test), None, None, extra=weight_norm)
    trained = train_series(ctx, run, p["iters"], lambda start, n: step, tally)
    with torch.no_grad():
        test_loss = float(F.mse_loss(model(x), y_test))
    ctx.emit(
        Final(
            run.variant,
            run.seed,
            {
                "train_loss": trained.losses[-1] if trained.losses else None,
                "test_loss": test_loss,
                "weight_norm": float(param_norm(params)),
                "weight_norm_init": norm0,
                "diverged": trained.first_nonfinite_step is not None,
                "first_nonfinite_step": trained.first_nonfinite_step,
            },
        )
    )


def run(plan: Plan, ctx: Context) -> None:
    run_each(plan, ctx, _run_one, steps_key="iters")
