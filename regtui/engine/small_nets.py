"""Shared pieces of the pitfall lessons (adamw, no-decay-groups, bn-eval, dropout-before-bn).

Not an experiment: the data sets, PyTorch's default Linear init drawn from a run's
generator, and :func:`train_series`, a chunked loop like :func:`regtui.engine.loop.train_in_chunks`
that carries several per-step series (train and test loss, a weight norm, …) in one
``Metrics`` event per chunk.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from regtui.engine.context import Context
from regtui.engine.loop import CHUNK, Trained, first_nonfinite, floats
from regtui.events import Metrics, RunSpec

TEACHER_NOISE = 0.1  # std of the teacher task's target noise

SeriesStep = Callable[[int], dict[str, torch.Tensor]]
"""``step(i)`` trains the i-th step (1-based) and returns 0-d tensors; ``train_loss`` is required."""


def line_data(
    n: int, slope: float, train_noise: float, test_noise: float, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The tutorial's data: x evenly spaced in [-1, 1]; y = slope·x + noise, fresh noise for the test targets."""
    x = torch.linspace(-1, 1, n).unsqueeze(1)
    y_train = slope * x + train_noise * torch.randn(n, 1, generator=g)
    y_test = slope * x + test_noise * torch.randn(n, 1, generator=g)
    return x, y_train, y_test


def teacher_data(
    features: int, n_train: int, n_test: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """x ~ N(0, I); y = tanh(x·W1)·W2 + N(0, 0.1²), a fixed random two-layer tanh teacher (16 hidden units)."""
    w1 = torch.randn(features, 16, generator=g) / features**0.5
    w2 = torch.randn(16, 1, generator=g) / 4.0

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, features, generator=g)
        return x, torch.tanh(x @ w1) @ w2 + TEACHER_NOISE * torch.randn(n, 1, generator=g)

    return (*draw(n_train), *draw(n_test))


def init_linears(model: nn.Module, g: torch.Generator) -> None:
    """PyTorch's default nn.Linear init, U(±1/sqrt(fan_in)) for weight and bias, drawn from ``g`` in module order."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
                if m.bias is not None:
                    bound = 1 / math.sqrt(m.in_features)
                    nn.init.uniform_(m.bias, -bound, bound, generator=g)


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
    init_linears(model, g)
    return model


def param_norm(params: list[nn.Parameter]) -> torch.Tensor:
    """L2 norm of all the given parameters together (a 0-d tensor)."""
    with torch.no_grad():
        return torch.sqrt(sum((q.detach() ** 2).sum() for q in params))  # type: ignore[arg-type]


def train_series(ctx: Context, run: RunSpec, steps: int, step: SeriesStep, done: int, total: int) -> Trained:
    """Train ``steps`` steps in chunks of :data:`CHUNK`, one ``Metrics`` event (every series) per chunk.

    Divergence is a result: the run stops after the chunk whose ``train_loss`` turns inf/NaN.
    """
    losses: list[float] = []
    start = 0
    while start < steps:
        n = min(CHUNK, steps - start)
        rows: list[dict[str, torch.Tensor]] = []
        for i in range(n):
            ctx.check()
            rows.append({k: v.detach() for k, v in step(start + i + 1).items()})
        values = {k: floats(torch.stack([r[k] for r in rows])) for k in rows[0]}
        start += n
        losses.extend(values["train_loss"])
        ctx.emit(Metrics(run.variant, run.seed, tuple(range(start - n + 1, start + 1)), values))
        done += n
        ctx.progress(done, total, "train")
        bad = first_nonfinite(values["train_loss"])
        if bad is not None:
            done += steps - start
            ctx.progress(done, total, "train")
            return Trained(losses, start - n + 1 + bad, math.nan, done)
    tail = losses[-CHUNK:]
    return Trained(losses, None, sum(tail) / len(tail) if tail else None, done)


def regression_step(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    data: tuple[torch.Tensor, ...],
    batch: int,
    g: torch.Generator,
    extra: Callable[[nn.Module], dict[str, torch.Tensor]] | None = None,
) -> SeriesStep:
    """One SGD-style step on a random mini-batch of (x_train, y_train) (MSE), then the test loss in eval mode;
    ``extra(model)`` adds series of its own."""
    x_train, y_train, x_test, y_test = data

    def step(i: int) -> dict[str, torch.Tensor]:
        idx = torch.randint(len(x_train), (batch,), generator=g).to(x_train.device)
        model.train()
        opt.zero_grad()
        loss = F.mse_loss(model(x_train[idx]), y_train[idx])
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            test = F.mse_loss(model(x_test), y_test)
        return {"train_loss": loss, "test_loss": test, **(extra(model) if extra else {})}

    return step
