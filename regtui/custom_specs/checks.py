"""What a ``train`` plan checks before training: data, factories, loss, shapes and sizes.

Run when a plan is made (on every edit of the dashboard's form), so it uses
only what the files tell, without torch and without running the user's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from regtui.custom_specs.memory import layer_params
from regtui.custom_specs.shapes import data_shape, layer_shapes, loss_error, outputs_fit
from regtui.custom_specs.sizes import size_error
from regtui.custom_specs.sources import GENERATED, check_data_source, check_factory, check_vision
from regtui.specs import ConfigError

DIGITS_SAMPLES = 1797


def check_plan(tables: dict[str, Any], base: Path, runs: Any) -> None:
    """Everything that can be checked before training (see the module docstring)."""
    model, data = tables["model"], tables["data"]
    counts = None
    check_vision(data)
    if "factory" in data:
        check_factory("data", data["factory"], base)
    else:
        counts = check_data_source(data, base)
    if "factory" in model:
        check_factory("model", model["factory"], base)
    found = data_shape(data)
    if found is None:
        return  # the factory's data is checked when it runs (regtui.engine.custom.preflight)
    shape, outputs, task = found
    losses = {r.params["loss"] for r in runs}
    for loss in sorted(losses):
        error = loss_error(task, loss)
        if error:
            raise ConfigError(error)
    resolved: dict[tuple[str, int], list[dict[str, Any]]] = {}  # the layers as each run's norm makes them
    if "layers" in model:
        for r in runs:
            key = (r.params.get("norm", "none"), r.params.get("norm_groups", 1))
            if key in resolved:
                continue
            label = f" (norm = {key[0]!r})" if any(x["type"] == "norm" for x in model["layers"]) else ""
            layers = resolved[key] = list(model["layers"])
            try:
                shapes = layer_shapes(layers, shape, outputs, r.params)
            except ConfigError as exc:
                raise ConfigError(f"{exc}{label}") from None
            error = outputs_fit(shapes, outputs, task)
            if error:
                raise ConfigError(f"shapes do not chain: {error}")
            if not any(layer_params(x, a, b)[0] for x, a, b in zip(layers, [shape, *shapes], shapes)):
                raise ConfigError(
                    f"model: the layers{label} have no trainable parameters; "
                    "add a linear or conv2d layer (or a normalization layer with affine = true)"
                )
    _check_sizes(data, counts, runs, resolved)


def source_sizes(data: dict[str, Any], counts: tuple[int, int] | None) -> tuple[int, int | None]:
    """(samples, the source's own test samples or None) of a built-in source; ``counts``: a folder's."""
    if counts is not None:
        return counts
    return (data["n"] if data["source"] in GENERATED else DIGITS_SAMPLES), None


def _check_sizes(
    data: dict[str, Any], counts: tuple[int, int] | None, runs: Any, resolved: dict[tuple[str, int], Any]
) -> None:
    """Every run has enough samples to train and test (:func:`regtui.custom_specs.sizes.size_error`)."""
    source = data["source"]
    n, own_test = source_sizes(data, counts)
    for r in runs:
        layers = resolved.get((r.params.get("norm", "none"), r.params.get("norm_groups", 1)), [])
        batchnorm = any(x["type"] in ("batchnorm1d", "batchnorm2d") for x in layers)
        error = size_error(f"data ({source})", n, own_test, r.params, batchnorm)
        if error:
            raise ConfigError(error)
