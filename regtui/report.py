"""Collect the event stream into one run record and answer questions about it.

The :class:`Collector` is the single data path: the headless CLI feeds it and
prints :meth:`Collector.document`; the TUI's worker feeds the same class and
the screen draws from :meth:`Collector.snapshot`. One thread writes, any thread
reads; the lock and the record stay inside this module, so a reader gets plain
copies and never holds the writer up longer than a copy takes.
The document's text form is :mod:`regtui.text_report`.
"""

from __future__ import annotations

import io
import json
import math
import threading
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from regtui.aggregate import downsample, finite, mean_std, mean_std_lists, sanitize, strict_dumps
from regtui.events import (
    Curve,
    Event,
    Final,
    LayerStats,
    Metrics,
    Progress,
    RunFinished,
    RunStarted,
    Summary,
    TableRows,
)

SCHEMA = "regtui.run/1"
# Summary keys that are a kind of data of their own (see Collector.data_kinds): the points a
# fit is drawn over, and the sweep table the document derives (never an engine's own result).
SUMMARY_KINDS = {"data": "data", "sweep": "sweep"}

Rows = list[tuple[Any, ...]]
_NAN = array("d", [math.nan])


@dataclass
class ModelData:
    """Everything recorded for one model (variant at one seed).

    Per-step data lives in typed arrays (4 or 8 bytes a step, 8 a value), not
    lists of Python floats (~32 bytes each): a million steps stay a few tens of
    MB, and a chunk costs the same at step 10 as at step 10,000,000.
    """

    params: dict[str, Any] = field(default_factory=dict)
    steps: array[int] = field(default_factory=lambda: array("i"))
    series: dict[str, array[float]] = field(default_factory=dict)
    final: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    layers: dict[str, Any] | None = None
    layers_training: dict[str, Any] | None = None  # the latest training step's LayerStats (bounded: one)

    def add_metrics(self, event: Metrics) -> None:
        n_before, n_new = len(self.steps), len(event.step)
        try:
            self.steps.extend(event.step)
        except OverflowError:  # a step beyond 2**31: widen once
            self.steps = array("q", self.steps)
            self.steps.extend(event.step)
        for name, values in event.values.items():
            if name not in self.series:  # a metric that starts late: padded once, not per chunk
                self.series[name] = array("d", _NAN * n_before)
            self.series[name].extend(values)
        for name, column in self.series.items():
            if name not in event.values:
                column.extend(_NAN * n_new)

    @property
    def diverged(self) -> bool:
        if "diverged" in self.final:
            return bool(self.final["diverged"])
        return any(col and not finite(col[-1]) for col in self.series.values())


@dataclass
class Table:
    columns: tuple[str, ...]
    key: tuple[str, ...]
    rows: Rows = field(default_factory=list)


@dataclass(frozen=True)
class TableInfo:
    """A table's shape at snapshot time: its columns, the columns that key a shown row, its row count."""

    columns: tuple[str, ...]
    key: tuple[str, ...]
    total: int


@dataclass(frozen=True)
class Snapshot:
    """What a view draws from: plain copies, taken under the collector's lock in one go.

    ``records`` are the variants aggregated over seeds (:meth:`Collector.variant_record`),
    downsampled for drawing. Table rows are not copied (a live table would copy
    thousands per redraw): ``rows_since`` asks the collector for the new ones.
    """

    records: list[dict[str, Any]]
    tables: dict[str, TableInfo]
    summary: dict[str, Any]
    started: RunStarted | None
    progress: Progress | None
    status: str | None  # the RunFinished status; None while the run goes on
    rows_since: Callable[[str, int], tuple[Rows, int]] = field(repr=False, compare=False)


class Collector:
    """Folds events into a run record; call it with each event (it is the ``emit`` callback)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._started: RunStarted | None = None
        self._finished: RunFinished | None = None
        self._progress: Progress | None = None
        self._models: dict[tuple[str, int], ModelData] = {}
        self._variants: list[str] = []
        self._tables: dict[str, Table] = {}
        self._summary: dict[str, Any] = {}
        # Bumped per kind of change, so a view redraws only when its data changed.
        self._versions: dict[str, int] = {}
        self._kinds: set[str] = set()  # see data_kinds()

    # --- writing (the worker thread) -------------------------------------------------------

    def __call__(self, event: Event) -> None:
        with self._lock:
            kind = self._apply(event)
            self._versions[kind] = self._versions.get(kind, 0) + 1

    def _model(self, variant: str, seed: int) -> ModelData:
        key = (variant, seed)
        if key not in self._models:
            self._models[key] = ModelData()
            if variant not in self._variants:
                self._variants.append(variant)
        return self._models[key]

    def _apply(self, event: Event) -> str:
        match event:
            case RunStarted():
                self._started = event
                for run in event.runs:
                    self._model(run.variant, run.seed).params = dict(run.params)
                return "started"
            case Progress():
                self._progress = event
                return "progress"
            case Metrics():
                self._model(event.variant, event.seed).add_metrics(event)
                if event.step:
                    self._kinds.add("metrics")
                return "metrics"
            case Curve():
                self._model(event.variant, event.seed).curves[event.name] = {"x": list(event.x), "y": list(event.y)}
                self._kinds.add("curves")
                return "curves"
            case LayerStats():
                stats = {
                    "mean": list(event.mean),
                    "std": list(event.std),
                    "first_nonfinite_layer": event.first_nonfinite_layer,
                }
                model = self._model(event.variant, event.seed)
                if event.step is None:
                    model.layers = stats
                else:
                    model.layers_training = {"step": event.step, **stats}
                self._kinds.add("layers")
                return "layers"
            case Final():
                self._model(event.variant, event.seed).final.update(event.values)
                self._kinds.add("final")
                return "final"
            case TableRows():
                table = self._tables.setdefault(event.name, Table(event.columns, event.key))
                table.rows.extend(event.rows)
                self._kinds.add("tables")
                return "tables"
            case Summary():
                self._summary[event.key] = event.value
                self._kinds.add(SUMMARY_KINDS.get(event.key, "summary"))
                return "summary"
            case RunFinished():
                self._finished = event
                return "finished"
        raise TypeError(f"not an event: {event!r}")

    # --- questions (any thread) ------------------------------------------------------------

    @property
    def started(self) -> RunStarted | None:
        return self._started

    @property
    def finished(self) -> RunFinished | None:
        return self._finished

    @property
    def progress(self) -> Progress | None:
        return self._progress

    def version(self, *kinds: str) -> int:
        """A number that changes whenever an event of one of these kinds arrives.

        Kinds: started, progress, metrics, curves, layers, final, tables, summary, finished.
        """
        with self._lock:
            return sum(self._versions.get(k, 0) for k in kinds)

    def data_kinds(self) -> frozenset[str]:
        """Which kinds of data the run has produced so far: metrics (per-step series),
        curves, layers, final, tables, summary (a scenario's own results) and data
        (the points a fit is drawn over). Only grows during a run."""
        with self._lock:
            return frozenset(self._kinds)

    def diverged(self) -> bool:
        """Whether any model diverged (a result to show, not a failure)."""
        with self._lock:
            return any(m.diverged for m in self._models.values())

    def variant_names(self) -> list[str]:
        with self._lock:
            return list(self._variants)

    def rows_since(self, table: str, cursor: int) -> tuple[Rows, int]:
        """The rows of ``table`` after the first ``cursor``, and the new cursor (its row count)."""
        with self._lock:
            t = self._tables.get(table)
            if t is None:
                return [], 0
            return t.rows[cursor:], len(t.rows)

    def snapshot(self, max_points: int = 0) -> Snapshot:
        """A lock-free copy to draw from; ``max_points`` > 0 downsamples each series."""
        with self._lock:
            finished = self._finished
            return Snapshot(
                records=[self.variant_record(v, max_points) for v in self._variants],
                tables={name: TableInfo(t.columns, t.key, len(t.rows)) for name, t in self._tables.items()},
                summary=dict(self._summary),
                started=self._started,
                progress=self._progress,
                status=finished.status if finished else None,
                rows_since=self.rows_since,
            )

    def seeds_of(self, variant: str) -> list[int]:
        with self._lock:
            return [s for (v, s) in self._models if v == variant]

    def variant_record(self, variant: str, max_points: int = 0, compact: bool = False) -> dict[str, Any]:
        """One variant, aggregated over its seeds (see regtui.aggregate for the rules).

        ``max_points`` > 0 downsamples the series (for drawing); 0 keeps every point
        (as typed arrays with ``compact``, else as lists).
        """
        with self._lock:
            seeds = self.seeds_of(variant)
            models = [self._models[(variant, s)] for s in seeds]
            record: dict[str, Any] = {"name": variant, "params": dict(models[0].params), "seeds": seeds}
            if len(models) == 1:
                m = models[0]
                record["series"] = _series(m, max_points, compact)
                record["final"] = dict(m.final)
                if m.curves:
                    record["curves"] = {k: {"x": list(c["x"]), "y": list(c["y"])} for k, c in m.curves.items()}
                if m.layers is not None:
                    record["layers"] = dict(m.layers)
                if m.layers_training is not None:
                    record["layers_training"] = dict(m.layers_training)
                return record
            return _aggregate(record, seeds, models, max_points)

    def document(self, compact: bool = False) -> dict[str, Any]:
        """The JSON document (schema regtui.run/1), sanitized for strict JSON.

        ``compact``: single-seed series stay typed arrays (copies, not Python
        lists) for :func:`write_json`, which writes them without a list of
        floats per step; a long run's document then costs little more memory
        than its text.
        """
        with self._lock:
            started, finished = self._started, self._finished
            variants = [self.variant_record(v, compact=compact) for v in self._variants]
            doc: dict[str, Any] = {
                "schema": SCHEMA,
                "scenario": started.scenario if started else None,
                "experiment": started.experiment if started else None,
                "title": started.title if started else None,
                "status": finished.status if finished else "interrupted",
                "device": started.device if started else None,
                "seed": started.seed if started else None,
                "seeds": started.seeds if started else None,
                "torch_version": started.torch_version if started else None,
                "params": dict(started.params) if started else {},
                "sweep": {k: list(v) for k, v in (started.sweep or {}).items()} if started else {},
                "elapsed_s": round(finished.elapsed_s, 4) if finished else None,
                "variants": variants,
                "tables": {
                    name: {"columns": list(t.columns), "rows": [list(r) for r in t.rows]}
                    for name, t in self._tables.items()
                },
                "summary": dict(self._summary),
            }
            if started and started.sweep:
                doc["summary"]["sweep"] = sweep_summary(started.sweep, variants)
            if finished and finished.error:
                doc["error"] = finished.error
            return sanitize(doc)


def _series(m: ModelData, max_points: int, compact: bool = False) -> dict[str, Any]:
    if max_points:
        return {"step": downsample(m.steps, max_points), **{k: downsample(v, max_points) for k, v in m.series.items()}}
    if compact:
        return {"step": array(m.steps.typecode, m.steps), **{k: array("d", v) for k, v in m.series.items()}}
    return {"step": list(m.steps), **{k: list(v) for k, v in m.series.items()}}


def _aggregate(record: dict[str, Any], seeds: list[int], models: list[ModelData], max_points: int) -> dict[str, Any]:
    diverged = [s for s, m in zip(seeds, models) if m.diverged]
    used = [m for m in models if not m.diverged] or models
    per_seed = [_series(m, max_points) for m in used]
    steps = min((p["step"] for p in per_seed), key=len)
    series: dict[str, list[Any]] = {"step": list(steps)}
    series_std: dict[str, list[Any]] = {"step": list(steps)}
    for name in per_seed[0]:
        if name != "step":
            series[name], series_std[name] = mean_std_lists([p.get(name, []) for p in per_seed])
    final: dict[str, Any] = {}
    final_std: dict[str, Any] = {}
    for key in models[0].final:
        values = [m.final.get(key) for m in used]
        if isinstance(values[0], bool) or not all(v is None or isinstance(v, (int, float)) for v in values):
            final[key] = values[0] if key != "diverged" else len(diverged) == len(models)
        else:
            final[key], final_std[key] = mean_std(values)
    record.update(series=series, series_std=series_std, final=final, final_std=final_std, diverged_seeds=diverged)
    curve_names = [k for k in models[0].curves if all(k in m.curves for m in used)]
    if curve_names:
        record["curves"] = {}
        for k in curve_names:
            mean, std = mean_std_lists([m.curves[k]["y"] for m in used])
            record["curves"][k] = {"x": list(used[0].curves[k]["x"]), "y": mean, "y_std": std}
    layers = [m.layers for m in models]
    if all(layer is not None for layer in layers):
        used_layers = [m.layers for m in used if m.layers is not None]
        first = layers[0]["first_nonfinite_layer"] if layers[0] is not None else None
        record["layers"] = {**_mean_profile(used_layers), "first_nonfinite_layer": first}
    profiles = [(s, m.layers_training) for s, m in zip(seeds, models) if m.layers_training is not None]
    if profiles:
        record["layers_training"] = _latest_profile(profiles, len(models))
    record["per_seed"] = [
        {"seed": s, "series": _series(m, max_points), "final": dict(m.final)} for s, m in zip(seeds, models)
    ]
    return record


def _mean_profile(profiles: list[dict[str, Any]]) -> dict[str, Any]:
    """Several seeds' per-layer ``mean`` and ``std`` lists, averaged element-wise."""
    mean, _ = mean_std_lists([p["mean"] for p in profiles])
    std, _ = mean_std_lists([p["std"] for p in profiles])
    return {"mean": mean, "std": std}


def _latest_profile(profiles: list[tuple[int, dict[str, Any]]], n_seeds: int) -> dict[str, Any]:
    """A variant's training-step layer profile over its seeds.

    Every seed at the same step: their mean. Otherwise (seeds train one after another) the
    seed at the earliest step, the one still training, named by ``seed``.
    """
    steps = {p["step"] for _, p in profiles}
    if len(profiles) == n_seeds and len(steps) == 1:
        firsts = [p["first_nonfinite_layer"] for _, p in profiles if p["first_nonfinite_layer"] is not None]
        mean = _mean_profile([p for _, p in profiles])
        return {"step": steps.pop(), **mean, "first_nonfinite_layer": min(firsts, default=None)}
    seed, profile = min(profiles, key=lambda sp: sp[1]["step"])
    return {"seed": seed, **profile}


def sweep_summary(sweep: dict[str, Any], variants: list[dict[str, Any]]) -> dict[str, Any]:
    """Per swept point: final train/test loss and their gap; the point with the best test loss."""
    points = []
    for v in variants:
        final, std = v["final"], v.get("final_std", {})
        point = {"variant": v["name"], "values": {k: v["params"].get(k) for k in sweep}}
        for key in ("train_loss", "test_loss", "test_accuracy"):
            if key in final:
                point[key] = final[key]
                if key in std:
                    point[f"{key}_std"] = std[key]
        if finite(final.get("train_loss")) and finite(final.get("test_loss")):
            point["gap"] = final["test_loss"] - final["train_loss"]
        point["diverged_seeds"] = len(v.get("diverged_seeds", [1] if final.get("diverged") else []))
        points.append(point)
    out: dict[str, Any] = {"keys": list(sweep), "points": points}
    scored = [p for p in points if finite(p.get("test_loss"))]
    if scored:
        best = min(scored, key=lambda p: p["test_loss"])
        out["best"] = {"variant": best["variant"], "values": best["values"], "test_loss": best["test_loss"]}
    return out


def to_json(doc: dict[str, Any]) -> str:
    """Strict JSON: a NaN or Infinity token here is a bug, so json refuses it."""
    out = io.StringIO()
    write_json(doc, out)
    return out.getvalue()


_CHUNK = 8192  # values per write of a long array


def write_json(doc: Any, stream: TextIO) -> None:
    """Write ``doc`` as strict JSON, laid out as ``json.dumps(indent=2)`` lays it out.

    Typed arrays (a compact document's series) and long lists go out in chunks
    through json's C encoder, so writing never holds the whole text or a list
    of Python floats per step; NaN and infinities become null.
    """
    _write(doc, stream.write, 0)


def _write(value: Any, write: Callable[[str], Any], level: int) -> None:
    pad = "\n" + "  " * (level + 1)
    if isinstance(value, dict):
        if not value:
            write("{}")
            return
        for i, (key, item) in enumerate(value.items()):
            write(("{" if i == 0 else ",") + pad + json.dumps(str(key)) + ": ")
            _write(item, write, level + 1)
        write("\n" + "  " * level + "}")
    elif isinstance(value, array) or (isinstance(value, (list, tuple)) and _scalars(value)):
        if not value:
            write("[]")
            return
        for start in range(0, len(value), _CHUNK):
            body = strict_dumps(list(value[start : start + _CHUNK]))[1:-1].replace(", ", "," + pad)
            write(("[" if start == 0 else ",") + pad + body)
        write("\n" + "  " * level + "]")
    elif isinstance(value, (list, tuple)):
        if not value:
            write("[]")
            return
        for i, item in enumerate(value):
            write(("[" if i == 0 else ",") + pad)
            _write(item, write, level + 1)
        write("\n" + "  " * level + "]")
    else:
        write(strict_dumps(value))


def _scalars(values: list[Any] | tuple[Any, ...]) -> bool:
    """Numbers, booleans and null only (a string may hold ', ' and must not be split)."""
    return all(v is None or isinstance(v, (int, float)) for v in values)
