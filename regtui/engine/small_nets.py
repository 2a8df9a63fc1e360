"""The small nets of the pitfall lessons (adamw, no-decay-groups, dropout-before-bn) and their regression step.

Not an experiment: an MLP with PyTorch's default init drawn from a run's generator
(:mod:`regtui.engine.init`), and one mini-batch training step that also measures the test
loss, for :func:`regtui.engine.loop.train_series`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from regtui.engine.init import init_layers
from regtui.engine.loop import SeriesStep

__all__ = ["mlp", "regression_step"]


def mlp(
    inputs: int, hidden: int, layers: int, outputs: int, g: torch.Generator, norm: str | None = None
) -> nn.Sequential:
    """``layers`` × (Linear → [BatchNorm1d | LayerNorm] → ReLU) → Linear, default init from ``g``."""
    mods: list[nn.Module] = []
    width = inputs
    for _ in range(layers):
        mods.append(nn.Linear(width, hidden))
        if norm == "batch":
            mods.append(nn.BatchNorm1d(hidden))
        elif norm == "layer":
            mods.append(nn.LayerNorm(hidden))
        mods.append(nn.ReLU())
        width = hidden
    mods.append(nn.Linear(width, outputs))
    model = nn.Sequential(*mods)
    init_layers(model, g)
    return model


def regression_step(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    data: tuple[torch.Tensor, ...],
    batch: int | None,
    g: torch.Generator | None,
    extra: Callable[[nn.Module], dict[str, torch.Tensor]] | None = None,
) -> SeriesStep:
    """One optimizer step on a mini-batch of (x_train, y_train) drawn with replacement from ``g``, or on the
    whole set (``batch`` None, nothing drawn), with the MSE loss; then the test loss in eval mode.
    ``extra(model)`` adds series of its own."""
    x_train, y_train, x_test, y_test = data

    def step(i: int) -> dict[str, torch.Tensor]:
        xb, yb = x_train, y_train
        if batch is not None:
            idx = torch.randint(len(x_train), (batch,), generator=g).to(x_train.device)
            xb, yb = x_train[idx], y_train[idx]
        model.train()
        opt.zero_grad()
        loss = F.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            test = F.mse_loss(model(x_test), y_test)
        return {"train_loss": loss, "test_loss": test, **(extra(model) if extra else {})}

    return step
