"""Dropout: the scaling demo and the tutorial's overfitting MLP with and without ``nn.Dropout``.

1. Scaling demo (``Summary("scaling")``): ``scaling_n`` ones → ``nn.Dropout(scaling_p)``
   → ``nn.Linear(scaling_n, 1, bias=False)`` with every weight 1. In train mode
   each kept input is scaled by 1/(1 − p), so the output is kept/(1 − p) ≈ n
   (not n·(1 − p)) and varies per draw; in eval mode Dropout is the identity
   and the output is exactly n. Real ``nn.Dropout``/``nn.Linear`` are used,
   on the CPU, with the global RNG seeded by ``plan.seed`` inside a forked RNG
   state. Keys: p, n, train_output, eval_output, kept, expected_output,
   train_outputs (5 train-mode draws; the first is train_output) and
   train_kept (the kept count of each draw).

   ``Summary("worked")`` sets the formulas beside those numbers: each draw's
   output predicted as kept/(1 − p) beside the measured one, the expectation n
   and standard deviation √(n·p/(1 − p)) of the train output (the sum of n
   Bernoulli(1 − p)/(1 − p) terms: variance n·p(1 − p)/(1 − p)²) beside the
   mean and std of the draws, and the eval output n.

2. Training: every run is trained by :mod:`regtui.engine.mlp_training`
   (Dropout after each hidden ReLU, i.e. after the activation and before the
   next Linear). Besides train_loss and test_loss (eval mode) the metrics and
   finals carry ``test_loss_train_mode``: the test loss measured with dropout
   still active, the "forgot ``net.eval()``" pitfall. Definitions are in the
   mlp_training module's docstring.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import torch
from torch import nn

from regtui.engine.context import Context
from regtui.engine.mlp_training import run_mlp_plan, units
from regtui.events import Summary
from regtui.scenario import Plan

__all__ = ["run", "scaling_demo", "units", "worked"]  # units: the plan's stacks, each a Ray task

DRAWS = 5


def scaling_demo(n: int, p: float, seed: int, draws: int = DRAWS) -> dict[str, Any]:
    """The tutorial's Dropout scaling demo; returns the ``Summary("scaling")`` value."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        dropout = nn.Dropout(p)
        linear = nn.Linear(n, 1, bias=False)
        with torch.no_grad():
            linear.weight.fill_(1.0)
            x = torch.ones(n)
            dropout.train()
            outputs, kept = [], []
            for _ in range(draws):
                dropped = dropout(x)
                kept.append(int(torch.count_nonzero(dropped)))
                outputs.append(float(linear(dropped)))
            dropout.eval()
            eval_output = float(linear(dropout(x)))
    return {
        "p": p,
        "n": n,
        "train_output": outputs[0],
        "eval_output": eval_output,
        "kept": kept[0],
        "expected_output": n,
        "train_outputs": outputs,
        "train_kept": kept,
    }


def worked(scaling: dict[str, Any]) -> dict[str, Any]:
    """The scaling demo's numbers predicted from the formulas, beside the measured ones."""
    n, p = scaling["n"], scaling["p"]
    outputs, kept = scaling["train_outputs"], scaling["train_kept"]
    return {
        "p": p,
        "n": n,
        "draws": [
            {
                "kept": k,
                "train_output": {
                    "formula": f"kept/(1 − p) = {k}/(1 − {p:g})",
                    "predicted": k / (1 - p),
                    "measured": out,
                },
            }
            for k, out in zip(kept, outputs)
        ],
        "train_output_mean": {"formula": f"E = n = {n}", "predicted": float(n), "measured": statistics.fmean(outputs)},
        "train_output_std": {
            "formula": f"√(n·p/(1 − p)) = √({n}·{p:g}/(1 − {p:g}))",
            "predicted": math.sqrt(n * p / (1 - p)),
            "measured": statistics.stdev(outputs) if len(outputs) > 1 else None,
        },
        "eval_output": {"formula": f"n = {n}", "predicted": float(n), "measured": scaling["eval_output"]},
    }


def run(plan: Plan, ctx: Context) -> None:
    if ctx.lead:  # the scaling demo belongs to the plan: its lead part's
        params = plan.params
        scaling = scaling_demo(params["scaling_n"], params["scaling_p"], plan.seed)
        ctx.emit(Summary("scaling", scaling))
        ctx.emit(Summary("worked", worked(scaling)))
        ctx.check()
    run_mlp_plan(plan, ctx, train_mode_metric=True)
