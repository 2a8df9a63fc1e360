"""The parameter form's texts checked as the CLI checks them: every field with its parameter's own
rules (``Param.parse``), then the whole form with ``regtui.scenario.plan`` (the spec's
cross-parameter check, seeds, the sweep). No widget here: the form shows what :func:`check` finds.

The plan's ``sets`` are the fields that differ from the scenario's defaults, exactly like ``--set``;
the sweep fields are the whole sweep of the file's swept key (cleared or given another key, the
file's key takes its field's value as a ``--set``), so the CLI command of the form plans the same runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from regtui import scenario as sc
from regtui.custom_specs.sources import MissingPackage
from regtui.sampling import is_range, points_count
from regtui.specs import MAX_MODELS, SEED_MAX, ConfigError, parse_count


@dataclass(frozen=True)
class Checked:
    """What the form's texts make: a plan, or the fields' errors (field key -> one line) and the
    whole form's error; ``missing``: the plan waits for a package to be installed."""

    plan: sc.Plan | None
    errors: dict[str, str]
    form_error: str | None = None
    missing: MissingPackage | None = None

    @property
    def error(self) -> str | None:
        """The first problem, as the status line says it."""
        return next(iter(self.errors.values()), None) or self.form_error


def per_variant(scenario: sc.Scenario, key: str) -> list[Any]:
    """The values of ``key`` for the variants that set it, in the file's order, when two or more do:
    its field then holds one value per variant ('0.0, 0.01'), like ``--set key=0.0,0.01``."""
    values = [v.overrides[key] for v in scenario.variants if key in v.overrides]
    return values if len(values) > 1 else []


def variant_names(scenario: sc.Scenario, plan: sc.Plan | None, key: str) -> list[str]:
    """The names of the variants that set ``key``, as the plan runs them (true to their values:
    "BatchNorm · batch 8" once batch is 8; merged variants share a name), else as the file names them."""
    names = list(plan.file_variants) if plan is not None else []
    if len(names) != len(scenario.variants):
        names = [v.name for v in scenario.variants]
    return [name for name, v in zip(names, scenario.variants, strict=True) if key in v.overrides]


def check(scenario: sc.Scenario, texts: dict[str, str]) -> Checked:
    """Check the form's texts (parameter names, seed, seeds, sweep_key, sweep_values)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    listed: dict[str, tuple[Any, ...]] = {}  # keys whose field holds one value per variant
    for p in scenario.spec.params:
        text = texts.get(p.name, "")
        try:
            per = per_variant(scenario, p.name)
            if per and "," in text:
                values[p.name] = tuple(p.parse(t) for t in text.split(","))
                listed[p.name] = tuple(per)
                if len(values[p.name]) != len(per):
                    raise ConfigError(
                        f"{p.name}: {len(values[p.name])} values for {len(per)} variants; "
                        "give one per variant, or one for all"
                    )
            else:
                values[p.name] = p.parse(text)
                if per:
                    listed[p.name] = tuple(per)
        except ConfigError as exc:
            errors[p.name] = str(exc)
    seed = _int(texts.get("seed", "0"), "seed", 0, SEED_MAX, errors)
    seeds = _int(texts.get("seeds", "1"), "seeds", 1, MAX_MODELS, errors)
    sweep, sample = _sweep(scenario, texts, errors)
    if errors:
        return Checked(None, errors)
    defaults = scenario.defaults()
    sets = {
        k: v
        for k, v in values.items()
        if (k in listed and v != listed[k])  # a per-variant list that changed, or one value for all
        or (k not in listed and (v != defaults.get(k) or type(v) is not type(defaults.get(k))))
    }
    shown = next(iter(scenario.sweep), None)  # the file's swept key, in the sweep fields
    if shown is not None and shown not in sweep:
        sets[shown] = values[shown]  # its sweep cleared or replaced: the field's one value (--set)
    try:
        return Checked(sc.plan(scenario, sets, sweep, seed, seeds, sample), errors)
    except ConfigError as exc:
        return Checked(None, errors, str(exc), exc if isinstance(exc, MissingPackage) else None)


# Random search in the sweep values field: a range and how many points, "log(1e-4,1e-1)*8".
SAMPLED = re.compile(r"^(.*\))\s*\*\s*(\S+)$")


def _sweep(scenario: sc.Scenario, texts: dict[str, str], errors: dict[str, str]) -> tuple[dict[str, Any], int | None]:
    """The sweep fields' sweep ({} when both are empty) and its points to draw (a range "…*N", as
    ``--sample N``; else None); a problem goes into ``errors``."""
    key = texts.get("sweep_key", "").strip()
    raw = texts.get("sweep_values", "").strip()
    if not (key or raw):
        return {}, None
    sampled = SAMPLED.match(raw)
    if key and sampled:
        try:
            return sc.parse_sweeps(scenario.spec, [f"{key}={sampled[1]}"]), points_count(sampled[2], "sweep values")
        except ConfigError as exc:
            errors["sweep_key" if key not in {p.name for p in scenario.spec.params} else "sweep_values"] = str(exc)
            return {}, None
    if key and is_range(raw):
        errors["sweep_values"] = f"sweep values: {raw} draws random points; say how many: {raw}*8"
        return {}, None
    if not key:
        errors["sweep_key"] = "sweep key: give the parameter to sweep, or clear the values"
    elif not raw:
        errors["sweep_values"] = f"sweep values: give a comma list for {key}, e.g. 0,1e-3,1e-2"
    else:
        try:
            return sc.parse_sweeps(scenario.spec, [f"{key}={raw}"]), None
        except ConfigError as exc:
            field = "sweep_key" if key not in {p.name for p in scenario.spec.params} else "sweep_values"
            errors[field] = str(exc)
    return {}, None


def merged_count(plan: sc.Plan | None) -> int | None:
    """How many variants a plan trains (per grid point and seed), or None without a plan."""
    if plan is None:
        return None
    points = {tuple(repr(r.params.get(k)) for k in plan.sweep) for r in plan.runs}  # grid or drawn points
    return len(plan.variant_names) // max(1, len(points))


def _int(text: str, name: str, minimum: int, maximum: int, errors: dict[str, str]) -> int:
    """The CLI's parser for seed/seeds; a bad value goes into ``errors`` under ``name``."""
    try:
        return parse_count(name, text, minimum, maximum)
    except ConfigError as exc:
        errors[name] = str(exc)
        return minimum
