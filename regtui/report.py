"""Collect the event stream into one run record and answer questions about it.

The :class:`Collector` is the single data path: the headless CLI feeds it and
prints :meth:`Collector.document`; the TUI's worker feeds the same class and
the screen draws from :meth:`Collector.snapshot`. One thread writes, any thread
reads; the lock and the record stay inside this module, so a reader gets plain
copies and never holds the writer up longer than a copy takes.
The document's text form is :mod:`regtui.text_report`, its JSON text :mod:`regtui.json_writer`;
a variant's record is built by :mod:`regtui.variant_record`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from regtui.aggregate import sanitize
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
from regtui.variant_record import ModelData, sweep_summary, variant_record

SCHEMA = "regtui.run/1"
# Summary keys that are a kind of data of their own (see Collector.data_kinds): the points a
# fit is drawn over, and the sweep table the document derives (never an engine's own result).
SUMMARY_KINDS = {"data": "data", "sweep": "sweep"}
# Tables that are a kind of data of their own: a view draws only them (the Histograms view).
TABLE_KINDS = {"histograms": "histograms"}

Rows = list[tuple[Any, ...]]


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
                    model.add_layer_step(event.step, event.mean, event.std)
                if event.names:
                    model.layer_names = event.names
                self._kinds.add("layers")
                return "layers"
            case Final():
                self._model(event.variant, event.seed).final.update(event.values)
                self._kinds.add("final")
                return "final"
            case TableRows():
                table = self._tables.setdefault(event.name, Table(event.columns, event.key))
                table.rows.extend(event.rows)
                self._kinds.add(TABLE_KINDS.get(event.name, "tables"))  # histograms: their own view only
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
        curves, layers, final, tables, summary (a scenario's own results), data
        (the points a fit is drawn over) and histograms (the train kind's histograms table).
        Only grows during a run."""
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
        """One variant's record (see :func:`regtui.variant_record.variant_record`)."""
        with self._lock:
            seeds = self.seeds_of(variant)
            return variant_record(variant, seeds, [self._models[(variant, s)] for s in seeds], max_points, compact)

    def document(self, compact: bool = False) -> dict[str, Any]:
        """The JSON document (schema regtui.run/1), sanitized for strict JSON.

        ``compact``: single-seed series stay typed arrays (copies, not Python
        lists) for :func:`regtui.json_writer.write_json`, which writes them without a list of
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
