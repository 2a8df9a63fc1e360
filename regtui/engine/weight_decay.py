"""Weight decay (L2): the tutorial's overfitting MLP trained with and without SGD's ``weight_decay``.

SGD with ``weight_decay=λ`` adds λ·w to every gradient, which is the gradient
of the L2 penalty λ·‖w‖²/2; with momentum 0 one step is
``w ← w·(1 − lr·λ) − lr·grad``: the weights shrink by a constant factor before
the gradient step, hence the name.

All runs of the plan are trained by :mod:`regtui.engine.mlp_training` (runs that
share hidden/layers/n_points/iters form one group of stacked models, see
:mod:`regtui.engine.stacked`; lr, momentum, weight_decay, dropout, slope and
noise may differ per model). Events, metric definitions and final values are
documented in mlp_training: ``Summary("data")``,
``Progress``, ``Metrics`` (train_loss, test_loss), ``Curve("fit")`` and
``Final`` (train_loss, test_loss, weight_norm, diverged, first_nonfinite_step).
"""

from __future__ import annotations

from regtui.engine.context import Context
from regtui.engine.mlp_training import run_mlp_plan
from regtui.scenario import Plan


def run(plan: Plan, ctx: Context) -> None:
    run_mlp_plan(plan, ctx)
