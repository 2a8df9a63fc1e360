"""The ``train`` kind's scalar parameters (optimizer, lr, batch, steps, …).

Normal Params, so ``--set``, ``--sweep``, ``--seeds`` and the form work as for
every kind; the [model] and [data] tables are :mod:`.tables`.
"""

from __future__ import annotations

from typing import Any

from regtui.specs import LR_MAX, WEIGHT_DECAY_MAX, ExperimentSpec, Param, decoupled_decay_too_large

KIND = "train"
TABLES = ("model", "data")

NORMS = ("batch", "layer", "group", "instance", "none")  # what a layer of type "norm" becomes


def inert(p: dict[str, Any]) -> dict[str, str]:
    """The parameters that do not act in a run with these parameters (the optimizer's and the loss's), with why."""
    out: dict[str, str] = {}
    if p["optimizer"] == "sgd":
        out.update({k: f"Adam/AdamW's {k}; optimizer = sgd does not use it" for k in ("beta1", "beta2")})
    else:
        out["momentum"] = f"SGD's momentum; optimizer = {p['optimizer']} does not use it (Adam's β1 is beta1)"
    if p["loss"] == "mse":
        out["label_smoothing"] = "cross_entropy's label_smoothing; loss = mse does not use it"
    return out


TRAIN = ExperimentSpec(
    KIND,
    (
        Param("optimizer", str, "sgd", "torch.optim optimizer", choices=("sgd", "adam", "adamw")),
        Param("lr", float, 0.05, "learning rate", min=0, min_open=True, max=LR_MAX),
        Param("momentum", float, 0.9, "SGD momentum (sgd only)", min=0, max=1),
        Param("beta1", float, 0.9, "Adam/AdamW β1", min=0, max=1, max_open=True),
        Param("beta2", float, 0.999, "Adam/AdamW β2", min=0, max=1, max_open=True),
        Param(
            "weight_decay",
            float,
            0.0,
            "the optimizer's weight_decay (L2 for sgd/adam, decoupled for adamw)",
            min=0,
            max=WEIGHT_DECAY_MAX,
        ),
        Param(
            "decay_norm_and_bias",
            bool,
            True,
            "false: biases and normalization parameters get weight_decay 0 (a second parameter group)",
        ),
        Param(
            "loss",
            str,
            "auto",
            "auto: cross_entropy for class labels, mse for regression targets",
            choices=("auto", "mse", "cross_entropy"),
        ),
        Param("label_smoothing", float, 0.0, "cross_entropy label_smoothing", min=0, max=1, max_open=True),
        Param("batch", int, 32, "mini-batch size (capped at the training-set size)", min=1, max=1_000_000),
        Param("steps", int, 1000, "optimizer steps", min=1, max=10_000_000),
        Param("shuffle", bool, True, "reshuffle the training set every epoch (false: the same order every epoch)"),
        Param(
            "train_size",
            int,
            0,
            "training samples used (0 = all the split leaves for training)",
            min=0,
            max=100_000_000,
        ),
        Param(
            "test_fraction",
            float,
            0.25,
            "share of the samples held out for testing (sources without their own test split)",
            min=0,
            max=1,
            min_open=True,
            max_open=True,
        ),
        Param("test_size", int, 0, "test samples evaluated (0 = all of the test split)", min=0, max=100_000_000),
        Param(
            "val_fraction",
            float,
            0.1,
            "share of the training samples held out for validation, which chooses a sweep's best point (0 = none)",
            min=0,
            max=1,
            max_open=True,
        ),
        Param(
            "dropout", float, 0.5, "p of every dropout layer that does not set its own p", min=0, max=1, max_open=True
        ),
        Param(
            "norm",
            str,
            "batch",
            'what every layer of type "norm" is: batch(norm1d/2d), layer, group, instance or none',
            choices=NORMS,
        ),
        Param(
            "norm_groups",
            int,
            4,
            'groups of a "norm" layer that is a GroupNorm (must divide its channels)',
            min=1,
            max=4096,
        ),
        Param(
            "log_every",
            int,
            50,
            "steps between logging steps (test loss, layer statistics, norms; one Metrics event each)",
            min=1,
            max=10_000_000,
        ),
        Param("stats_features", int, 4, "features per BatchNorm layer in the running-stats table", min=1, max=64),
        Param(
            "stack_runs",
            str,
            "auto",
            "auto: runs that share an MLP and its data (seeds, variants) train together as one stacked model "
            "where that is faster; on: whenever they can, even a lone run; off: one after another",
            choices=("auto", "on", "off"),
        ),
    ),
    lambda p: decoupled_decay_too_large(p, p["optimizer"]),
    inert=inert,
)
