"""The values a scenario file gives, checked one by one: text fields, variants and sweeps.

Each check raises a one-line :class:`~regtui.specs.ConfigError` naming the key
and what is allowed; :func:`regtui.scenario.load` puts the file's path in
front. Sweep values come from the file or from ``--sweep``, so both go through
:func:`sweep_values`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regtui.specs import ConfigError, ExperimentSpec, Param, toml_type


@dataclass(frozen=True)
class Variant:
    """A ``[[variants]]`` table: its name and the parameters it sets (validated)."""

    name: str
    overrides: dict[str, Any]


def text_value(data: dict[str, Any], key: str, default: str | None = None) -> str:
    """A string field of the file (title, summary, …), or a one-line error naming its type."""
    value = data.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected a string, got {toml_type(value)}")
    return value


def check_distinct(variants: tuple[Variant, ...]) -> None:
    """Two variants with one name, or with the same parameters, would silently become one."""
    by_name: set[str] = set()
    by_params: dict[frozenset[tuple[str, Any]], str] = {}
    for v in variants:
        if v.name in by_name:
            raise ConfigError(f"variants: the name {v.name!r} is used twice; names must be unique")
        by_name.add(v.name)
        key = frozenset(v.overrides.items())
        if key in by_params:
            raise ConfigError(
                f"variants: {by_params[key]!r} and {v.name!r} set the same parameters; remove one or make them differ"
            )
        by_params[key] = v.name


def parse_variant(spec: ExperimentSpec, index: int, table: Any) -> Variant:
    """One ``[[variants]]`` table: a name and parameters the kind accepts."""
    if not isinstance(table, dict):
        raise ConfigError(f"variants: item #{index + 1} is {toml_type(table)}; expected a table ([[variants]])")
    overrides = dict(table)
    name = overrides.pop("name", None)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"variant #{index + 1} needs a name (a non-empty string)")
    try:
        return Variant(name, spec.validate(overrides))
    except ConfigError as exc:
        raise ConfigError(f"variant {name!r}: {exc}") from None


def sweep_values(spec: ExperimentSpec, key: str, values: Any) -> tuple[Any, ...]:
    """A sweep's values for ``key``: a TOML list, or ``V1,V2,…`` of --sweep; in order, each once.

    Any parameter sweeps: a number, a flag (true,false) or a choice (norm=batch,layer) —
    each value checked as --set checks it."""
    param = spec.param(key)
    example = example_values(param)
    if isinstance(values, str):
        items = values.split(",")
        if any(not v.strip() for v in items):
            raise ConfigError(f"sweep: {key}={values!r} has an empty value; write e.g. {key}={example}")
        parsed = [param.parse(v) for v in items]
    elif isinstance(values, list):
        parsed = [param.coerce(v) for v in values]
    else:
        raise ConfigError(f"sweep: {key} must be a list of values ({key} = [V1, V2, …]), got {values!r}")
    if not parsed:
        raise ConfigError(f"sweep: {key} has no values; give at least one, e.g. {key}={example}")
    return tuple(dict.fromkeys(parsed))


def example_values(param: Param) -> str:
    """Values of ``param`` as a sweep's example writes them (its choices, true,false or numbers)."""
    if param.choices:
        return ",".join(param.choices[:2])
    if param.kind is bool:
        return "true,false"
    if param.kind is str:
        return "a,b"
    return "0,1e-3,1e-2" if param.kind is float else "1,2,4"
