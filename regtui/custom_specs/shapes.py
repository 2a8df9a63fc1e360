"""What a built-in data source gives, and whether a declarative layer list fits it.

Per-sample shapes only (no torch, no data loaded): each layer's output shape,
a layer of type "norm" resolved by the norm parameter, and the loss against
the data's task.
"""

from __future__ import annotations

import math
from typing import Any

from regtui.specs import ConfigError


def data_shape(data: dict[str, Any]) -> tuple[tuple[int, ...], int, str] | None:
    """(per-sample input shape, outputs, task) of a built-in source; None for a factory."""
    source = data.get("source")
    if source is None:
        return None
    if source == "regression":
        return (1,), 1, "regression"
    if source in ("moons", "circles"):
        return (2,), 2, "classification"
    if source == "spirals":
        return (2,), data["classes"], "classification"
    if source == "images":
        return (data["channels"], data["size"], data["size"]), data["classes"], "classification"
    if source == "digits":
        return (1, 8, 8), 10, "classification"
    if source == "cifar10":
        return (3, 32, 32), 10, "classification"
    return (1, 28, 28), 10, "classification"  # mnist, fashion-mnist


def shape_text(s: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in s) + ")"


def concrete(layer: dict[str, Any], shape: tuple[int, ...], params: dict[str, Any]) -> dict[str, Any]:
    """A layer of type "norm" as the norm parameter makes it (for this input shape); others unchanged."""
    if layer["type"] != "norm":
        return layer
    args = {k: v for k, v in layer.items() if k != "type"}
    norm = params["norm"]
    if norm != "batch":
        args.pop("momentum", None)
    if norm != "group":
        args.pop("groups", None)
    if norm == "batch":
        return {"type": "batchnorm2d" if len(shape) == 3 else "batchnorm1d", **args}
    if norm == "group":
        groups = args.pop("groups") if "groups" in args else params["norm_groups"]
        return {"type": "groupnorm", "groups": groups, **args}
    if norm == "none":
        return {"type": "identity"}
    return {"type": f"{norm}norm", **args}


def layer_shapes(
    layers: list[dict[str, Any]], shape: tuple[int, ...], outputs: int, params: dict[str, Any] | None = None
) -> list[tuple[int, ...]]:
    """Each layer's per-sample output shape, or a ConfigError naming the layer and the shapes.

    Layers of type "norm" are resolved with ``params`` (see :func:`concrete`) and replaced in
    ``layers`` when it is a list the caller owns; pass a copy.
    """
    out: list[tuple[int, ...]] = []
    for i, layer in enumerate(layers):
        if layer["type"] == "norm":
            layer = layers[i] = concrete(layer, shape, params or {"norm": "batch", "norm_groups": 4})
        kind = layer["type"]
        where = f"model layer {i + 1} ({kind})"

        def refuse(needs: str, where: str = where, shape: tuple[int, ...] = shape, i: int = i) -> ConfigError:
            return ConfigError(
                f"shapes do not chain: {where} {needs}, but gets {shape_text(shape)} per sample"
                f"{' from layer ' + str(i) if i else ' from the data'}"
            )

        if kind == "linear":
            if len(shape) != 1:
                raise refuse('needs flat input (features,); put {type = "flatten"} before it')
            shape = (layer.get("out", outputs),)
        elif kind in ("conv2d", "maxpool", "avgpool"):
            if len(shape) != 3:
                raise refuse("needs images (channels, height, width)")
            k = layer.get("kernel", 3 if kind == "conv2d" else 2)
            stride = layer.get("stride", 1 if kind == "conv2d" else k)
            pad = layer.get("padding", 0)
            h, w = ((d + 2 * pad - k) // stride + 1 for d in shape[1:])
            if h < 1 or w < 1:
                raise refuse(f"with kernel {k} needs images of at least {k - 2 * pad}x{k - 2 * pad}")
            shape = (layer["out"] if kind == "conv2d" else shape[0], h, w)
        elif kind == "flatten":
            shape = (math.prod(shape),)
        elif kind == "batchnorm1d":
            if len(shape) not in (1, 2):
                raise refuse("needs (features,) or (channels, length)")
        elif kind == "batchnorm2d":
            if len(shape) != 3:
                raise refuse("needs images (channels, height, width)")
        elif kind == "instancenorm":
            if len(shape) not in (2, 3):
                raise refuse("needs (channels, length) or (channels, height, width)")
        elif kind == "groupnorm":
            if len(shape) < 1 or shape[0] % layer["groups"]:
                raise refuse(f"needs channels divisible by groups = {layer['groups']}")
        out.append(shape)
    return out


def outputs_fit(shapes: list[tuple[int, ...]], outputs: int, task: str) -> str | None:
    last = shapes[-1] if shapes else ()
    if len(last) != 1:
        return f"the model's output is {shape_text(last)} per sample; end with a linear layer (after a flatten)"
    if last[0] != outputs:
        what = "classes" if task == "classification" else "targets"
        return f"the model gives {last[0]} outputs per sample but the data has {outputs} {what}"
    return None


def loss_error(task: str, loss: str) -> str | None:
    if task == "regression" and loss == "cross_entropy":
        return (
            "loss: 'cross_entropy' needs class labels, but this data is regression (float targets); "
            "use loss = 'mse' or 'auto'"
        )
    return None
