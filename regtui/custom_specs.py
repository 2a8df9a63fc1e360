"""The ``train`` kind: your own model, data and optimizer, described by a scenario file.

Torch-free on purpose (the CLI, the scenario loader and the dashboard's form use it
without importing torch). Three parts:

- :data:`TRAIN`, the kind's scalar parameters (optimizer, lr, batch, steps, …): normal
  Params, so ``--set``, ``--sweep``, ``--seeds`` and the form work as for every kind;
- :func:`validate_tables`, which checks the file's ``[model]`` and ``[data]`` tables
  (layer types and their arguments, data sources and their arguments, factory
  references) and returns a normalized plain structure that the scenario carries;
- :func:`check_plan`, run when a plan is made (on every edit of the dashboard's form):
  what the files alone tell, without torch and without running anything — the shapes
  of a declarative layer list must chain, the data set must be installed or present in
  its folder, the loss must fit the data, a factory's file must parse and define it.
  Where the file names a Python factory (the one place a scenario runs code), the
  factory is imported and called only in the process that trains, just before
  training (:mod:`regtui.engine.custom.preflight`: headless before the run starts, the
  dashboard's trainer as the run's one-line error), never while planning.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import os
from pathlib import Path
from typing import Any

from regtui.specs import LR_MAX, ConfigError, ExperimentSpec, Param, unknown_key_message

KIND = "train"
TABLES = ("model", "data")

NORMS = ("batch", "layer", "group", "instance", "none")  # what a layer of type "norm" becomes
DIGITS_INSTALL = "pip install 'regtui[digits]'"
DIGITS_HINT = f"{DIGITS_INSTALL} (scikit-learn, for the 8x8 digits bundled with it)"


class MissingPackage(ConfigError):
    """A scenario's data needs an optional package that is not installed (the dashboard says which, and how
    to install it, and checks again at the next Run)."""

    def __init__(self, message: str, package: str, install: str) -> None:
        super().__init__(message)
        self.package = package
        self.install = install


TRAIN = ExperimentSpec(
    KIND,
    (
        Param("optimizer", str, "sgd", "torch.optim optimizer", choices=("sgd", "adam", "adamw")),
        Param("lr", float, 0.05, "learning rate", min=0, min_open=True, max=LR_MAX),
        Param("momentum", float, 0.9, "SGD momentum (sgd only)", min=0, max=1),
        Param("beta1", float, 0.9, "Adam/AdamW β1", min=0, max=1, max_open=True),
        Param("beta2", float, 0.999, "Adam/AdamW β2", min=0, max=1, max_open=True),
        Param("weight_decay", float, 0.0, "the optimizer's weight_decay (L2 for sgd/adam, decoupled for adamw)", min=0),
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
)

# --- layers ----------------------------------------------------------------------------------

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

# --- data sources ----------------------------------------------------------------------------

GENERATED = ("regression", "moons", "circles", "spirals", "images")
FOLDERS = ("mnist", "fashion-mnist", "cifar10")
SOURCES = (*GENERATED, "digits", *FOLDERS)
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
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")
GET_FILES = {
    "mnist": "the four idx-ubyte files (gz or not) from http://yann.lecun.com/exdb/mnist/ (or any MNIST mirror)",
    "fashion-mnist": "the four idx-ubyte files (gz or not) from https://github.com/zalandoresearch/fashion-mnist",
    "cifar10": "the 'CIFAR-10 python version' from https://www.cs.toronto.edu/~kriz/cifar.html, unpacked",
}


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


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
            raise ConfigError(f"{where}: expected a table, got {_kind(item)}")
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
        _check_keys("data", data, ["factory", "args"])
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
        rest = {k: v for k, v in data.items() if k != "source"}
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
    return {"model": norm_model, "data": norm_data}


# --- what a built-in data source gives (without loading it) -----------------------------------


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


def _shape(s: tuple[int, ...]) -> str:
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
        return {"type": "groupnorm", "groups": args.pop("groups", params["norm_groups"]), **args}
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
                f"shapes do not chain: {where} {needs}, but gets {_shape(shape)} per sample"
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


def _outputs_fit(shapes: list[tuple[int, ...]], outputs: int, task: str) -> str | None:
    last = shapes[-1] if shapes else ()
    if len(last) != 1:
        return f"the model's output is {_shape(last)} per sample; end with a linear layer (after a flatten)"
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


# --- references to files, folders, installed packages -----------------------------------------


def resolve_ref(ref: str, base: Path) -> tuple[Path | None, str, str]:
    """(file or None, module name, function) of 'file.py:fn' (relative to ``base``) or 'pkg.mod:fn'."""
    target, fn = ref.split(":")
    if target.endswith(".py") or "/" in target or os.sep in target:
        path = Path(os.path.expanduser(target))
        if not path.is_absolute():
            path = base / path
        return path, path.stem, fn
    return None, target, fn


def check_factory(where: str, ref: str, base: Path) -> None:
    """Torch-free: the file exists, parses and defines the function; or the module can be found."""
    path, module, fn = resolve_ref(ref, base)
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"{where}: factory file not found: {path}")
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except SyntaxError as exc:
            raise ConfigError(
                f"{where}: factory file {path} cannot be imported: SyntaxError at line {exc.lineno}: {exc.msg}"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: factory file {path} cannot be read: {exc}") from None
        names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        names |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        names |= {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        if fn not in names:
            raise ConfigError(f"{where}: factory file {path} defines no {fn!r}")
        return
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"{where}: factory module {module!r} cannot be imported: {exc}") from None
    if spec is None:
        raise ConfigError(f"{where}: factory module {module!r} cannot be imported: no module named {module!r}")


def data_folder(data: dict[str, Any], base: Path) -> Path:
    path = Path(os.path.expanduser(data["path"]))
    return path if path.is_absolute() else base / path


def find_files(folder: Path, names: tuple[str, ...], gz: bool) -> dict[str, Path] | None:
    """Each name's file in ``folder`` or one of its usual subfolders (``raw/``, the archive's own folder)."""
    for where in (
        folder,
        folder / "raw",
        folder / "cifar-10-batches-py",
        folder / "MNIST" / "raw",
        folder / "FashionMNIST" / "raw",
    ):
        found: dict[str, Path] = {}
        for name in names:
            for candidate in (where / name, where / f"{name}.gz") if gz else (where / name,):
                if candidate.is_file():
                    found[name] = candidate
                    break
        if len(found) == len(names):
            return found
    return None


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: blocked (sys.modules[name] is None)
        return False


def check_data_source(data: dict[str, Any], base: Path) -> None:
    """The source is installed (digits) or its files are in the folder; one-line error otherwise."""
    source = data.get("source")
    if source == "digits" and not _installed("sklearn"):
        raise MissingPackage(
            f"data source 'digits' needs scikit-learn, which is not installed: {DIGITS_HINT}",
            "scikit-learn",
            DIGITS_INSTALL,
        )
    if source in FOLDERS:
        folder = data_folder(data, base)
        if not folder.is_dir():
            raise ConfigError(
                f"data ({source}): folder {folder} not found; put {GET_FILES[source]} there, "
                f"or run: regtui download {source} {folder}"
            )
        names = MNIST_FILES if source != "cifar10" else CIFAR_FILES
        if find_files(folder, names, gz=source != "cifar10") is None:
            raise ConfigError(
                f"data ({source}): {folder} does not hold {', '.join(names)}; put "
                f"{GET_FILES[source]} there, or run: regtui download {source} {folder}"
            )


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
                error = _outputs_fit(shapes, outputs, task)
                if error:
                    raise ConfigError(f"shapes do not chain: {error}")


# --- memory ----------------------------------------------------------------------------------

FLOAT = 4  # bytes of a float32
# samples of each source before train_size/test_size cap them (generated sources: their n)
SOURCE_SAMPLES = {"digits": 1797, "mnist": 70_000, "fashion-mnist": 70_000, "cifar10": 60_000}


def _layer_params(layer: dict[str, Any], before: tuple[int, ...], after: tuple[int, ...]) -> tuple[int, int]:
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


def train_bytes(p: dict[str, Any], models: int, tables: dict[str, Any]) -> tuple[int, str]:
    """Peak bytes of a ``train`` plan: per model its parameters, gradients and optimizer state, and
    the activations of a mini-batch (kept for backward, and their gradients) or of an evaluation
    batch, times the models trained at once; plus the data set once per seed. A factory model or
    data set is not counted here (its size is known only once its code runs, in the trainer)."""
    found = data_shape(tables["data"])
    if found is None:
        return 0, "factory data (not counted before it runs)"
    shape, outputs, _ = found
    data = tables["data"]
    samples = data.get("n", SOURCE_SAMPLES.get(str(data.get("source")), 0))
    per_sample = math.prod(shape)
    params = buffers = 0
    activations = per_sample
    if "layers" in tables["model"]:
        layers = list(tables["model"]["layers"])  # layer_shapes resolves its "norm" layers in place
        before = shape
        for layer, after in zip(layers, layer_shapes(layers, shape, outputs, p)):
            n_params, n_buffers = _layer_params(layer, before, after)
            params, buffers = params + n_params, buffers + n_buffers
            activations += math.prod(after)
            before = after
    state = {"sgd": 1 if p["momentum"] else 0, "adam": 2, "adamw": 2}[p["optimizer"]]
    train_batch = min(p["batch"], samples or p["batch"])
    eval_batch = min(1024, samples or 1024)  # the trainer evaluates the test split 1024 samples at a time
    per_model = (2 + state) * params + buffers + max(3 * train_batch, eval_batch) * activations
    data_bytes = 2 * samples * per_sample  # the tensors as loaded, and a float32 copy being made
    why = f"{params:,} parameters × {models} model(s), batch={p['batch']}, {samples:,} samples of {_shape(shape)}"
    if "factory" in tables["model"]:
        why += "; the factory model's own size not counted before it runs"
    return FLOAT * (models * per_model + data_bytes), why
