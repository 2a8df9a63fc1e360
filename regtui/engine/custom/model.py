"""The model of a ``train`` scenario: a declarative layer list or a factory's ``nn.Module``.

:func:`build` returns the module and its *observed layers*: the modules whose outputs
the Layers view shows and whose weight and gradient norms become series. For a layer
list these are its layers, named ``<index>.<type>`` (``0.linear``, ``1.relu``…); for a
factory's module, its leaf modules (no children) named by their qualified name.
A dry forward of a 2-sample batch of zeros (on the CPU, in eval mode, so BatchNorm's
running statistics stay untouched) checks that the shapes chain and that the output
fits the data; its error names the layer.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import torch
from torch import nn

from regtui.custom_specs.shapes import layer_shapes
from regtui.engine.custom.data import import_factory
from regtui.engine.decay_groups import param_groups
from regtui.specs import ConfigError, unknown_key_message

TRAIN_MODE_CLASSES = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm)


def _norm_kw(layer: dict[str, Any]) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if "eps" in layer:
        kw["eps"] = layer["eps"]
    return kw


def _layer(layer: dict[str, Any], shape: tuple[int, ...], outputs: int, dropout: float) -> nn.Module:
    kind = layer["type"]
    affine = layer.get("affine", True)
    if kind == "linear":
        return nn.Linear(shape[0], layer.get("out", outputs), bias=layer.get("bias", True))
    if kind == "conv2d":
        return nn.Conv2d(
            shape[0],
            layer["out"],
            layer.get("kernel", 3),
            stride=layer.get("stride", 1),
            padding=layer.get("padding", 0),
            bias=layer.get("bias", True),
        )
    if kind in ("maxpool", "avgpool"):
        k = layer.get("kernel", 2)
        pool: type[nn.MaxPool2d | nn.AvgPool2d] = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
        return pool(k, stride=layer.get("stride", k))
    if kind == "flatten":
        return nn.Flatten()
    if kind == "identity":
        return nn.Identity()
    if kind in ("relu", "gelu", "tanh", "sigmoid"):
        return {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[kind]()
    if kind == "dropout":
        return nn.Dropout(layer.get("p", dropout))
    if kind in ("batchnorm1d", "batchnorm2d"):
        bn: type[nn.BatchNorm1d | nn.BatchNorm2d] = nn.BatchNorm1d if kind == "batchnorm1d" else nn.BatchNorm2d
        return bn(shape[0], momentum=layer.get("momentum", 0.1), affine=affine, **_norm_kw(layer))
    if kind == "layernorm":
        return nn.LayerNorm(list(shape), elementwise_affine=affine, **_norm_kw(layer))
    if kind == "groupnorm":
        return nn.GroupNorm(layer["groups"], shape[0], affine=affine, **_norm_kw(layer))
    if kind == "instancenorm":
        inorm: type[nn.InstanceNorm1d | nn.InstanceNorm2d] = nn.InstanceNorm1d if len(shape) == 2 else nn.InstanceNorm2d
        return inorm(shape[0], affine=affine, **_norm_kw(layer))
    raise ConfigError(f"unknown layer type {kind!r}")  # validated before; not reached


def declarative(
    layers: list[dict[str, Any]], shape: tuple[int, ...], outputs: int, params: dict[str, Any]
) -> tuple[nn.Sequential, list[str]]:
    """The layer list as an ``nn.Sequential`` (PyTorch's default init from the global RNG) and its names."""
    layers = list(layers)
    shapes = layer_shapes(layers, shape, outputs, params)
    dropout = params.get("dropout", 0.0)  # a parameter only where a dropout layer takes it
    mods = []
    for layer, out_shape in zip(layers, shapes):
        mods.append(_layer(layer, shape, outputs, dropout))
        shape = out_shape
    return nn.Sequential(*mods), [f"{i}.{layer['type']}" for i, layer in enumerate(layers)]


def from_factory(ref: str, args: dict[str, Any], base: Path) -> tuple[nn.Module, list[str]]:
    """The factory's module, called with ``args`` (its fixed arguments and the run's values of the
    parameters it takes by name), and its leaf modules' names."""
    func = import_factory("model", ref, base)
    check_arguments(func, ref, args)
    try:
        model = func(**args)
    except Exception as exc:
        raise ConfigError(f"model: factory {ref!r} failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(model, nn.Module):
        raise ConfigError(f"model: factory {ref!r} must return a torch.nn.Module, got {type(model).__name__}")
    names = [name for name, m in model.named_modules() if name and not any(True for _ in m.children())]
    return model, names or [""]


def check_arguments(func: Any, ref: str, args: dict[str, Any]) -> None:
    """Every argument is one the factory's signature names (a factory of a module, whose file the
    plan did not read, is checked here); one it does not is a one-line error listing those it takes."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return  # a builtin without a signature: its own error, when called
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return
    names = [n for n, p in sig.parameters.items() if p.kind in kinds]
    for key in args:
        if key not in names:
            raise ConfigError(
                "model.args: " + unknown_key_message(key, names or ["(none)"], f"factory {ref!r}", "argument")
            )


def build(
    tables: dict[str, Any], base: Path, shape: tuple[int, ...], outputs: int, params: dict[str, Any]
) -> tuple[nn.Module, list[tuple[str, nn.Module]]]:
    """The model (on the CPU) and its observed layers, checked by a dry forward."""
    spec = tables["model"]
    model: nn.Module
    if "layers" in spec:
        model, names = declarative(spec["layers"], shape, outputs, params)
        observed = list(zip(names, model.children()))
    else:
        kwargs = {k: params[k] for k in spec.get("keywords", ())}  # the parameters it takes by name
        model, names = from_factory(spec["factory"], {**spec["args"], **kwargs}, base)
        modules = dict(model.named_modules())
        observed = [(n or type(model).__name__.lower(), modules[n]) for n in names]
    if not any(q.requires_grad for q in model.parameters()):
        what = f"factory {spec['factory']!r} returns a module" if "factory" in spec else "the layers make a model"
        raise ConfigError(f"model: {what} without trainable parameters (none requires grad); nothing would train")
    dry_forward(model, shape, outputs, observed)
    return model, observed


def measure(model: nn.Module, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(trained parameters, buffers, activations per sample) of a built model, for its memory estimate:
    the outputs of its leaf modules in a 2-sample forward (no grad, eval mode)."""
    sizes: list[int] = []
    leaves = [m for m in model.modules() if not any(True for _ in m.children())]
    handles = [
        m.register_forward_hook(
            lambda mod, inp, out: sizes.append(out.numel() // 2 if isinstance(out, torch.Tensor) else 0)
        )
        for m in leaves
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(2, *shape))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    params = sum(q.numel() for q in model.parameters() if q.requires_grad)
    return params, sum(b.numel() for b in model.buffers()), sum(sizes)


def dry_forward(model: nn.Module, shape: tuple[int, ...], outputs: int, observed: list[tuple[str, nn.Module]]) -> None:
    """A 2-sample forward of zeros in eval mode; a shape error names the layer it happened in."""
    current: list[str] = []
    handles = [m.register_forward_pre_hook(lambda mod, inp, name=name: current.append(name)) for name, m in observed]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(2, *shape))
    except Exception as exc:
        where = f" in layer {current[-1]}" if current else ""
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"model: the forward pass of a {(2, *shape)} batch failed{where}: {first}") from None
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] != outputs:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ConfigError(
            f"model: the output for a (2, {', '.join(map(str, shape))}) batch is {got}; the data needs (2, {outputs})"
        )


def has_train_mode_layers(model: nn.Module) -> bool:
    """Dropout or BatchNorm: the layers whose output differs between train() and eval()."""
    return any(isinstance(m, TRAIN_MODE_CLASSES) for m in model.modules())


def optimizer(model: nn.Module, p: dict[str, Any]) -> torch.optim.Optimizer:
    groups = param_groups(model, p["weight_decay"], decay_all=p["decay_norm_and_bias"])
    if p["optimizer"] == "sgd":
        return torch.optim.SGD(groups, lr=p["lr"], momentum=p["momentum"], nesterov=p["nesterov"])
    if p["optimizer"] == "rmsprop":
        return torch.optim.RMSprop(groups, lr=p["lr"], alpha=p["alpha"], eps=1e-8)
    cls = torch.optim.Adam if p["optimizer"] == "adam" else torch.optim.AdamW
    return cls(groups, lr=p["lr"], betas=(p["beta1"], p["beta2"]))
