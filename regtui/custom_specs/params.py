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
SCHEDULES = ("none", "step", "cosine", "onecycle", "warmup_cosine")
AMP = ("off", "bf16", "fp16")


def nesterov_problem(p: dict[str, Any]) -> str | None:
    """Nesterov momentum is SGD's, and needs a momentum (torch.optim.SGD refuses it otherwise)."""
    if not p["nesterov"]:
        return None
    if p["optimizer"] != "sgd":
        return f"nesterov: true is not allowed with optimizer = {p['optimizer']}; expected optimizer = sgd"
    if not p.get("momentum"):
        return "nesterov: true is not allowed with momentum = 0; expected momentum > 0"
    return None


def validation_problem(p: dict[str, Any]) -> str | None:
    """Early stopping and the best checkpoint are chosen on the validation split: they need one."""
    if p["val_fraction"] > 0:
        return None
    if p["patience"] > 0:
        return "patience: early stopping watches the validation loss; expected val_fraction > 0 with patience > 0"
    if p["checkpoint"] == "best":
        return "checkpoint: 'best' is chosen on the validation loss; expected val_fraction > 0 with checkpoint = best"
    return None


def schedule_problem(p: dict[str, Any]) -> str | None:
    """A schedule that cannot fit the run's steps, as a one-line error."""
    if p["schedule"] == "warmup_cosine" and p["warmup_steps"] >= p["steps"]:
        return (
            f"warmup_steps: {p['warmup_steps']} is not allowed with steps = {p['steps']} and "
            "schedule = warmup_cosine; expected fewer warmup steps than steps"
        )
    if p["schedule"] == "onecycle" and p["steps"] < 2:
        return "schedule: 'onecycle' is not allowed with steps = 1; expected steps >= 2"
    if p["schedule"] == "onecycle" and float(p["pct_start"] * p["steps"]) == 1.0:
        return (
            f"pct_start: {p['pct_start']} is not allowed with steps = {p['steps']} and schedule = onecycle "
            "(its rise would last 1 step, which OneCycleLR divides by zero); expected pct_start·steps != 1"
        )
    return None


def inert(p: dict[str, Any]) -> dict[str, str]:
    """The parameters that do not act in a run with these parameters (the optimizer's and the loss's), with why."""
    out: dict[str, str] = {}
    optimizer = p["optimizer"]
    if optimizer not in ("adam", "adamw"):
        out.update({k: f"Adam/AdamW's {k}; optimizer = {optimizer} does not use it" for k in ("beta1", "beta2")})
    if optimizer != "sgd":
        out["momentum"] = f"SGD's momentum; optimizer = {optimizer} does not use it" + (
            " (Adam's β1 is beta1)" if optimizer != "rmsprop" else ""
        )
    if optimizer != "rmsprop":
        out["alpha"] = f"RMSprop's alpha; optimizer = {optimizer} does not use it"
    if p["loss"] == "mse":
        out["label_smoothing"] = "cross_entropy's label_smoothing; loss = mse does not use it"
    schedule = p.get("schedule", "none")
    for key, schedules in SCHEDULE_PARAMS.items():
        if schedule not in schedules:
            out[key] = f"a parameter of schedule = {' or '.join(schedules)}; schedule = {schedule} does not use it"
    if not p.get("patience"):
        out["min_delta"] = "early stopping's min_delta; patience = 0 (no early stopping) does not use it"
    return out


# The schedules each schedule parameter belongs to (the others do not use it).
SCHEDULE_PARAMS = {
    "step_size": ("step",),
    "gamma": ("step",),
    "min_lr": ("cosine", "warmup_cosine"),
    "pct_start": ("onecycle",),
    "warmup_steps": ("warmup_cosine",),
}


TRAIN = ExperimentSpec(
    KIND,
    (
        Param(
            "optimizer",
            str,
            "sgd",
            "torch.optim optimizer (rmsprop: RMSprop with alpha, eps 1e-8, no momentum; trains one run at a time)",
            choices=("sgd", "adam", "adamw", "rmsprop"),
        ),
        Param("lr", float, 0.05, "learning rate", min=0, min_open=True, max=LR_MAX),
        Param("momentum", float, 0.9, "SGD momentum (sgd only)", min=0, max=1),
        Param("nesterov", bool, False, "SGD with Nesterov momentum (sgd only; needs momentum > 0)"),
        Param("alpha", float, 0.99, "RMSprop's smoothing constant (rmsprop only)", min=0, max=1, max_open=True),
        Param(
            "grad_clip",
            float,
            0.0,
            "clip the gradients' total L2 norm to this before each step (clip_grad_norm_; 0 = off)",
            min=0,
            max=1e30,
        ),
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
            "share of the training samples held out for validation: it chooses a sweep's best point, "
            "early stopping and checkpoint = best (0 = none)",
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
            "schedule",
            str,
            "none",
            "learning-rate schedule over the steps (torch.optim.lr_scheduler): none, step (StepLR), cosine "
            "(CosineAnnealingLR), onecycle (OneCycleLR up to lr), warmup_cosine (LinearLR warmup, then cosine)",
            choices=SCHEDULES,
        ),
        Param("step_size", int, 100, "schedule = step: steps between multiplications by gamma", min=1, max=10_000_000),
        Param(
            "gamma", float, 0.1, "schedule = step: the lr's factor every step_size steps", min=0, max=1, min_open=True
        ),
        Param("min_lr", float, 0.0, "schedule = cosine, warmup_cosine: the lr at the end (eta_min)", min=0, max=LR_MAX),
        Param(
            "pct_start",
            float,
            0.3,
            "schedule = onecycle: share of the steps spent raising the lr",
            min=0,
            max=1,
            min_open=True,
            max_open=True,
        ),
        Param(
            "warmup_steps",
            int,
            100,
            "schedule = warmup_cosine: steps of linear warmup from lr/warmup_steps to lr",
            min=1,
            max=10_000_000,
        ),
        Param(
            "patience",
            int,
            0,
            "early stopping: stop after this many logging steps without a lower validation loss (0 = off)",
            min=0,
            max=10_000_000,
        ),
        Param(
            "min_delta",
            float,
            0.0,
            "early stopping: how much lower the validation loss must be to count as better",
            min=0,
            max=1e30,
        ),
        Param(
            "checkpoint",
            str,
            "none",
            "state dicts saved in the run folder (torch.save): none; final (when each run ends); "
            "best (also the weights of the best validation loss)",
            choices=("none", "final", "best"),
        ),
        Param(
            "resume",
            int,
            0,
            "a stored run's id: each run starts from its final checkpoint of the same variant and seed (0 = off)",
            min=0,
            max=1_000_000_000,
        ),
        Param(
            "histograms",
            bool,
            False,
            "at every logging step, per layer: histograms of its weights, gradients and outputs "
            "(torch.histc, 20 bins over each tensor's range; the table histograms)",
        ),
        Param(
            "log_every",
            int,
            50,
            "steps between logging steps (test loss, layer statistics, norms; one Metrics event each)",
            min=1,
            max=10_000_000,
        ),
        Param(
            "amp",
            str,
            "off",
            "mixed precision of the training steps (torch.autocast): off; bf16 (CPU or CUDA); fp16 (CUDA only, "
            "with torch.amp.GradScaler; trains one run at a time)",
            choices=AMP,
        ),
        Param(
            "compile",
            bool,
            False,
            "torch.compile the model for the training steps (logging steps and evaluation run eager; "
            "trains one run at a time; the first steps wait for the compiler)",
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
    lambda p: (
        decoupled_decay_too_large(p, p["optimizer"])
        or nesterov_problem(p)
        or schedule_problem(p)
        or validation_problem(p)
    ),
    inert=inert,
)
