"""What several engines measure the same way: parameter norms, and the running-stats table's columns."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["RUNNING_COLUMNS", "param_norm", "stacked_norm"]

# The Running-stats view's table: one row per (model, step, BatchNorm layer, feature).
RUNNING_COLUMNS = (
    "variant",
    "seed",
    "step",
    "layer",
    "feature",
    "running_mean",
    "running_var",
    "batch_mean",
    "batch_var",
)


def param_norm(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """L2 norm of all the given tensors together, in float32 (a 0-d tensor); NaN for none."""
    if not tensors:
        return torch.tensor(math.nan)
    with torch.no_grad():
        return torch.sqrt(sum((t.detach().float() ** 2).sum() for t in tensors))  # type: ignore[arg-type]


def stacked_norm(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """``[M]``: per model, the L2 norm of its slices of the given stacked tensors (model axis first),
    in their dtype."""
    with torch.no_grad():
        squares = tensors[0].detach().flatten(1).square().sum(1)
        for t in tensors[1:]:
            squares = squares + t.detach().flatten(1).square().sum(1)
        return squares.sqrt()
