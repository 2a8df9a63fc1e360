"""The synthetic data sets of the lessons: the tutorial's line, and a random teacher's regression task.

Every set is drawn from the generator it is given, so a run's data depends on its seed alone.
The line is written once here for the weight-decay and dropout lessons, the Adam-vs-AdamW
pitfall and the ``train`` kind's ``regression`` source.
"""

from __future__ import annotations

import torch

__all__ = ["TEACHER_NOISE", "line_data", "line_x", "line_y", "teacher_data"]

TEACHER_NOISE = 0.1  # std of the teacher task's target noise


def line_x(n: int) -> torch.Tensor:
    """The tutorial's inputs: ``n`` points evenly spaced in [-1, 1], as an ``[n, 1]`` column."""
    return torch.linspace(-1, 1, n).unsqueeze(1)


def line_y(x: torch.Tensor, slope: float, noise: float, generator: torch.Generator) -> torch.Tensor:
    """Targets ``slope·x + noise·ε``, ε standard normal drawn from ``generator`` (one draw per point)."""
    return slope * x + noise * torch.randn(x.shape, generator=generator)


def line_data(
    n: int, slope: float, train_noise: float, test_noise: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The tutorial's data set: x ([n, 1]), its training targets, then its test targets (fresh noise)."""
    x = line_x(n)
    return x, line_y(x, slope, train_noise, generator), line_y(x, slope, test_noise, generator)


def teacher_data(
    features: int, n_train: int, n_test: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """x ~ N(0, I); y = tanh(x·W1)·W2 + N(0, 0.1²), a fixed random two-layer tanh teacher (16 hidden units)."""
    w1 = torch.randn(features, 16, generator=generator) / features**0.5
    w2 = torch.randn(16, 1, generator=generator) / 4.0

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, features, generator=generator)
        return x, torch.tanh(x @ w1) @ w2 + TEACHER_NOISE * torch.randn(n, 1, generator=generator)

    return (*draw(n_train), *draw(n_test))
