"""Collect the event stream into one run record, and write it as the JSON document.

Its text form is :mod:`regtui.text_report`.

The :class:`Collector` is the single data path: the headless CLI feeds it and
prints :meth:`Collector.document`; the TUI's worker feeds the same class and
the screen draws from it. It is thread-safe (one writer, readers under a lock).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from regtui.aggregate import downsample, finite, mean_std, mean_std_lists, sanitize
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


@dataclass
class ModelData:
    """Everything recorded for one model (variant at one seed)."""

    params: dict[str, Any] = field(default_factory=dict)
    steps: list[int] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)
    final: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    layers: dict[str, Any] | None = None

    def add_metrics(self, event: Metrics) -> None:
        n_before, n_new = len(self.steps), len(event.step)
        self.steps.extend(event.step)
        for name in event.values.keys() | self.series.keys():
            column = self.series.setdefault(name, [float("nan")] * n_before)
            column.extend(event.values.get(name, (float("nan"),) * n_new))

    @property
    def diverged(self) -> bool:
        if "diverged" in self.final:
            return bool(self.final["diverged"])
        return any(col and not finite(col[-1]) for col in self.series.values())


@dataclass
class Table:
    columns: tuple[str, ...]
    key: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


class Collector:
    """Folds events into a run record; call it with each event (it is the ``emit`` callback)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.started: RunStarted | None = None
        self.finished: RunFinished | None = None
        self.progress: Progress | None = None
        self.models: dict[tuple[str, int], ModelData] = {}
        self.variants: list[str] = []
        self.tables: dict[str, Table] = {}
        self.summary: dict[str, Any] = {}
        # Bumped per kind of change, so a view redraws only when its data changed.
        self.versions: dict[str, int] = {}

    # --- writing (the worker thread) -------------------------------------------------------

    def __call__(self, event: Event) -> None:
        with self.lock:
            kind = self._apply(event)
            self.versions[kind] = self.versions.get(kind, 0) + 1

    def _model(self, variant: str, seed: int) -> ModelData:
        key = (variant, seed)
        if key not in self.models:
            self.models[key] = ModelData()
            if variant not in self.variants:
                self.variants.append(variant)
        return self.models[key]

    def _apply(self, event: Event) -> str:
        match event:
            case RunStarted():
                self.started = event
                for run in event.runs:
                    self._model(run.variant, run.seed).params = dict(run.params)
                return "started"
            case Progress():
                self.progress = event
                return "progress"
            case Metrics():
                self._model(event.variant, event.seed).add_metrics(event)
                return "metrics"
            case Curve():
                self._model(event.variant, event.seed).curves[event.name] = {
                    "x": list(event.x), "y": list(event.y)}
                return "curves"
            case LayerStats():
                self._model(event.variant, event.seed).layers = {
                    "mean": list(event.mean), "std": list(event.std),
                    "first_nonfinite_layer": event.first_nonfinite_layer}
                return "layers"
            case Final():
                self._model(event.variant, event.seed).final.update(event.values)
                return "final"
            case TableRows():
                table = self.tables.setdefault(event.name, Table(event.columns, event.key))
                table.rows.extend(event.rows)
                return "tables"
            case Summary():
                self.summary[event.key] = event.value
                return "summary"
            case RunFinished():
                self.finished = event
                return "finished"
        raise TypeError(f"not an event: {event!r}")

    # --- reading ---------------------------------------------------------------------------

    def version(self, *kinds: str) -> int:
        with self.lock:
            return sum(self.versions.get(k, 0) for k in kinds)

    def seeds_of(self, variant: str) -> list[int]:
        with self.lock:
            return [s for (v, s) in self.models if v == variant]

    def variant_record(self, variant: str, max_points: int = 0) -> dict[str, Any]:
        """One variant, aggregated over its seeds (see regtui.aggregate for the rules).

        ``max_points`` > 0 downsamples the series (for drawing); 0 keeps every point.
        """
        with self.lock:
            seeds = self.seeds_of(variant)
            models = [self.models[(variant, s)] for s in seeds]
            record: dict[str, Any] = {"name": variant, "params": dict(models[0].params), "seeds": seeds}
            if len(models) == 1:
                m = models[0]
                record["series"] = _series(m, max_points)
                record["final"] = dict(m.final)
                if m.curves:
                    record["curves"] = {k: {"x": list(c["x"]), "y": list(c["y"])} for k, c in m.curves.items()}
                if m.layers is not None:
                    record["layers"] = dict(m.layers)
                return record
            return _aggregate(record, seeds, models, max_points)

    def document(self) -> dict[str, Any]:
        """The JSON document (schema regtui.run/1), sanitized for strict JSON."""
        with self.lock:
            started, finished = self.started, self.finished
            variants = [self.variant_record(v) for v in self.variants]
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
                    for name, t in self.tables.items()
                },
                "summary": dict(self.summary),
            }
            if started and started.sweep:
                doc["summary"]["sweep"] = sweep_summary(started.sweep, variants)
            if finished and finished.error:
                doc["error"] = finished.error
            return sanitize(doc)


def _series(m: ModelData, max_points: int) -> dict[str, list[Any]]:
    if max_points:
        return {"step": downsample(m.steps, max_points),
                **{k: downsample(v, max_points) for k, v in m.series.items()}}
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
    record.update(series=series, series_std=series_std, final=final, final_std=final_std,
                  diverged_seeds=diverged)
    curve_names = [k for k in models[0].curves if all(k in m.curves for m in used)]
    if curve_names:
        record["curves"] = {}
        for k in curve_names:
            mean, std = mean_std_lists([m.curves[k]["y"] for m in used])
            record["curves"][k] = {"x": list(used[0].curves[k]["x"]), "y": mean, "y_std": std}
    if all(m.layers is not None for m in models):
        mean, _ = mean_std_lists([m.layers["std"] for m in used])
        mmean, _ = mean_std_lists([m.layers["mean"] for m in used])
        record["layers"] = {"mean": mmean, "std": mean,
                            "first_nonfinite_layer": models[0].layers["first_nonfinite_layer"]}
    record["per_seed"] = [
        {"seed": s, "series": _series(m, max_points), "final": dict(m.final)}
        for s, m in zip(seeds, models)
    ]
    return record


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
    return json.dumps(sanitize(doc), indent=2, allow_nan=False)
