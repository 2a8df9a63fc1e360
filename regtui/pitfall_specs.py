"""Parameter specifications of the four torch.optim / BatchNorm pitfall lessons.

Torch-free, like :mod:`regtui.specs`: the CLI and the form read these without torch.
"""

from __future__ import annotations

from typing import Any

from regtui.specs import (
    LR_MAX,
    WEIGHT_DECAY_MAX,
    ExperimentSpec,
    Param,
    batch_too_small_for_batchnorm,
    decoupled_decay_too_large,
)

_DATA = (
    Param("n_points", int, 10, "training and test points (x evenly spaced in [-1, 1])", min=2, max=100_000),
    Param("slope", float, 1.5, "true slope of y = slope·x + noise"),
    Param("train_noise", float, 0.5, "std of the noise added to the training targets", min=0),
    Param("test_noise", float, 0.3, "std of the noise added to the test targets", min=0),
)

ADAMW = ExperimentSpec(
    "adamw",
    (
        *_DATA,
        Param("hidden", int, 200, "width of each hidden layer", min=1, max=8192),
        Param("layers", int, 3, "number of hidden layers", min=1, max=64),
        Param("optimizer", str, "adamw", "torch.optim optimizer", choices=("sgd", "adam", "adamw")),
        Param("lr", float, 0.001, "learning rate of Adam and AdamW", min=0, min_open=True, max=LR_MAX),
        Param("sgd_lr", float, 0.01, "learning rate of SGD", min=0, min_open=True, max=LR_MAX),
        Param("sgd_momentum", float, 0.9, "SGD momentum", min=0, max=1),
        Param("weight_decay", float, 0.1, "weight_decay λ given to every optimizer", min=0, max=WEIGHT_DECAY_MAX),
        Param("iters", int, 2000, "full-batch training iterations", min=1, max=10_000_000),
    ),
    lambda p: decoupled_decay_too_large(p, p["optimizer"]),
)


def _bn_batch_check(p: dict[str, Any]) -> str | None:
    return batch_too_small_for_batchnorm(p["batch"])


def _groups_check(p: dict[str, Any]) -> str | None:
    if p["norm"] == "batch" and (error := batch_too_small_for_batchnorm(p["batch"], " with norm = 'batch'")):
        return error
    return decoupled_decay_too_large(p, p["optimizer"])


NO_DECAY_GROUPS = ExperimentSpec(
    "no-decay-groups",
    (
        Param("norm", str, "layer", "normalization after each hidden Linear", choices=("batch", "layer")),
        Param(
            "exclude", bool, False, "exclude biases and normalization parameters from weight decay (parameter groups)"
        ),
        Param("optimizer", str, "adamw", "torch.optim optimizer", choices=("sgd", "adamw")),
        Param("lr", float, 0.01, "learning rate", min=0, min_open=True, max=LR_MAX),
        Param("momentum", float, 0.9, "SGD momentum (unused by AdamW)", min=0, max=1),
        Param("weight_decay", float, 0.1, "weight_decay λ of the decayed group", min=0, max=WEIGHT_DECAY_MAX),
        Param("features", int, 16, "input features of the synthetic regression task", min=1, max=4096),
        Param("hidden", int, 64, "width of each hidden layer", min=1, max=8192),
        Param("layers", int, 2, "hidden layers (Linear → norm → ReLU)", min=1, max=64),
        Param("train_samples", int, 256, "training samples", min=2, max=1_000_000),
        Param("test_samples", int, 256, "test samples", min=1, max=1_000_000),
        Param("batch", int, 32, "mini-batch size", min=1, max=65536),
        Param("steps", int, 1500, "training steps per variant", min=1, max=1_000_000),
    ),
    _groups_check,
)

BN_EVAL = ExperimentSpec(
    "bn-eval",
    (
        Param("features", int, 8, "input features of the synthetic classification task", min=1, max=4096),
        Param("hidden", int, 32, "width of the hidden layer (Linear → BatchNorm1d → ReLU)", min=1, max=8192),
        Param("classes", int, 3, "classes (Gaussian blobs)", min=2, max=100),
        Param("batch", int, 32, "training mini-batch size", min=1, max=65536),
        Param("steps", int, 200, "training steps before the evaluation", min=1, max=1_000_000),
        Param("lr", float, 0.05, "SGD learning rate", min=0, min_open=True, max=LR_MAX),
        Param("momentum", float, 0.9, "SGD momentum", min=0, max=1),
        Param("bn_momentum", float, 0.1, "BatchNorm momentum for the running statistics", min=0, max=1),
        Param(
            "shift",
            float,
            0.0,
            "offset added to every test input (0: the test data come from the training distribution)",
        ),
        Param("stats_features", int, 4, "BatchNorm features shown in the running-stats table", min=1, max=64),
    ),
    _bn_batch_check,
)

DROPOUT_BEFORE_BN = ExperimentSpec(
    "dropout-before-bn",
    (
        Param("order", str, "before", "dropout before BatchNorm1d or after it", choices=("before", "after", "none")),
        Param("p", float, 0.5, "nn.Dropout p", min=0, max=1, max_open=True),
        Param("features", int, 16, "input features of the synthetic regression task", min=1, max=4096),
        Param("hidden", int, 128, "width of each hidden layer", min=1, max=8192),
        Param("train_samples", int, 512, "training samples", min=2, max=1_000_000),
        Param("test_samples", int, 512, "test samples", min=2, max=1_000_000),
        Param("batch", int, 64, "training mini-batch size", min=1, max=65536),
        Param("steps", int, 1500, "training steps per variant", min=1, max=1_000_000),
        Param("lr", float, 0.01, "SGD learning rate", min=0, min_open=True, max=LR_MAX),
        Param("momentum", float, 0.9, "SGD momentum", min=0, max=1),
        Param("bn_momentum", float, 0.1, "BatchNorm momentum for the running statistics", min=0, max=1),
    ),
    _bn_batch_check,
)
