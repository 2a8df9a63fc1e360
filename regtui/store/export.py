"""Runs out of regtui: tidy CSV files and JSON lines, for pandas, R, spreadsheets and jq.

CSV is in long ("tidy") form, one value per row, so every run fits the same
columns whatever its experiment, and ``pandas.read_csv`` needs no options:

- ``series.csv``  run, variant, seed, step, metric, value (every seed's own per-step values)
- ``finals.csv``  run, variant, seed, metric, value (flags as 1/0; a list final as ``name[i]``)
- ``params.csv``  run, variant, param, value (each variant's full parameters)
- ``tables.csv``  run, table, row, column, value, text (a number in value, anything else in text, so
  value reads back as numbers; pivot on run, table, row for the wide table); the summary's tables
  (lists of records: ``summary.norms``, ``summary.stacking``, …) as ``summary.<name>``
- ``curves.csv``  run, variant, curve, point, x, y
- ``layers.csv``  run, variant, seed, step, layer, stat, value (layer by name where the run names
  its layers; a step for every logging step's profile, none for a measuring pass before training)
- ``runs.csv``    run, created, scenario, experiment, status, device, seed, seeds, changed

A missing or non-finite value is an empty cell (NaN in pandas). Each file is
written atomically, so a reader never sees half of one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from regtui.output import write_atomic
from regtui.store.record import RunInfo

Row = list[Any]
HEADERS = {
    "series": ["run", "variant", "seed", "step", "metric", "value"],
    "finals": ["run", "variant", "seed", "metric", "value"],
    "params": ["run", "variant", "param", "value"],
    "tables": ["run", "table", "row", "column", "value", "text"],
    "curves": ["run", "variant", "curve", "point", "x", "y"],
    "layers": ["run", "variant", "seed", "step", "layer", "stat", "value"],
    "runs": ["run", "created", "scenario", "experiment", "status", "device", "seed", "seeds", "changed"],
}


def write_csv(out: Path, runs: list[tuple[RunInfo, dict[str, Any]]]) -> list[Path]:
    """Write the CSV files of these (record, document) pairs into the folder ``out``; returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    makers = {
        "series": _series,
        "finals": _finals,
        "params": _params,
        "tables": _tables,
        "curves": _curves,
        "layers": _layers,
        "runs": _runs,
    }
    written = []
    for name, make in makers.items():
        path = out / f"{name}.csv"
        write_atomic(path, _csv_text(HEADERS[name], (row for info, doc in runs for row in make(info, doc))))
        written.append(path)
    return written


JSONL_NAME = "runs.jsonl"  # the file ``--format jsonl --out FOLDER/`` writes in that folder


def write_jsonl(out: Path, runs: list[tuple[RunInfo, dict[str, Any]]]) -> None:
    """One line per run: ``{"schema": "regtui.export/1", "run": its record, "document": its document}``."""
    from regtui.aggregate import sanitize

    lines = [
        json.dumps({"schema": "regtui.export/1", "run": _record(info), "document": sanitize(doc)}, allow_nan=False)
        for info, doc in runs
    ]
    write_atomic(out, "".join(line + "\n" for line in lines))


def _record(info: RunInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "created": info.created,
        "scenario": info.scenario,
        "experiment": info.experiment,
        "status": info.shown_status,
        "device": info.device,
        "seed": info.seed,
        "seeds": info.seeds,
        "changed": info.changed,
        "plan": info.plan,
    }


def _csv_text(header: list[str], rows: Iterable[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(x) for x in row] for row in rows)
    return buffer.getvalue()


def _cell(x: Any) -> Any:
    if x is None:
        return ""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, float):
        return repr(x) if x == x and abs(x) != float("inf") else ""
    if isinstance(x, (list, dict)):
        return json.dumps(x, allow_nan=False)
    return x


def _per_seed(variant: dict[str, Any], doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Each seed's own series and finals (a one-seed variant keeps them at the top level)."""
    if variant.get("per_seed"):
        return list(variant["per_seed"])
    seeds = variant.get("seeds") or [doc.get("seed")]
    return [{"seed": seeds[0], "series": variant.get("series") or {}, "final": variant.get("final") or {}}]


def _series(info: RunInfo, doc: dict[str, Any]) -> Iterator[Row]:
    for v in doc.get("variants") or []:
        for entry in _per_seed(v, doc):
            series = entry["series"]
            steps = series.get("step") or []
            for metric, values in series.items():
                if metric != "step":
                    for step, value in zip(steps, values):
                        yield [info.id, v["name"], entry["seed"], step, metric, value]


def _finals(info: RunInfo, doc: dict[str, Any]) -> Iterator[Row]:
    for v in doc.get("variants") or []:
        for entry in _per_seed(v, doc):
            for metric, value in entry["final"].items():
                if isinstance(value, list):
                    for i, item in enumerate(value):
                        yield [info.id, v["name"], entry["seed"], f"{metric}[{i}]", item]
                elif value is None or isinstance(value, (bool, int, float)):
                    yield [info.id, v["name"], entry["seed"], metric, value]


def _params(info: RunInfo, doc: dict[str, Any]) -> Iterator[Row]:
    for v in doc.get("variants") or []:
        for key, value in (v.get("params") or {}).items():
            yield [info.id, v["name"], key, value]


def _tables(info: RunInfo, doc: dict[str, Any]) -> Iterator[Row]:
    """The document's tables, then its summary tables (a list of records, such as ``summary.norms``)
    as ``summary.<name>`` (a list or mapping cell as its JSON text, in the text column)."""
    tables = [(name, table.get("columns") or [], table.get("rows") or []) for name, table in _doc_tables(doc)]
    for name, columns, rows in tables:
        for i, row in enumerate(rows):
            for column, value in zip(columns, row):
                number = value is None or isinstance(value, (bool, int, float))
                yield [info.id, name, i, column, value if number else None, None if number else value]


def _doc_tables(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from (doc.get("tables") or {}).items()
    for key, value in (doc.get("summary") or {}).items():
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            columns = list(dict.fromkeys(c for r in value for c in r))
            yield f"summary.{key}", {"columns": columns, "rows": [[r.get(c) for c in columns] for r in value]}


def _curves(info: RunInfo, doc: dict[str, Any]) -> Iterator[Row]:
    for v in doc.get("variants") or []:
        for name, curve in (v.get("curves") or {}).items():
            for i, (x, y) in enumerate(zip(curve.get("x") or [], curve.get("y") or [])):
                yield [info.id, v["name"], name, i, x, y]


def _layers(info: RunInfo, doc: dict[str, Any]) -> Iterator[Row]:
    """The measuring pass (no step), then every training step's profile of every seed, by layer name."""
    known = [str(x.get("name")) for x in ((doc.get("summary") or {}).get("model") or {}).get("layers") or []]
    for v in doc.get("variants") or []:
        seeds = v.get("seeds") or [doc.get("seed")]
        measured = v.get("layers") or {}
        for stat in ("mean", "std"):
            values = measured.get(stat) or []
            names = _layer_names(known, len(values))
            for name, value in zip(names, values):
                yield [info.id, v["name"], seeds[0] if len(seeds) == 1 else None, None, name, stat, value]
        for seed, history in _layer_histories(v, seeds):
            names = _layer_names(history.get("names") or known, len((history.get("std") or [[]])[0]))
            for step, means, stds in zip(history["step"], history["mean"], history["std"]):
                for stat, values in (("mean", means), ("std", stds)):
                    for name, value in zip(names, values):
                        yield [info.id, v["name"], seed, step, name, stat, value]


def _layer_names(known: list[str], n: int) -> list[str]:
    """The layers' names where the run gave them (as many as there are values), else 1, 2, …"""
    return [str(x) for x in known] if len(known) == n else [str(i) for i in range(1, n + 1)]


def _layer_histories(v: dict[str, Any], seeds: list[Any]) -> list[tuple[Any, dict[str, Any]]]:
    """(seed, every training step's profile) per seed; a document without them: its latest step's."""
    per_seed = [(e.get("seed"), e["layers_steps"]) for e in v.get("per_seed") or [] if e.get("layers_steps")]
    if v.get("layers_steps"):
        per_seed = [(seeds[0], v["layers_steps"])]
    if per_seed:
        return per_seed
    latest = v.get("layers_training")
    if not latest:
        return []
    one = {"step": [latest.get("step")], "mean": [latest.get("mean") or []], "std": [latest.get("std") or []]}
    return [(latest.get("seed", seeds[0] if len(seeds) == 1 else None), one)]


def _runs(info: RunInfo, doc: dict[str, Any]) -> Iterator[Row]:
    yield [
        info.id,
        info.created,
        info.scenario,
        info.experiment,
        doc.get("status") or info.shown_status,
        doc.get("device") or info.device,
        info.seed,
        info.seeds,
        info.changed_text(),
    ]


CHECKPOINTS = "checkpoints"  # a train run's checkpoint files in its folder (regtui.engine.custom.checkpoint)


def pick_checkpoint(folder: Path, run_id: int, kind: Any, which: str | None) -> Path:
    """The checkpoint file ``which`` of a run, or its only one of ``kind`` (best, else final); one-line errors."""
    from regtui.specs import ConfigError

    files = sorted((folder / CHECKPOINTS).glob("*.pt"))
    if not files:
        raise ConfigError(f"run {run_id} keeps no checkpoint (run it with checkpoint = final or best)")
    names = [f.name for f in files]
    if which is not None:
        if which not in names:
            raise ConfigError(f"--checkpoint: run {run_id} has no {which!r}; it keeps {', '.join(names)}")
        return folder / CHECKPOINTS / which
    wanted = [f for f in files if f.name.endswith(f".{'best' if kind == 'best' else 'final'}.pt")]
    if len(wanted) != 1:
        raise ConfigError(f"run {run_id} keeps several checkpoints; give --checkpoint, one of {', '.join(names)}")
    return wanted[0]
