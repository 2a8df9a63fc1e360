"""The ``train`` kind's peak-memory estimate, from the tables alone (refused up front when too large)."""

from __future__ import annotations

import math
from typing import Any

from regtui.custom_specs.shapes import data_shape, layer_shapes, shape_text

FLOAT = 4  # bytes of a float32
# samples of each source before train_size/test_size cap them (generated sources: their n)
SOURCE_SAMPLES = {"digits": 1797, "mnist": 70_000, "fashion-mnist": 70_000, "cifar10": 60_000}


def layer_params(layer: dict[str, Any], before: tuple[int, ...], after: tuple[int, ...]) -> tuple[int, int]:
    """(trained parameters, buffers) of one layer, from its input and output shapes."""
    kind, bias = layer["type"], int(layer.get("bias", True))
    affine = int(layer.get("affine", kind != "instancenorm"))
    if kind == "linear":
        return before[0] * after[0] + bias * after[0], 0
    if kind == "conv2d":
        k = layer.get("kernel", 3)
        return before[0] * after[0] * k * k + bias * after[0], 0
    if kind in ("batchnorm1d", "batchnorm2d"):
        return 2 * affine * before[0], 2 * before[0]
    if kind == "layernorm":
        return 2 * affine * math.prod(before), 0
    if kind in ("groupnorm", "instancenorm"):
        return 2 * affine * before[0], 0
    return 0, 0


def train_bytes(
    p: dict[str, Any],
    models: int,
    tables: dict[str, Any],
    data: tuple[tuple[int, ...], int, int] | None = None,
    model: tuple[int, int, int] | None = None,
) -> tuple[int, str]:
    """Peak bytes of a ``train`` plan: per model its parameters, gradients and optimizer state, and
    the activations of a mini-batch (kept for backward, and their gradients) or of an evaluation
    batch, times the models trained at once; plus the data set once per seed.

    A factory's data set or model is known only once its code ran (in the process that trains,
    :mod:`regtui.engine.custom.preflight`): ``data`` gives the data's (per-sample shape, outputs,
    samples) and ``model`` the model's (trained parameters, buffers, activations per sample);
    without them a plan with factory data is not counted, and a factory model's own size is not."""
    found = data_shape(tables["data"])
    if data is not None:
        shape, outputs, samples = data
    elif found is not None:
        shape, outputs, _ = found
        table = tables["data"]
        samples = table.get("n", SOURCE_SAMPLES.get(str(table.get("source")), 0))
    else:
        return 0, "factory data (not counted before it runs)"
    per_sample = math.prod(shape)
    params = buffers = 0
    activations = per_sample
    if "layers" in tables["model"]:
        layers = list(tables["model"]["layers"])  # layer_shapes resolves its "norm" layers in place
        before = shape
        for layer, after in zip(layers, layer_shapes(layers, shape, outputs, p)):
            n_params, n_buffers = layer_params(layer, before, after)
            params, buffers = params + n_params, buffers + n_buffers
            activations += math.prod(after)
            before = after
    elif model is not None:
        params, buffers, measured = model
        activations += measured
    state = {"sgd": 1 if p.get("momentum") else 0, "adam": 2, "adamw": 2, "rmsprop": 1}[p["optimizer"]]
    train_batch = min(p["batch"], samples or p["batch"])
    eval_batch = min(1024, samples or 1024)  # the trainer evaluates the test split 1024 samples at a time
    per_model = (2 + state) * params + buffers + max(3 * train_batch, eval_batch) * activations
    data_bytes = 2 * samples * per_sample  # the tensors as loaded, and a float32 copy being made
    why = f"{params:,} parameters × {models} model(s), batch={p['batch']}, {samples:,} samples of {shape_text(shape)}"
    if data is not None and found is None:
        why += f", {outputs:,} outputs"
    if "factory" in tables["model"] and model is None:
        why += "; the factory model's own size not counted before it runs"
    return FLOAT * (models * per_model + data_bytes), why
