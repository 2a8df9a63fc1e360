"""What a run's plan leaves in the history, and the options that run it again.

A rerun must reproduce the run exactly (same plan, same seed: on the CPU the
same numbers), so the record keeps what :func:`regtui.scenario.replay_command`
needs: the scenario by name (bundled) or by a copy of the user's file, the
``--set`` and ``--sweep`` values as the CLI writes them (exact float reprs),
seed, seeds and device. A user's scenario's relative paths resolve against its
original folder (recorded absolute), and the files it reads besides the scenario are
recorded with their sha256 (factory files copied into the run folder too), so a rerun
can say which of them changed (:func:`changed_inputs`). It also keeps what differs from
the scenario's defaults, which is what a list of runs shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from regtui.scenario import Plan, bundled_dir, replay_command, value_text, variants_setting
from regtui.specs import ConfigError

SCENARIO_COPY = "scenario"  # the folder in a run that holds a copy of a user's scenario file
FACTORY_COPIES = "factories"  # beside it: copies of the factory files the run imported


def is_bundled(plan: Plan) -> bool:
    return plan.scenario.path.parent.resolve() == bundled_dir().resolve()


def changed(plan: Plan) -> dict[str, Any]:
    """What differs from the scenario file: base parameters (a value), swept keys (a list of the
    swept values), per-variant values (a dict: variant name -> value, in the file's order) and a
    key the file sweeps but this run sets to one value."""
    s = plan.scenario
    defaults = s.defaults()
    out: dict[str, Any] = {k: v for k, v in plan.params.items() if k not in defaults or defaults[k] != v}
    for key in s.sweep:
        if key not in plan.sweep:
            out[key] = plan.params[key]
    for key, values in plan.sweep.items():
        if s.sweep.get(key) != values:
            out[key] = list(values)
    for key, values in plan.sets.items():
        if isinstance(values, tuple):
            written = variants_setting(s, key)
            if tuple(v.overrides[key] for v in written) != values:
                out[key] = {v.name: value for v, value in zip(written, values)}
    return out


def input_files(plan: Plan) -> list[dict[str, Any]]:
    """The files the run reads besides its scenario (a ``train`` run's factory modules and data files),
    each with its absolute path, sha256 and, for a factory, where the run folder keeps its copy."""
    if not plan.scenario.tables:
        return []
    from regtui.custom_specs.inputs import read_files, sha256

    files = read_files(plan.scenario.tables, plan.scenario.folder)
    taken: set[str] = set()
    for f in files:
        path = Path(f["path"])
        f["sha256"] = sha256(path)
        if f["role"].endswith("factory"):
            name, n = path.name, 2
            while name in taken:
                name, n = f"{path.stem}-{n}{path.suffix}", n + 1
            taken.add(name)
            f["copy"] = f"{SCENARIO_COPY}/{FACTORY_COPIES}/{name}"
    return files


def plan_record(plan: Plan, device: str) -> dict[str, Any]:
    """The JSON that :func:`rerun_options` turns back into the same run."""
    s = plan.scenario
    bundled = is_bundled(plan)
    return {
        "scenario": s.name if bundled else str(s.path.resolve()),
        "scenario_copy": None if bundled else f"{SCENARIO_COPY}/{s.path.name}",
        "folder": None if bundled else str(s.folder.resolve()),  # where its relative paths lead
        "files": input_files(plan),
        "sets": {k: value_text(v) for k, v in plan.sets.items()},
        "sweeps": {
            k: [value_text(v) for v in values]
            for k, values in plan.sweep.items()
            if k not in plan.sample and s.sweep.get(k) != values
        },
        "sample": {"points": plan.points, "ranges": dict(plan.sample)} if plan.sample else None,
        "seed": plan.seed,
        "seeds": plan.seeds,
        "seeds_changed": plan.seeds != s.seeds,
        "device": device,
        "command": replay_command(plan, None if device == "auto" else device),
    }


def rerun_options(plan: dict[str, Any], folder: Path, device: str | None) -> dict[str, Any]:
    """Keyword arguments for :class:`regtui.headless.Options` that repeat a recorded run.

    ``device`` is the device the run really used (its document's), so ``auto``
    cannot pick another one this time; a user's scenario comes from the copy
    kept with the run, so editing or deleting the original changes nothing.
    """
    if plan.get("tracked"):
        raise ConfigError(
            f"this run was recorded by regtui.track() from your own script; run it again with: {plan.get('command')}"
        )
    copy = plan.get("scenario_copy")
    name = str(folder / copy) if copy and (folder / copy).is_file() else str(plan["scenario"])
    return {
        "name": name,
        "base": plan.get("folder") or None,  # the copy's relative paths lead where the original's did
        "device": device if device and device != "auto" else str(plan.get("device") or "auto"),
        "seed": int(plan["seed"]),
        "seeds": int(plan["seeds"]),
        "sets": tuple(f"{k}={v}" for k, v in plan.get("sets", {}).items()),
        "sweeps": tuple(f"{k}={','.join(vs)}" for k, vs in plan.get("sweeps", {}).items())
        + tuple(f"{k}={text}" for k, text in (plan.get("sample") or {}).get("ranges", {}).items()),
        "sample": (plan.get("sample") or {}).get("points"),
    }


def changed_inputs(plan: dict[str, Any]) -> list[str]:
    """One line per file the recorded run read that is gone or differs now (by its sha256)."""
    files = plan.get("files") or []
    if not files:
        return []
    from regtui.custom_specs.inputs import changed_files

    return changed_files(files)
