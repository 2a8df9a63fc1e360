"""What a model is called: its variant's name, kept true to the values it runs with.

A variant's name often states a value ("BatchNorm · batch 2"); when a --set, a
per-variant value or a sweep changes that value, the label must not repeat the
old one (see :func:`variant_label`). Used by :func:`regtui.scenario.plan`.
"""

from __future__ import annotations

import re
from typing import Any

from regtui.scenario_values import Variant
from regtui.specs import ExperimentSpec


def values_label(values: dict[str, Any]) -> str:
    """``key=value, …`` (floats as %g, flags as true/false): a model's label for its grid point or its --set values."""
    return ", ".join(f"{k}={_text(v)}" for k, v in values.items())


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


# "batch 2", "weight decay = 1e-3", "lr: 0.1": a parameter and the number a variant's name states for it.
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"


def _restate(name: str, key: str, old: Any, new: Any) -> str | None:
    """``name`` with the number it states for ``key`` (written as ``key old``, ``key=old`` or
    ``key: old``; ``_`` may be a space) changed to ``new``; None when it states no such number."""
    words = r"[ _-]?".join(re.escape(w) for w in key.split("_"))
    pattern = re.compile(rf"(?<![A-Za-z0-9])({words})(\s*[=:]\s*|\s+)({_NUMBER})(?![\w]|\.\d)", re.IGNORECASE)
    text = f"{new:g}" if isinstance(new, float) else str(new)
    found = False

    def swap(match: re.Match[str]) -> str:
        nonlocal found
        if float(match.group(3)) != old:
            return match.group(0)
        found = True
        return match.group(1) + match.group(2) + text

    renamed = pattern.sub(swap, name)
    return renamed if found else None


def _mentions(name: str, key: str) -> bool:
    """Whether a variant's name speaks of ``key`` ("no weight decay" of weight_decay)."""
    return all(word in name.lower() for word in key.split("_"))


def variant_label(
    spec: ExperimentSpec, variant: Variant, written: dict[str, Any], params: dict[str, Any], point: dict[str, Any]
) -> str:
    """A model's label: its variant's name, true to the values it runs with, then the grid point.

    A scenario names its variants for the values the file gives them (``written``: its
    parameters with the variant's own): "BatchNorm · batch 2". When a --set, a per-variant value
    or a sweep changes one of them, the name must not state the old value: a number the name
    states is rewritten ("BatchNorm · batch 8"). For a key the variant itself sets, a name that
    does not speak of the key gets its value ("plain · dropout=0.3"); otherwise (a choice or flag
    changed, or a name that speaks of the key without a number, such as "no weight decay") the
    label is the variant's parameters, ``weight_decay=0.05``. An unedited variant keeps its name.
    """
    if any(k in variant.overrides and not spec.param(k).numeric for k in point):
        # a choice the variant itself sets ("BatchNorm · …": norm) is swept: its name holds for some points
        # only, so every point's label is the variant's other values and the point ("batch=2 · norm=group")
        own = {k: params[k] for k in variant.overrides if k not in point}
        return " · ".join(p for p in (values_label(own), values_label(point)) if p)
    name, stated, added = variant.name, set(), {}
    changed = [k for k, old in written.items() if params[k] != old or type(params[k]) is not type(old)]
    for key in sorted(changed, key=lambda k: k not in variant.overrides):  # the variant's own keys first
        numeric = spec.param(key).numeric
        renamed = _restate(name, key, written[key], params[key]) if numeric else None
        if renamed is not None:
            name = renamed
            stated.add(key)
        elif key not in variant.overrides:
            continue  # a parameter of the whole file that the name does not state
        elif numeric and not _mentions(variant.name, key):
            added[key] = params[key]
        else:  # the name says something about this key that no longer holds
            name, stated, added = values_label({k: params[k] for k in variant.overrides}), set(variant.overrides), {}
            break
    extra = {k: v for k, v in added.items() if k not in point}
    rest = {k: v for k, v in point.items() if k not in stated}
    return " · ".join(p for p in (name, values_label(extra), values_label(rest)) if p)
