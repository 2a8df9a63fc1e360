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
from regtui.custom_specs.model_params import model_parameters, spec_of
from regtui.custom_specs.tables import validate_tables
from regtui.events import RunSpec
from regtui.sampling import Range, draw, is_range, parse_range, points_count, table_range
from regtui.scenario_values import Variant, check_distinct, parse_variant, sweep_values, text_value
from regtui.specs import MAX_MODELS, SEED_MAX, ConfigError, ExperimentSpec, toml_type, unknown_key_message
from regtui.variant_labels import values_label, variant_label

TOP_LEVEL_KEYS = ("experiment", "title", "summary", "explanation", "params", "variants", "sweep", "sample", "seeds")


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
    config: dict[str, Any] = field(default_factory=dict)  # and the config it gave regtui.track()
    # [sample]: the ranges random search draws from, and how many points (0: no [sample] table)
    sample: dict[str, Range] = field(default_factory=dict)
    sample_points: int = 0
    # experiment = "train": what makes the kind's parameters for this model (plain data, pickled
    # with a plan; see regtui.custom_specs.model_params)
    model_params: dict[str, Any] | None = None
    # The folder its relative paths (factory files, data folders) resolve against: the file's own,
    # or, for the copy a rerun loads from a run folder, the original's (recorded absolute).
    base: Path | None = None

    @property
    def folder(self) -> Path:
        return self.base if self.base is not None else self.path.parent

    @property
    def spec(self) -> ExperimentSpec:
        if self.model_params is not None:
            return spec_of(self.model_params, self.tables["model"].get("factory", ""))
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
    sweep: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # a sampled key: its drawn values
    # Random search: the sampled keys' ranges as written (log(1e-4,1e-1)) and the points asked for.
    sample: dict[str, str] = field(default_factory=dict)
    points: int = 0
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


def load(path: Path | str, base: Path | None = None) -> Scenario:
    """The scenario file at ``path``; ``base``: the folder its relative paths resolve against (default: its own)."""
    if base is not None:
        return replace(load(path), base=base)
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
    tables = validate_tables({k: data[k] for k in own if k in data}) if own else {}
    model_params = None
    if tables:  # a train model: its factory's arguments are parameters; dropout and norm only where they act
        model_params, model = model_parameters(tables["model"], path.parent)
        tables = {**tables, "model": model}
        spec = spec_of(model_params, model.get("factory", ""))
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise ConfigError("'params' must be a table ([params])")
    params = spec.validate(params)
    variant_tables = data.get("variants", [])
    if not isinstance(variant_tables, list):
        raise ConfigError(f"variants: expected an array of tables ([[variants]]), got {toml_type(variant_tables)}")
    variants = tuple(parse_variant(spec, i, v) for i, v in enumerate(variant_tables))
    check_distinct(variants)
    sweep_table = data.get("sweep", {})
    if not isinstance(sweep_table, dict):
        raise ConfigError("'sweep' must be a table ([sweep])")
    sweep = {key: sweep_values(spec, key, values) for key, values in sweep_table.items()}
    sample, sample_points = _sample_table(spec, data.get("sample", {}))
    seeds = data.get("seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"seeds: {seeds!r} is not allowed; expected an integer >= 1")
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
        model_params=model_params,
        sample=sample,
        sample_points=sample_points,
    )


def _sample_table(spec: ExperimentSpec, table: Any) -> tuple[dict[str, Range], int]:
    """``[sample]``: ``points = N`` and a range per key (see :mod:`regtui.sampling`)."""
    if not isinstance(table, dict):
        raise ConfigError("'sample' must be a table ([sample])")
    if not table:
        return {}, 0
    if "points" not in table:
        raise ConfigError("sample: needs points = N, the number of points to draw")
    ranges = {k: table_range(spec, k, v) for k, v in table.items() if k != "points"}
    if not ranges:
        raise ConfigError('sample: give at least one range, e.g. lr = "log(1e-4, 1e-1)"')
    return ranges, points_count(table["points"], "sample: points")


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


def parse_sweeps(spec: ExperimentSpec, items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``KEY=V1,V2,…`` (a grid's values, a tuple), or ``KEY=log(a,b)`` / ``uniform(a,b)`` /
    ``choice(…)`` (a :class:`~regtui.sampling.Range` that ``--sample N`` draws from)."""
    out: dict[str, Any] = {}
    for item in items:
        key, value = _split(item, "--sweep")
        if key in out:
            raise ConfigError(f"--sweep: {key!r} is swept twice; give all its values in one --sweep {key}=V1,V2,…")
        out[key] = parse_range(spec, key, value) if is_range(value) else sweep_values(spec, key, value)
    return out


# --- planning ------------------------------------------------------------------------------


def plan(
    scenario: Scenario,
    sets: dict[str, Any] | None = None,
    sweep: dict[str, Any] | None = None,
    seed: int = 0,
    seeds: int | None = None,
    sample: int | None = None,
) -> Plan:
    """Expand variants × sweep grid × seeds into runs.

    A sweep value that is a :class:`~regtui.sampling.Range` (or the file's ``[sample]``) is random
    search: ``sample`` (else the file's ``points``) points drawn from ``seed``, each with every
    point of the grid of the other keys. A parameter that acts in no run (``ExperimentSpec.inert``)
    and was given explicitly is an error; where it does not act it is left out of the run's params.

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
            f"--set {key}: {key} is also swept ({_swept_text((sweep or {})[key])}); "
            f"set it or sweep it, not both (one value: --sweep {key}={value_text(given[key])})"
        )
    asked = {
        **{k: v for k, v in scenario.sample.items() if k not in given},
        **{k: v for k, v in scenario.sweep.items() if k not in given},
        **(sweep or {}),
    }
    ranges = {k: v for k, v in asked.items() if isinstance(v, Range)}
    sweep = {k: v for k, v in asked.items() if not isinstance(v, Range)}
    points = scenario.sample_points if sample is None else points_count(sample)
    if ranges and not points:
        key, r = next(iter(ranges.items()))
        raise ConfigError(f"--sweep {key}={r.text} is a range; give --sample N to draw N points from it")
    if sample is not None and not ranges:
        raise ConfigError("--sample: no range to draw from; give one such as --sweep lr=log(1e-4,1e-1)")
    seeds = scenario.seeds if seeds is None else seeds
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"--seeds: {seeds!r} is not allowed; expected an integer >= 1")
    if not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ConfigError(f"--seed: {seed!r} is not allowed; expected an integer >= 0 and <= {SEED_MAX}")
    defaults = scenario.defaults()
    base = {**defaults, **spec.validate(sets)}
    fixed = set(sets) | set(sweep) | set(ranges)

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
    if ranges:  # random search: each grid point (if any) with each drawn point
        drawn = draw(spec, ranges, points, seed)
        grid = [{**g, **d} for g in grid for d in drawn]
        sweep = {**sweep, **{k: tuple(dict.fromkeys(d[k] for d in drawn)) for k in ranges}}
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
        check_plan(scenario.tables, scenario.folder, runs)
    # given here, or by a file whose own values already leave it without effect (the file's momentum
    # is no error when --set optimizer=adam turns it off: it is then left out of the record)
    explicit = set(given) | set(sweep) | {k for k in scenario.params if k in spec.inert(defaults)}
    explicit |= {k for v in scenario.variants for k in v.overrides if k in spec.inert({**defaults, **v.overrides})}
    runs, base = _acting(spec, runs, base, explicit)
    sampled = {k: r.text for k, r in ranges.items()}
    return Plan(
        loaded,
        base,
        tuple(runs),
        seed,
        seeds,
        given,
        sweep,
        sampled,
        points if ranges else 0,
        tuple(names[i] for i in owner),
    )


def _acting(
    spec: ExperimentSpec, runs: list[RunSpec], base: dict[str, Any], explicit: set[str]
) -> tuple[list[RunSpec], dict[str, Any]]:
    """The runs and base parameters without the parameters that do not act in them (momentum with
    Adam: see ``ExperimentSpec.inert``); one that was given explicitly and acts in no run is an error."""
    inert = [spec.inert(r.params) for r in runs]
    for key in sorted(explicit):
        if inert and all(key in i for i in inert):
            raise ConfigError(f"{key}: {inert[0][key]}; remove it, or change what it depends on")
    kept = [RunSpec(r.variant, r.seed, {k: v for k, v in r.params.items() if k not in i}) for r, i in zip(runs, inert)]
    return kept, {k: v for k, v in base.items() if k not in spec.inert(base)}


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
        if key not in plan.sample and s.sweep.get(key) != values:
            parts += ["--sweep", f"{key}=" + ",".join(value_text(v) for v in values)]
    if plan.sample and plan.points != s.sample_points:
        parts += ["--sample", str(plan.points)]
    for key, text in plan.sample.items():
        if key not in s.sample or s.sample[key].text != text:
            parts += ["--sweep", f"{key}={text}"]
    parts.append("--json")
    return shlex.join(parts)


def _swept_text(values: Any) -> str:
    return values.text if isinstance(values, Range) else ", ".join(value_text(v) for v in values)


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
