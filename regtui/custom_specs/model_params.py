"""The parameters a ``train`` scenario's model really takes: its factory's arguments, and
``dropout``/``norm`` only where they act.

A factory's ``[model.args]`` keys (and the arguments its signature gives a plain default: a
number, flag or string) become parameters that ``--set``, variants, sweeps and the form change,
checked against the factory's signature. ``dropout``, ``norm`` and ``norm_groups`` act on a
layer list through its ``dropout`` layers without their own p and its ``norm`` placeholders,
and on a factory through keyword arguments of those names; where nothing takes them they are
not parameters of the scenario, so setting one is an error naming why. Which optimizer
parameters act depends on each run's optimizer (:func:`regtui.custom_specs.params.inert`).

Torch-free and without running the user's code: the factory file's signature is read with
``ast``. A factory named as ``package.module:function`` is checked when it is called
(:func:`regtui.engine.custom.model.from_factory`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from regtui.custom_specs.params import TRAIN
from regtui.custom_specs.sources import resolve_ref
from regtui.specs import ConfigError, ExperimentSpec, Param, unknown_key_message

# Parameters of the train kind that a factory takes by keyword when its signature names them.
BY_KEYWORD = ("dropout", "norm", "norm_groups")
_ARG_KINDS: dict[type, type] = {bool: bool, int: int, float: float, str: str}


@dataclass(frozen=True)
class Signature:
    """A factory's keyword arguments: their names, their plain defaults, and whether it takes ``**kwargs``."""

    names: tuple[str, ...]
    defaults: dict[str, Any]
    any_keyword: bool


def _literal(node: ast.expr | None) -> Any:
    try:
        return ast.literal_eval(node) if node is not None else None
    except ValueError:
        return None


def _of_function(fn: ast.FunctionDef | ast.AsyncFunctionDef, skip_first: bool) -> Signature:
    a = fn.args
    positional = [*a.posonlyargs, *a.args][1 if skip_first else 0 :]
    keyword = [x for x in positional if x not in a.posonlyargs] + list(a.kwonlyargs)
    defaults: dict[str, Any] = {}
    for arg, node in zip(positional[len(positional) - len(a.defaults) :], a.defaults):
        defaults[arg.arg] = _literal(node)
    for arg, kw_node in zip(a.kwonlyargs, a.kw_defaults):
        defaults[arg.arg] = _literal(kw_node)
    plain = {k: v for k, v in defaults.items() if type(v) in _ARG_KINDS}
    return Signature(tuple(x.arg for x in keyword), plain, a.kwarg is not None)


def factory_signature(ref: str, base: Path) -> Signature | None:
    """The signature of a 'file.py:function' factory (a function, or a class's ``__init__``), read
    from the file; None when the file does not define it plainly or the factory is a module's."""
    path, _, name = resolve_ref(ref, base)
    if path is None:
        return None
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, SyntaxError):
        return None  # check_factory reports it
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return _of_function(node, skip_first=False)
        if isinstance(node, ast.ClassDef) and node.name == name:
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
            return _of_function(init, skip_first=True) if init is not None else Signature((), {}, False)
    return None


def model_parameters(model: dict[str, Any], base: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what :func:`spec_of` makes the kind's parameters from, the model table with ``keywords``: the
    parameters passed to a factory by name — its arguments, and ``dropout``/``norm`` where it takes them).

    Plain data (a plan is pickled to the trainer process; a spec holds functions)."""
    if "layers" in model:
        layers = model["layers"]
        takes = {
            "dropout": any(x["type"] == "dropout" and "p" not in x for x in layers),
            "norm": any(x["type"] == "norm" for x in layers),
            "norm_groups": any(x["type"] == "norm" and "groups" not in x for x in layers),
        }
        why = {
            "dropout": "the model has no dropout layer without its own p",
            "norm": 'the model has no layer of type "norm"',
            "norm_groups": 'the model has no layer of type "norm" without its own groups',
        }
        return _described(takes, why, [], {}), model
    ref, args = model["factory"], dict(model["args"])
    sig = factory_signature(ref, base)
    if sig is not None and not sig.any_keyword:
        for key in args:
            if key not in sig.names:
                known = list(sig.names) or ["(none)"]
                raise ConfigError("model.args: " + unknown_key_message(key, known, f"factory {ref!r}", "argument"))
    named = set(sig.names) if sig is not None else set()
    takes = {k: k in named or k in args for k in BY_KEYWORD}
    why = {k: f"the model factory {ref!r} takes no {k} argument" for k in BY_KEYWORD}
    train = {p.name for p in TRAIN.params}
    extra: list[tuple[str, str, Any]] = []
    defaults: dict[str, Any] = {}
    for key, value in {**(sig.defaults if sig is not None else {}), **args}.items():
        if key in BY_KEYWORD:
            try:  # the factory's default (or its [model.args] value) is the parameter's default
                defaults[key] = TRAIN.param(key).coerce(value)
            except ConfigError as exc:
                if key in args:
                    raise ConfigError(f"model.args: {exc}") from None
                takes[key] = False  # its own values (norm = "bn"): not the train kind's
                why[key] = f"the model factory {ref!r} takes its own {key} values (default {value!r})"
            continue
        if key in train:
            if key in args:
                raise ConfigError(
                    f"model.args: {key!r} is also a parameter of the train kind ({TRAIN.param(key).help}); "
                    "a factory argument cannot share its name"
                )
            continue  # the signature's own default stays the factory's
        if type(value) in _ARG_KINDS:
            extra.append((key, type(value).__name__, value))
    keywords = [k for k in BY_KEYWORD if takes[k]] + [name for name, _, _ in extra]
    fixed = {k: v for k, v in args.items() if k not in keywords}
    return _described(takes, why, extra, defaults), {**model, "args": fixed, "keywords": keywords}


def _described(
    takes: dict[str, bool], why: dict[str, str], extra: list[tuple[str, str, Any]], defaults: dict[str, Any]
) -> dict[str, Any]:
    absent = {k: f"{why[k]}, so {k} would not act" for k, taken in takes.items() if not taken}
    return {"absent": absent, "defaults": defaults, "extra": extra}


_KINDS = {"bool": bool, "int": int, "float": float, "str": str}


def spec_of(described: dict[str, Any], ref: str = "") -> ExperimentSpec:
    """The train kind's parameters for one model (see :func:`model_parameters`): without the absent
    ones, the factory's arguments added (their value's type, no bounds: the factory decides)."""
    absent, defaults = described["absent"], described["defaults"]
    params = [replace(p, default=defaults.get(p.name, p.default)) for p in TRAIN.params if p.name not in absent]
    extra = [Param(n, _KINDS[k], v, f"argument {n} of the model factory {ref}") for n, k, v in described["extra"]]
    return replace(TRAIN, params=(*params, *extra), absent=dict(absent))
