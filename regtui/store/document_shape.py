"""The shape of a stored run document (schema regtui.run/1) as its readers walk it.

``runs show``, ``compare``, ``export`` and History index into a document without checking each step;
a hand-edited or damaged ``run.json`` must therefore be refused when it is read, with one line naming
the first place that is wrong, rather than crash a reader later. The shapes below are what the
collector writes (``regtui.report.Collector.document``); keys not named here are allowed and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NONE = type(None)
NUMBER = (int, float)  # bool is an int: a flag where a number is expected is read as 0 or 1
SCALAR = (NONE, bool, int, float, str)


@dataclass(frozen=True)
class Obj:
    """A JSON object: ``fields`` with their shapes (those in ``required`` must be there); ``rest`` is the
    shape of every other key's value (None: any value)."""

    fields: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    rest: Any = None


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class Either:
    """One of several shapes (a type tuple covers the plain cases)."""

    shapes: tuple[Any, ...]


ANY = object()
NUMBERS = ListOf(NUMBER)
NUMBERS_OR_NONE = ListOf((NONE, *NUMBER))
SERIES = Obj({"step": NUMBERS}, rest=NUMBERS_OR_NONE)
FINAL = Obj(rest=Either((SCALAR, NUMBERS_OR_NONE)))
CURVE = Obj({"x": NUMBERS_OR_NONE, "y": NUMBERS_OR_NONE, "y_std": NUMBERS_OR_NONE}, required=("x", "y"))
LAYERS = Obj(rest=Either(((NONE, int), NUMBERS_OR_NONE)))
PER_SEED = Obj({"seed": int, "final": FINAL, "series": SERIES}, required=("seed", "final", "series"))
VARIANT = Obj(
    {
        "name": str,
        "params": dict,
        "seeds": ListOf(int),
        "series": SERIES,
        "series_std": SERIES,
        "final": FINAL,
        "final_std": Obj(rest=(NONE, *NUMBER)),
        "curves": Obj(rest=CURVE),
        "layers": LAYERS,
        "layers_training": LAYERS,
        "per_seed": ListOf(PER_SEED),
        "diverged_seeds": ListOf(int),
    },
    required=("name", "final"),
)
TABLE = Obj({"columns": ListOf(str), "rows": ListOf(ListOf(SCALAR))}, required=("columns", "rows"))
SWEEP_SUMMARY = Obj(
    {
        "keys": ListOf(str),
        "points": ListOf(Obj({"values": dict, "diverged_seeds": int}, required=("values", "diverged_seeds"))),
        "best": Obj({"values": dict}, required=("values",)),
    },
    required=("keys", "points"),
)
TEXT_OR_NONE = (str, NONE)
DOCUMENT = Obj(
    {
        "scenario": TEXT_OR_NONE,
        "experiment": TEXT_OR_NONE,
        "title": TEXT_OR_NONE,
        "status": str,
        "device": TEXT_OR_NONE,
        "seed": (int, NONE),
        "seeds": (int, NONE),
        "torch_version": TEXT_OR_NONE,
        "elapsed_s": (*NUMBER, NONE),
        "error": TEXT_OR_NONE,
        "params": dict,
        "sweep": Obj(rest=list),
        "variants": ListOf(VARIANT),
        "tables": Obj(rest=TABLE),
        "summary": Obj({"sweep": SWEEP_SUMMARY}, rest=(dict, list)),
    },
    required=(
        *("scenario", "experiment", "title", "status", "device", "seed", "torch_version", "elapsed_s"),
        *("params", "variants", "tables", "summary"),
    ),
)


def document_problem(doc: Any) -> str | None:
    """The first place where ``doc`` departs from the shape its readers expect ("variants[0].final is
    missing"), or None."""
    return problem(doc, DOCUMENT, "")


def problem(value: Any, shape: Any, at: str) -> str | None:
    if shape is ANY:
        return None
    if isinstance(shape, Either):
        fitting = [s for s in shape.shapes if _outer_fits(value, s)]
        if not fitting:
            return f"{at} is {_kind(value)}, not {_kinds(shape)}"
        found = [problem(value, s, at) for s in fitting]
        return None if None in found else found[0]
    if isinstance(shape, ListOf):
        if not isinstance(value, list):
            return f"{at or 'the document'} is not a list"
        return next((p for i, item in enumerate(value) if (p := problem(item, shape.item, f"{at}[{i}]"))), None)
    if isinstance(shape, Obj):
        return _object_problem(value, shape, at)
    if not isinstance(value, shape):
        return f"{at} is {_kind(value)}, not {_kinds(shape)}"
    return None


def _object_problem(value: Any, shape: Obj, at: str) -> str | None:
    if not isinstance(value, dict):
        return f"{at or 'the document'} is {_kind(value)}, not an object"
    for key in shape.required:
        if key not in value:
            return f"{_join(at, key)} is missing"
    for key, item in value.items():
        sub = shape.fields.get(key, shape.rest)
        if sub is not None and (found := problem(item, sub, _join(at, key))):
            return found
    return None


def _join(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _kind(value: Any) -> str:
    return (
        "null"
        if value is None
        else {bool: "a flag", dict: "an object", list: "a list", str: "a text"}.get(type(value), "a number")
    )


def _outer_fits(value: Any, shape: Any) -> bool:
    """Whether ``value`` is the kind of thing ``shape`` is (its parts not yet looked at)."""
    if isinstance(shape, ListOf):
        return isinstance(value, list)
    if isinstance(shape, Obj):
        return isinstance(value, dict)
    return isinstance(value, shape)


def _kinds(shape: Any) -> str:
    """``a number or null``: what a shape (a type, a tuple of types, or an Either of those and lists) allows."""
    names = {NONE: "null", bool: "a flag", int: "a number", float: "a number", str: "a text", dict: "an object"}
    names |= {list: "a list"}
    kinds: list[Any] = []
    for part in shape.shapes if isinstance(shape, Either) else (shape,):
        kinds += part if isinstance(part, tuple) else [list if isinstance(part, ListOf) else part]
    words = list(dict.fromkeys(names.get(k, getattr(k, "__name__", "?")) for k in kinds))
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
