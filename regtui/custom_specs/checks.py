"""What a ``train`` plan checks before training: data, factories, loss and shapes.

Run when a plan is made (on every edit of the dashboard's form), so it uses
only what the files tell, without torch and without running the user's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from regtui.custom_specs.shapes import data_shape, layer_shapes, loss_error, outputs_fit
from regtui.custom_specs.sources import check_data_source, check_factory
from regtui.specs import ConfigError


def check_plan(tables: dict[str, Any], base: Path, runs: Any) -> None:
    """Everything that can be checked before training (see the module docstring)."""
    model, data = tables["model"], tables["data"]
    if "factory" in data:
        check_factory("data", data["factory"], base)
    else:
        check_data_source(data, base)
    if "factory" in model:
        check_factory("model", model["factory"], base)
    found = data_shape(data)
    if found is not None:
        shape, outputs, task = found
        losses = {r.params["loss"] for r in runs}
        for loss in sorted(losses):
            error = loss_error(task, loss)
            if error:
                raise ConfigError(error)
        if "layers" in model:
            seen = set()
            for r in runs:
                key = (r.params["norm"], r.params["norm_groups"])
                if key in seen:
                    continue
                seen.add(key)
                label = f" (norm = {key[0]!r})" if any(x["type"] == "norm" for x in model["layers"]) else ""
                try:
                    shapes = layer_shapes(list(model["layers"]), shape, outputs, r.params)
                except ConfigError as exc:
                    raise ConfigError(f"{exc}{label}") from None
                error = outputs_fit(shapes, outputs, task)
                if error:
                    raise ConfigError(f"shapes do not chain: {error}")
