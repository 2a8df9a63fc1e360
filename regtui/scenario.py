"""Scenario files: load and validate them, apply --set/--sweep/--seeds, and plan the runs.

A scenario file is TOML read with stdlib ``tomllib``: data only, never executed.
Torch-free, so ``--list`` and the TUI's form need no torch. The checks of the
file's single values are :mod:`regtui.scenario_values`; what a planned model is
called, :mod:`regtui.variant_labels`.
"""

from __future__ import annotations

import errno
import itertools
import os
import shlex
import stat
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from regtui import registry
from regtui.custom_specs import params as train_params
from regtui.custom_specs.checks import check_plan
from regtui.custom_specs.tables import validate_tables
from regtui.events import RunSpec
from regtui.scenario_values import Variant, check_distinct, parse_variant, sweep_values, text_value
from regtui.specs import MAX_MODELS, SEED_MAX, ConfigError, ExperimentSpec, toml_type, unknown_key_message
from regtui.variant_labels import values_label, variant_label

TOP_LEVEL_KEYS = ("experiment", "title", "summary", "explanation", "params", "variants", "sweep", "seeds")


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    experiment: str
    title: str
    summary: str
    explanation: str
    params: dict[str, Any]  # the file's own values (validated), not yet merged with defaults
    variants: tuple[Variant, ...]
    sweep: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    seeds: int = 1
    # experiment = "train" only: the validated [model] and [data] tables (see regtui.custom_specs)
    tables: dict[str, Any] = field(default_factory=dict)
    # A run recorded by regtui.track() (no file): the command line of the script that ran it,
    # which is what runs it again (see regtui.store.reading.tracked_plan).
    command: str = ""

    @property
    def spec(self) -> ExperimentSpec:
        return registry.get(self.experiment).spec

    def defaults(self) -> dict[str, Any]:
        """Effective parameters before any --set: spec defaults, then the file's values."""
        return {**self.spec.defaults(), **self.params}


@dataclass(frozen=True)
class Plan:
    """Everything one run needs: validated, expanded into one RunSpec per model."""

    scenario: Scenario  # as loaded (per-variant --set values are in ``sets``, not in its variants)
    params: dict[str, Any]  # effective base values after --set
    runs: tuple[RunSpec, ...]
    seed: int
    seeds: int
    sets: dict[str, Any] = field(default_factory=dict)
    sweep: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    # Per variant of the file, the name of the model it runs as (true to its values; identical
    # variants merged into one share its name), before any sweep point: the form's hints.
    file_variants: tuple[str, ...] = ()

    @property
    def variant_names(self) -> list[str]:
        return list(dict.fromkeys(r.variant for r in self.runs))


# --- finding files -------------------------------------------------------------------------


def bundled_dir() -> Path:
    """The folder of the bundled scenarios: inside the wheel, or top-level scenarios/ in a checkout."""
    try:
        from importlib.resources import files

        return Path(str(files("regtui.scenarios")))
    except ModuleNotFoundError:  # running from a source checkout without installing
        return Path(__file__).resolve().parent.parent / "scenarios"


def bundled_paths() -> list[Path]:
    return sorted(bundled_dir().glob("*.toml"), key=lambda p: p.stem)


def bundled_names() -> list[str]:
    return [p.stem for p in bundled_paths()]


def find(name: str) -> Path:
    """A bundled scenario by name, or a path to a user's file."""
    if name.endswith(".toml") or "/" in name or os.path.lexists(name):
        return _user_file(name)
    path = bundled_dir() / f"{name}.toml"
    if not path.is_file():
        known = bundled_names()
        message = unknown_key_message(name, known, what="scenario")
        raise ConfigError(f"{message}, or a path to a .toml file")
    return path


def _user_file(name: str) -> Path:
    """The path, or a one-line error that says what is there instead of a file."""
    path = Path(name)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(f"scenario file {name}: a symlink loop") from None
        if exc.errno == errno.ENOENT:
            raise ConfigError(f"scenario file not found: {name}") from None
        raise ConfigError(f"scenario file {name}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise ConfigError(f"scenario file {name}: is a directory; give a .toml file (or --scenarios-dir for a folder)")
    if not stat.S_ISREG(mode):
        raise ConfigError(f"scenario file {name}: not a regular file (a device, pipe or socket)")
    return path


# --- loading -------------------------------------------------------------------------------


def load(path: Path | str) -> Scenario:
    path = _user_file(str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply for a scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return _parse(path, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _parse(path: Path, data: dict[str, Any]) -> Scenario:
    own = train_params.TABLES if data.get("experiment") == train_params.KIND else ()
    for key in data:
        if key not in TOP_LEVEL_KEYS and key not in own:
            raise ConfigError(unknown_key_message(key, list(TOP_LEVEL_KEYS), what="top-level key"))
    if "experiment" not in data:
        raise ConfigError("missing key 'experiment'")
    spec = registry.get(text_value(data, "experiment")).spec
    if spec.name == registry.TRACK:
        raise ConfigError(
            f"experiment: {registry.TRACK!r} is the kind of runs recorded from your own loop by regtui.track(); "
            "a scenario file cannot run it"
        )
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise ConfigError("'params' must be a table ([params])")
    params = spec.validate(params)
    tables = data.get("variants", [])
    if not isinstance(tables, list):
        raise ConfigError(f"variants: expected an array of tables ([[variants]]), got {toml_type(tables)}")
    variants = tuple(parse_variant(spec, i, v) for i, v in enumerate(tables))
    check_distinct(variants)
    sweep_table = data.get("sweep", {})
    if not isinstance(sweep_table, dict):
        raise ConfigError("'sweep' must be a table ([sweep])")
    sweep = {key: sweep_values(spec, key, values) for key, values in sweep_table.items()}
    seeds = data.get("seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"seeds: {seeds!r} is not allowed; expected an integer >= 1")
    tables = validate_tables({k: data[k] for k in own if k in data}) if own else {}
    return Scenario(
        name=path.stem,
        path=path,
        experiment=spec.name,
        title=text_value(data, "title", path.stem),
        summary=text_value(data, "summary", ""),
        explanation=text_value(data, "explanation", ""),
        params=params,
        variants=variants,
        sweep=sweep,
        seeds=seeds,
        tables=tables,
    )


# --- command-line overrides ----------------------------------------------------------------


def _split(item: str, option: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"{option} {item!r}: expected key=value")
    return key.strip(), value


def parse_sets(spec: ExperimentSpec, items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE``; ``KEY=V1,V2,…`` (a number, flag or choice) gives one value per variant
    that sets KEY, in the file's order (a tuple; :func:`plan` checks the count)."""
    out: dict[str, Any] = {}
    for item in items:
        key, value = _split(item, "--set")
        param = spec.param(key)
        if "," in value and (param.numeric or param.kind is bool or param.choices):
            out[key] = tuple(param.parse(v) for v in value.split(","))
        else:
            out[key] = param.parse(value)
    return out


def variants_setting(scenario: Scenario, key: str) -> list[Variant]:
    """The scenario's variants that set ``key``, in the file's order (the targets of a per-variant --set)."""
    return [v for v in scenario.variants if key in v.overrides]


def _per_variant(scenario: Scenario, sets: dict[str, Any]) -> Scenario:
    """The scenario with the per-variant --set values (tuples) written into its variants."""
    variants = list(scenario.variants)
    for key, values in sets.items():
        if not isinstance(values, tuple):
            continue
        targets = [i for i, v in enumerate(scenario.variants) if key in v.overrides]
        if len(values) != len(targets) or not targets:
            names = ", ".join(scenario.variants[i].name for i in targets) or "none"
            raise ConfigError(
                f"--set {key}: {len(values)} values for {len(targets)} variant(s) that set {key} "
                f"({names}); give one value for all, or one per variant"
            )
        param = scenario.spec.param(key)
        for i, value in zip(targets, values):
            variants[i] = Variant(variants[i].name, {**variants[i].overrides, key: param.coerce(value)})
    return replace(scenario, variants=tuple(variants))


def parse_sweeps(spec: ExperimentSpec, items: list[str] | tuple[str, ...]) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    for item in items:
        key, value = _split(item, "--sweep")
        if key in out:
            raise ConfigError(f"--sweep: {key!r} is swept twice; give all its values in one --sweep {key}=V1,V2,…")
        out[key] = sweep_values(spec, key, value)
    return out


# --- planning ------------------------------------------------------------------------------


def plan(
    scenario: Scenario,
    sets: dict[str, Any] | None = None,
    sweep: dict[str, tuple[Any, ...]] | None = None,
    seed: int = 0,
    seeds: int | None = None,
) -> Plan:
    """Expand variants × sweep grid × seeds into runs.

    What the user sets explicitly wins: a key given by --set or swept is
    removed from the variants' overrides, and variants that thereby become
    identical merge (sweeping weight_decay over the weight-decay scenario gives
    one model per value, not two identical ones); a key given by --set is
    removed from the file's own sweep. A variant keeps its name unless the
    name states a value it no longer runs with (see :func:`regtui.variant_labels.variant_label`).
    """
    spec = scenario.spec
    given = dict(sets or {})  # as the user gave them (the replay line repeats them)
    loaded = scenario  # the file as written: its variants' names describe these values
    scenario = _per_variant(scenario, given)
    sets = {k: v for k, v in given.items() if not isinstance(v, tuple)}
    both = [k for k in given if k in (sweep or {})]
    if both:
        key = both[0]
        raise ConfigError(
            f"--set {key}: {key} is also swept ({', '.join(value_text(v) for v in (sweep or {})[key])}); "
            f"set it or sweep it, not both (one value: --sweep {key}={value_text(given[key])})"
        )
    sweep = {**{k: v for k, v in scenario.sweep.items() if k not in given}, **(sweep or {})}
    seeds = scenario.seeds if seeds is None else seeds
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"--seeds: {seeds!r} is not allowed; expected an integer >= 1")
    if not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ConfigError(f"--seed: {seed!r} is not allowed; expected an integer >= 0 and <= {SEED_MAX}")
    defaults = scenario.defaults()
    base = {**defaults, **spec.validate(sets)}
    fixed = set(sets) | set(sweep)

    variants: list[tuple[Variant | None, dict[str, Any]]] = []
    owner: list[int] = []  # per variant of the file: the planned variant it runs as (identical ones merge)
    for v, edited in zip(loaded.variants, scenario.variants):
        kept = {k: x for k, x in edited.overrides.items() if k not in fixed}
        same = [i for i, (_, other) in enumerate(variants) if kept == other]
        if not same:
            stripped = len(kept) < len(edited.overrides)
            variants.append((None if stripped and not kept else v, kept))
        owner.append(same[0] if same else len(variants) - 1)
    variants = variants or [(None, {})]  # a file without variants: one unnamed model per grid point

    grid = [dict(zip(sweep, combo)) for combo in itertools.product(*sweep.values())] or [{}]
    count = len(variants) * len(grid) * seeds
    if count > MAX_MODELS:
        raise ConfigError(
            f"{'sweep' if sweep else 'plan'}: {len(variants)} variant(s) × {len(grid)} grid point(s) × "
            f"{seeds} seed(s) = {count} models, more than the limit of {MAX_MODELS}"
        )
    runs = []
    set_label = values_label({k: sets[k] for k in sets if any(k not in ov for _, ov in variants)})

    def label_of(variant: Variant | None, params: dict[str, Any], point: dict[str, Any]) -> str:
        if variant is not None:
            return variant_label(spec, variant, {**defaults, **variant.overrides}, params, point)
        return values_label(point) or set_label or "default"

    names = [label_of(v, {**base, **overrides}, {}) for v, overrides in variants]  # without a grid point
    for variant, overrides in variants:
        for point in grid:
            params = {**base, **overrides, **point}
            label = label_of(variant, params, point)
            error = spec.check(params)
            if error:
                raise ConfigError(f"variant {label!r}: {error}")
            for s in range(seed, seed + seeds):
                runs.append(RunSpec(label, s, params))
    if scenario.tables:  # experiment = "train": shapes, data files, factories, before any training
        check_plan(scenario.tables, scenario.path.parent, runs)
    return Plan(loaded, base, tuple(runs), seed, seeds, given, sweep, tuple(names[i] for i in owner))


def replay_command(plan: Plan, device: str | None = None) -> str:
    """The headless command that reproduces a plan (a tracked run's: its script's command line)."""
    s = plan.scenario
    if s.command:
        return s.command
    target = s.name if s.path.parent.resolve() == bundled_dir().resolve() else str(s.path)
    parts = ["regtui", "--scenario", target, "--seed", str(plan.seed)]
    if plan.seeds != s.seeds:
        parts += ["--seeds", str(plan.seeds)]
    if device and device.partition(":")[0] == "ray":  # the dashboard's Ray choices: ray, ray:cuda
        parts += ["--executor", "ray", "--device", device.partition(":")[2] or "cpu"]
    elif device:
        parts += ["--device", device]
    for key, value in plan.sets.items():
        parts += ["--set", f"{key}={value_text(value)}"]
    for key, values in plan.sweep.items():
        if s.sweep.get(key) != values:
            parts += ["--sweep", f"{key}=" + ",".join(value_text(v) for v in values)]
    parts.append("--json")
    return shlex.join(parts)


def value_text(value: Any) -> str:
    """A parameter value as --set / the form write it (true/false, repr of floats; a per-variant
    tuple as V1,V2,…)."""
    if isinstance(value, tuple):
        return ",".join(value_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
