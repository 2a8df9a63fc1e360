"""Reading a stored run back as a Collector, so every view shows it as if it had just run.

The store keeps a finished run's document, not its events (``events.jsonl`` is deleted
when the run ends), so :class:`StoredCollector` rebuilds a Collector from the document: it
feeds it the events the document implies (so data kinds, tables, summary, finals and
divergence answer as for a live run) and answers each variant's record with the document's
own record (exact: seed means, stds and fitted curves as saved), downsampled for drawing.
Two things a document does not keep: a table's key columns (a stored table lists every
row, the newest last) and the run's progress.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from regtui import registry
from regtui import scenario as sc
from regtui.aggregate import downsample
from regtui.events import (
    Curve,
    Event,
    Final,
    LayerStats,
    Metrics,
    RunFinished,
    RunSpec,
    RunStarted,
    Summary,
    TableRows,
)
from regtui.report import Collector
from regtui.specs import ConfigError
from regtui.store.saving import remember_id


class StoredCollector(Collector):
    """A Collector holding a stored run, rebuilt from its JSON document (read-only: nothing feeds it later)."""

    def __init__(self, doc: dict[str, Any], run_id: int | None = None) -> None:
        super().__init__()
        self.doc = doc
        self._records = {str(v.get("name")): v for v in doc.get("variants") or []}
        for event in document_events(doc):
            self(event)
        if run_id is not None:
            remember_id(self, run_id)

    def variant_record(self, variant: str, max_points: int = 0, compact: bool = False) -> dict[str, Any]:
        record = self._records.get(variant)
        if record is None:
            return super().variant_record(variant, max_points, compact)
        return thinned(record, max_points)


def document_events(doc: dict[str, Any]) -> list[Event]:
    """The events that rebuild a document's data in a Collector (per seed where the document keeps seeds)."""
    variants = [v for v in doc.get("variants") or [] if isinstance(v, dict)]
    runs = []
    for v in variants:
        for seed in _seeds(v, doc):
            runs.append(RunSpec(str(v.get("name")), seed, dict(v.get("params") or {})))
    events: list[Event] = [
        RunStarted(
            scenario=str(doc.get("scenario") or ""),
            experiment=str(doc.get("experiment") or ""),
            title=str(doc.get("title") or ""),
            device=str(doc.get("device") or ""),
            seed=int(doc.get("seed") or 0),
            torch_version=str(doc.get("torch_version") or ""),
            params=dict(doc.get("params") or {}),
            runs=tuple(runs),
            seeds=int(doc.get("seeds") or 1),
            sweep={k: tuple(vs) for k, vs in (doc.get("sweep") or {}).items()},
        )
    ]
    for v in variants:
        name = str(v.get("name"))
        seeds = _seeds(v, doc)
        per_seed = v.get("per_seed") or [
            {"seed": seeds[0], "series": v.get("series") or {}, "final": v.get("final") or {}}
        ]
        for one in per_seed:
            seed = int(one.get("seed", seeds[0]))
            series = one.get("series") or {}
            steps = tuple(int(s) for s in series.get("step") or ())
            if steps:
                events.append(Metrics(name, seed, steps, {k: _floats(xs) for k, xs in series.items() if k != "step"}))
            if one.get("final"):
                events.append(Final(name, seed, dict(one["final"])))
            history = one.get("layers_steps") or (v.get("layers_steps") if len(per_seed) == 1 else None)
            if isinstance(history, dict):
                events += _layer_steps(name, seed, history)
        for seed in seeds:  # with several seeds only their mean was kept; the record says so exactly
            for curve, xy in (v.get("curves") or {}).items():
                events.append(Curve(name, seed, curve, _floats(xy.get("x")), _floats(xy.get("y"))))
            for key in ("layers", "layers_training"):  # the measuring pass, the latest training step's
                layers = v.get(key)
                if key == "layers_training" and _has_history(v):
                    continue  # every training step's profile came back above
                if isinstance(layers, dict):
                    events.append(
                        LayerStats(
                            name,
                            seed,
                            _floats(layers.get("mean")),
                            _floats(layers.get("std")),
                            layers.get("first_nonfinite_layer"),
                            step=layers.get("step") if key == "layers_training" else None,
                        )
                    )
    for table, body in (doc.get("tables") or {}).items():
        rows = tuple(tuple(r) for r in body.get("rows") or ())
        events.append(TableRows(table, tuple(body.get("columns") or ()), rows))
    for key, value in (doc.get("summary") or {}).items():
        if key != "sweep":  # derived by the document from the variants, never an engine's own
            events.append(Summary(key, value))
    events.append(
        RunFinished(str(doc.get("status") or "interrupted"), float(doc.get("elapsed_s") or 0.0), doc.get("error"))
    )
    return events


def thinned(record: dict[str, Any], max_points: int) -> dict[str, Any]:
    """A document's variant record as a snapshot holds it: NaN for null in drawn lists, downsampled."""
    out = dict(record)
    for key in ("series", "series_std"):
        if isinstance(record.get(key), dict):
            out[key] = {k: _drawn(xs, max_points) for k, xs in record[key].items()}
    if isinstance(record.get("per_seed"), list):
        out["per_seed"] = [
            {**p, "series": {k: _drawn(xs, max_points) for k, xs in (p.get("series") or {}).items()}}
            for p in record["per_seed"]
        ]
    if isinstance(record.get("curves"), dict):
        out["curves"] = {
            name: {k: list(_floats(xs)) if isinstance(xs, list) else xs for k, xs in c.items()}
            for name, c in record["curves"].items()
        }
    if isinstance(record.get("layers"), dict):
        out["layers"] = {k: list(_floats(xs)) if isinstance(xs, list) else xs for k, xs in record["layers"].items()}
    for key in ("final", "final_std", "params"):
        if isinstance(record.get(key), dict):
            out[key] = dict(record[key])
    return out


def status_of(doc: dict[str, Any], collector: Collector) -> str:
    """The dashboard's status word for a stored run: done (a divergence is a result), stopped or failed."""
    status = doc.get("status")
    if status == "failed":
        return "failed"
    return "done" if status == "completed" else "stopped"


def plan_of(info: Any, folder: Any, doc: dict[str, Any]) -> sc.Plan:
    """The plan a stored run ran (ConfigError when its scenario cannot be found or no longer accepts it)."""
    from regtui.store.replay import rerun_options

    if info.experiment == registry.TRACK:
        return tracked_plan(info, folder)

    try:
        opts = rerun_options(info.plan, folder, doc.get("device"))
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"run {info.id}: its record does not say how it was run") from None
    scenario = sc.load(sc.find(opts["name"]))
    return sc.plan(
        scenario,
        sc.parse_sets(scenario.spec, opts["sets"]),
        sc.parse_sweeps(scenario.spec, opts["sweeps"]),
        opts["seed"],
        opts["seeds"],
        opts.get("sample"),
    )


def tracked_plan(info: Any, folder: Any) -> sc.Plan:
    """The plan of a run recorded by ``regtui.track()``: no scenario file, one model named after the
    run, its config as the parameters, and its script's command line as what runs it again."""
    from pathlib import Path

    config = dict(info.params or {})
    scenario = sc.Scenario(
        name=info.scenario,
        path=Path(folder) / "tracked",
        experiment=registry.TRACK,
        title=info.scenario,
        summary=f"a run of your own training loop, recorded by regtui.track() · run {info.id}",
        explanation=TRACKED_TEXT,
        params={},
        variants=(),
        command=str((info.plan or {}).get("command") or ""),
        config=config,
    )
    run = RunSpec(info.scenario, int(info.seed or 0), config)
    return sc.Plan(scenario, config, (run,), int(info.seed or 0), 1, file_variants=(info.scenario,))


TRACKED_TEXT = """
**Your own training loop**, recorded by `regtui.track()`: the scalars your loop logged (Loss),
and at every `log_every` steps each leaf module's activation mean and std (Layers), every
BatchNorm's running statistics beside its batch statistics (Running stats), weight and gradient
norms per layer and the share of dead ReLU units (Loss, by group). The Results view lists the
last values and any pitfall regtui found (`warnings`), each with the lesson that teaches it.
"""


def _seeds(variant: dict[str, Any], doc: dict[str, Any]) -> list[int]:
    seeds = [int(s) for s in variant.get("seeds") or [] if isinstance(s, (int, float))]
    return seeds or [int(doc.get("seed") or 0)]


def _float(x: Any) -> float:
    with contextlib.suppress(TypeError, ValueError):
        return float(x)
    return math.nan


def _floats(xs: Any) -> tuple[float, ...]:
    return tuple(_float(x) for x in xs or ())


def _drawn(xs: Any, max_points: int) -> Any:
    if not isinstance(xs, list):
        return xs
    values = [x if isinstance(x, (int, float)) and not isinstance(x, bool) else math.nan for x in xs]
    return downsample(values, max_points) if max_points else values


def _has_history(variant: dict[str, Any]) -> bool:
    """Whether a variant's record keeps every training step's layer profile (``layers_steps``)."""
    return bool(variant.get("layers_steps")) or any(e.get("layers_steps") for e in variant.get("per_seed") or ())


def _layer_steps(name: str, seed: int, history: dict[str, Any]) -> list[Event]:
    """A model's every training-step layer profile (``layers_steps``) as its LayerStats events."""
    names = tuple(str(n) for n in history.get("names") or ())
    out: list[Event] = []
    for step, mean, std in zip(history.get("step") or (), history.get("mean") or (), history.get("std") or ()):
        means, stds = _floats(mean), _floats(std)
        bad = next(
            (i + 1 for i, (a, b) in enumerate(zip(means, stds)) if not (math.isfinite(a) and math.isfinite(b))), None
        )
        out.append(LayerStats(name, seed, means, stds, bad, step=int(step), names=names))
    return out
