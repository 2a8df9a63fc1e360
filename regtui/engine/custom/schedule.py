"""Learning-rate schedules of the ``train`` kind: ``torch.optim.lr_scheduler``'s, stepped after every optimizer step.

``schedule`` (see :mod:`regtui.custom_specs.params`), over the run's ``steps`` optimizer steps:

- ``none``: the lr stays ``lr``;
- ``step``: ``StepLR(step_size, gamma)``: the lr times ``gamma`` every ``step_size`` steps;
- ``cosine``: ``CosineAnnealingLR(T_max=steps, eta_min=min_lr)``;
- ``onecycle``: ``OneCycleLR(max_lr=lr, total_steps=steps, pct_start, cycle_momentum=False)``
  (up from lr/25 to ``lr``, then down to lr/25/1e4; the momentum is not cycled);
- ``warmup_cosine``: ``LinearLR(start_factor=1/warmup_steps, total_iters=warmup_steps)`` then
  ``CosineAnnealingLR(T_max=steps - warmup_steps, eta_min=min_lr)`` (``SequentialLR``).

A stack (:mod:`.batched`) steps one scheduler per set of models sharing their hyperparameters
and hands its lr to the stacked update, so each model follows its own schedule.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.optim import lr_scheduler

__all__ = ["build", "schedule_key"]


def build(opt: torch.optim.Optimizer, p: dict[str, Any]) -> lr_scheduler.LRScheduler | None:
    """The run's scheduler on ``opt`` (None for ``schedule = none``)."""
    kind, steps = p["schedule"], int(p["steps"])
    if kind == "none":
        return None
    if kind == "step":
        return lr_scheduler.StepLR(opt, step_size=int(p["step_size"]), gamma=float(p["gamma"]))
    if kind == "cosine":
        return lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=float(p["min_lr"]))
    if kind == "onecycle":
        return lr_scheduler.OneCycleLR(
            opt, max_lr=float(p["lr"]), total_steps=steps, pct_start=float(p["pct_start"]), cycle_momentum=False
        )
    warm = int(p["warmup_steps"])
    return lr_scheduler.SequentialLR(
        opt,
        [
            lr_scheduler.LinearLR(opt, start_factor=1 / warm, total_iters=warm),
            lr_scheduler.CosineAnnealingLR(opt, T_max=steps - warm, eta_min=float(p["min_lr"])),
        ],
        milestones=[warm],
    )


def schedule_key(p: dict[str, Any]) -> tuple[float, ...]:
    """What makes two runs' lr sequences equal (with the same ``lr``): their schedule and its parameters."""
    kinds = ("none", "step", "cosine", "onecycle", "warmup_cosine")
    kind = p["schedule"]
    if kind == "none":
        return (0.0,)
    return (
        float(kinds.index(kind)),
        float(p["steps"]),
        float(p["step_size"]),
        float(p["gamma"]),
        float(p["min_lr"]),
        float(p["pct_start"]),
        float(p["warmup_steps"]),
    )
