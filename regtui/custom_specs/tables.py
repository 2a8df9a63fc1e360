"""The ``[model]`` and ``[data]`` tables of a ``train`` scenario, checked and normalized.

Layer types and their arguments, data sources and their arguments, factory
references: each mistake is a one-line error naming the layer or source, the
key and what is allowed. The result is a plain structure the scenario carries.
"""

from __future__ import annotations

import math
from typing import Any

from regtui.custom_specs.params import TABLES
from regtui.custom_specs.sources import AUGMENT_KEYS, GET_FILES, SOURCES, check_augment
from regtui.specs import ConfigError, toml_type, unknown_key_message

# type -> {argument: (kind, required)}; kinds: "int+" (int >= 1), "int0" (int >= 0), "float", "p", "bool"
_NORM_ARGS = {"eps": ("float+", False), "affine": ("bool", False)}
LAYERS: dict[str, dict[str, tuple[str, bool]]] = {
    "linear": {"out": ("int+", False), "bias": ("bool", False)},
    "conv2d": {
        "out": ("int+", True),
        "kernel": ("int+", False),
        "stride": ("int+", False),
        "padding": ("int0", False),
        "bias": ("bool", False),
    },
    "maxpool": {"kernel": ("int+", False), "stride": ("int+", False)},
    "avgpool": {"kernel": ("int+", False), "stride": ("int+", False)},
    "flatten": {},
    "relu": {},
    "gelu": {},
    "tanh": {},
    "sigmoid": {},
    "dropout": {"p": ("p", False)},
    "batchnorm1d": {**_NORM_ARGS, "momentum": ("unit", False)},
    "batchnorm2d": {**_NORM_ARGS, "momentum": ("unit", False)},
    "layernorm": dict(_NORM_ARGS),
    "groupnorm": {**_NORM_ARGS, "groups": ("int+", True)},
    "instancenorm": dict(_NORM_ARGS),
    # a placeholder: the norm parameter decides (so variants and sweeps can change it)
    "norm": {**_NORM_ARGS, "momentum": ("unit", False), "groups": ("int+", False)},
}
NORM_TYPES = ("batchnorm1d", "batchnorm2d", "layernorm", "groupnorm", "instancenorm")


# source -> {argument: (kind, default)}
_DATA_ARGS: dict[str, dict[str, tuple[str, Any]]] = {
    "regression": {"n": ("int+", 100), "slope": ("float", 1.5), "noise": ("float0", 0.5)},
    "moons": {"n": ("int+", 1000), "noise": ("float0", 0.2)},
    "circles": {"n": ("int+", 1000), "noise": ("float0", 0.1), "factor": ("unit", 0.5)},
    "spirals": {"n": ("int+", 1000), "noise": ("float0", 0.2), "classes": ("int2", 3)},
    "images": {
        "n": ("int+", 1000),
        "noise": ("float0", 0.5),
        "classes": ("int2", 4),
        "size": ("int4", 8),
        "channels": ("int+", 1),
    },
    "digits": {},
    "mnist": {"path": ("str", None)},
    "fashion-mnist": {"path": ("str", None)},
    "cifar10": {"path": ("str", None)},
}


def _arg(where: str, key: str, value: Any, kind: str) -> Any:
    """One argument of a layer or data source, checked; returns it with its type."""

    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{where}: {key} = {value!r} is not allowed; expected {expected}")

    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "str":
        if not isinstance(value, str) or not value:
            raise bad("a non-empty string")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad("a number")
    if kind.startswith("int"):
        if isinstance(value, float) and not value.is_integer():
            raise bad("an integer")
        value = int(value)
        low = {"int+": 1, "int0": 0, "int2": 2, "int4": 4}[kind]
        if value < low or value > 1_000_000_000:
            raise bad(f"an integer >= {low}")
        return value
    value = float(value)
    if not math.isfinite(value):
        raise bad("a finite number")
    if kind == "float+" and value <= 0:
        raise bad("a number > 0")
    if kind == "float0" and value < 0:
        raise bad("a number >= 0")
    if kind == "unit" and not 0 <= value <= 1:
        raise bad("a number >= 0 and <= 1")
    if kind == "p" and not 0 <= value < 1:
        raise bad("a number >= 0 and < 1")
    return value


def _factory_ref(where: str, ref: Any) -> str:
    if not isinstance(ref, str) or ref.count(":") != 1 or not all(ref.split(":")):
        raise ConfigError(
            f"{where}: factory = {ref!r} is not allowed; expected 'path/to/file.py:function' "
            "or 'package.module:function'"
        )
    return ref


def _check_keys(where: str, table: dict[str, Any], known: list[str], what: str = "key") -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: " + unknown_key_message(key, known, what=what))


def _layers(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("model: layers must be a non-empty array of tables ([[model.layers]])")
    out = []
    for i, item in enumerate(raw):
        where = f"model layer {i + 1}"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected a table, got {toml_type(item)}")
        kind = item.get("type")
        if not isinstance(kind, str):
            raise ConfigError(f"{where}: needs a type (one of {', '.join(LAYERS)})")
        if kind not in LAYERS:
            raise ConfigError(f"{where}: " + unknown_key_message(kind, list(LAYERS), what="layer type"))
        args = {k: v for k, v in item.items() if k != "type"}
        allowed = LAYERS[kind]
        for key in args:
            if key not in allowed:
                known = list(allowed) or ["(none)"]
                raise ConfigError(f"{where} ({kind}): " + unknown_key_message(key, known, what="argument"))
        for key, (_, required) in allowed.items():
            if required and key not in args:
                raise ConfigError(f"{where} ({kind}): needs {key}")
        layer = {"type": kind, **{k: _arg(f"{where} ({kind})", k, v, allowed[k][0]) for k, v in args.items()}}
        out.append(layer)
    for i, layer in enumerate(out[:-1]):
        if layer["type"] == "linear" and "out" not in layer:
            raise ConfigError(
                f"model layer {i + 1} (linear): needs out (only the last linear layer may leave "
                "it out: it then gets the data's number of outputs)"
            )
    return out


def validate_tables(tables: dict[str, Any]) -> dict[str, Any]:
    """The ``[model]`` and ``[data]`` tables of a ``train`` scenario, checked and normalized."""
    for name in TABLES:
        if name not in tables:
            raise ConfigError(f"experiment 'train' needs a [{name}] table")
        if not isinstance(tables[name], dict):
            raise ConfigError(f"'{name}' must be a table ([{name}])")
    model, data = tables["model"], tables["data"]
    _check_keys("model", model, ["layers", "factory", "args"])
    if ("layers" in model) == ("factory" in model):
        raise ConfigError("model: give either layers ([[model.layers]]) or factory = 'file.py:function'")
    if "args" in model and ("factory" not in model or not isinstance(model["args"], dict)):
        raise ConfigError("model: args must be a table ([model.args]) and needs a factory")
    if "factory" in model:
        norm_model = {"factory": _factory_ref("model", model["factory"]), "args": dict(model.get("args", {}))}
    else:
        norm_model = {"layers": _layers(model["layers"])}

    if "factory" in data:
        _check_keys("data", data, ["factory", "args", *AUGMENT_KEYS])
        if "args" in data and not isinstance(data["args"], dict):
            raise ConfigError("data: args must be a table ([data.args])")
        norm_data = {"factory": _factory_ref("data", data["factory"]), "args": dict(data.get("args", {}))}
    else:
        source = data.get("source")
        if not isinstance(source, str):
            raise ConfigError(f"data: needs source = one of {', '.join(SOURCES)}, or factory = 'file.py:function'")
        if source not in SOURCES:
            raise ConfigError("data: " + unknown_key_message(source, list(SOURCES), what="data source"))
        allowed = _DATA_ARGS[source]
        rest = {k: v for k, v in data.items() if k != "source" and k not in AUGMENT_KEYS}
        for key in rest:
            if key not in allowed:
                known = list(allowed) or ["(none)"]
                raise ConfigError(f"data ({source}): " + unknown_key_message(key, known, what="argument"))
        norm_data = {"source": source}
        for key, (kind, default) in allowed.items():
            if key in rest:
                norm_data[key] = _arg(f"data ({source})", key, rest[key], kind)
            elif default is None:
                raise ConfigError(f"data ({source}): needs path = the folder with {GET_FILES[source]}")
            else:
                norm_data[key] = default
    norm_data.update(check_augment(data))
    return {"model": norm_model, "data": norm_data}
