"""One variant's record in the run document, and the sweep summary over the records.

A :class:`ModelData` holds what one model (a variant at one seed) recorded; a
variant's record is its one model's data, or its seeds aggregated (mean and
std, diverged seeds left out). The :class:`~regtui.report.Collector` keeps the
models and calls these under its lock; they are plain functions of the data.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import Any

from regtui.aggregate import downsample, finite, mean_std, mean_std_lists
from regtui.events import Metrics
from regtui.variant_labels import values_label

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
    layers_training: dict[str, Any] | None = None  # the latest training step's LayerStats
    layer_steps: list[tuple[int, tuple[float, ...], tuple[float, ...]]] = field(default_factory=list)
    layer_names: tuple[str, ...] = ()  # every training step's (step, mean, std), for layers_steps
    # A series without a value at some rows (missing from a Metrics, or NaN there: a tracked loop's
    # test_loss, evaluated every 200 steps): the rows it has values at, so that drawing keeps its
    # points (a stride over all rows would miss them).
    sparse: dict[str, array[int]] = field(default_factory=dict)

    def add_layer_step(self, step: int, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        self.layer_steps.append((step, mean, std))

    def layers_steps(self) -> dict[str, Any] | None:
        """Every training step's layer profile: {"names", "step", "mean", "std"} (one list per step)."""
        if not self.layer_steps:
            return None
        return {
            "names": list(self.layer_names),
            "step": [s for s, _, _ in self.layer_steps],
            "mean": [list(m) for _, m, _ in self.layer_steps],
            "std": [list(d) for _, _, d in self.layer_steps],
        }

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
                if n_before:
                    self.sparse[name] = array("q")
            self.series[name].extend(values)
            gaps = any(map(math.isnan, values))  # a tracked loop's row without this key
            if gaps and name not in self.sparse:  # at every row until now
                self.sparse[name] = array("q", range(n_before))
            if name in self.sparse:
                rows = self.sparse[name]
                if gaps:
                    rows.extend(i for i, v in enumerate(values, n_before) if v == v)
                else:
                    rows.extend(range(n_before, n_before + n_new))
        for name, column in self.series.items():
            if name not in event.values:
                column.extend(_NAN * n_new)
                if name not in self.sparse:  # in every Metrics until now
                    self.sparse[name] = array("q", range(n_before))

    @property
    def diverged(self) -> bool:
        if "diverged" in self.final:
            return bool(self.final["diverged"])
        return any(col and not finite(col[-1]) for col in self.series.values())


def _series(m: ModelData, max_points: int, compact: bool = False, rows: list[int] | None = None) -> dict[str, Any]:
    """Its series: every row, or for drawing (``max_points``) the rows :func:`_drawn_rows` picks
    (``rows``: those picked for another seed of the variant, so that their means align)."""
    if max_points:
        rows = rows if rows is not None else _drawn_rows(m, max_points)
        if rows is None:
            return {
                "step": downsample(m.steps, max_points),
                **{k: downsample(v, max_points) for k, v in m.series.items()},
            }
        rows = [i for i in rows if i < len(m.steps)]
        return {"step": [m.steps[i] for i in rows], **{k: [v[i] for i in rows] for k, v in m.series.items()}}
    if compact:
        return {"step": array(m.steps.typecode, m.steps), **{k: array("d", v) for k, v in m.series.items()}}
    return {"step": list(m.steps), **{k: list(v) for k, v in m.series.items()}}


def _drawn_rows(m: ModelData, max_points: int) -> list[int] | None:
    """The rows to draw where some series is sparse: every k-th row (and the last) as for the others,
    and every k-th of each sparse series' own rows (and its last), so an evaluation every 200 steps
    keeps its points beside a loss logged every step; None where the stride alone serves (every
    series at every row, or few rows)."""
    n = len(m.steps)
    if not m.sparse or n <= max_points:
        return None
    keep = set(downsample(range(n), max_points))
    for rows in m.sparse.values():
        keep.update(downsample(rows, max_points))
    return sorted(keep)


def variant_record(
    variant: str, seeds: list[int], models: list[ModelData], max_points: int = 0, compact: bool = False
) -> dict[str, Any]:
    """One variant's record in the document: its one model's data as recorded, or its seeds
    aggregated (see :mod:`regtui.aggregate` for the rules).

    ``max_points`` > 0 downsamples the series (for drawing); 0 keeps every point
    (as typed arrays with ``compact``, else as lists).
    """
    record: dict[str, Any] = {"name": variant, "params": dict(models[0].params), "seeds": seeds}
    if len(models) > 1:
        return _aggregate(record, seeds, models, max_points)
    m = models[0]
    record["series"] = _series(m, max_points, compact)
    record["final"] = dict(m.final)
    if m.curves:
        record["curves"] = {k: {"x": list(c["x"]), "y": list(c["y"])} for k, c in m.curves.items()}
    if m.layers is not None:
        record["layers"] = dict(m.layers)
    if m.layers_training is not None:
        record["layers_training"] = dict(m.layers_training)
    if not max_points and m.layer_steps:
        record["layers_steps"] = m.layers_steps()
    return record


def _aggregate(record: dict[str, Any], seeds: list[int], models: list[ModelData], max_points: int) -> dict[str, Any]:
    diverged = [s for s, m in zip(seeds, models) if m.diverged]
    used = [m for m in models if not m.diverged] or models
    shared = _drawn_rows(used[0], max_points) if max_points else None
    per_seed = [_series(m, max_points, rows=shared) for m in used]
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
    if not max_points:
        for entry, m in zip(record["per_seed"], models):
            if m.layer_steps:
                entry["layers_steps"] = m.layers_steps()
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
    """Per swept point: final train/validation/test loss and the train–test gap; the best point.

    The best point is chosen on the validation loss where the models have a validation split
    (``chosen_on`` "validation": its test figures are then reported once, for that point), else on
    the test loss (``chosen_on`` "test": the winner is judged on the data it was chosen on).

    A point's ``group`` names what else its model runs with, where the models differ apart from the
    swept keys (the file's variants: "batchnorm=true"); "" when they differ only in the swept keys."""
    points = []
    varied = _varied(variants, set(sweep))
    for v in variants:
        final, std = v["final"], v.get("final_std", {})
        point = {"variant": v["name"], "values": {k: v["params"].get(k) for k in sweep}}
        point["group"] = values_label({k: v["params"].get(k) for k in varied})
        for key in ("train_loss", "val_loss", "test_loss", "val_accuracy", "test_accuracy"):
            if key in final:
                point[key] = final[key]
                if key in std:
                    point[f"{key}_std"] = std[key]
        if finite(final.get("train_loss")) and finite(final.get("test_loss")):
            point["gap"] = final["test_loss"] - final["train_loss"]
        point["diverged_seeds"] = len(v.get("diverged_seeds", [1] if final.get("diverged") else []))
        points.append(point)
    out: dict[str, Any] = {"keys": list(sweep), "points": points}
    on = "val_loss" if any(finite(p.get("val_loss")) for p in points) else "test_loss"
    scored = [p for p in points if finite(p.get(on))]
    if scored:
        best = min(scored, key=lambda p: p[on])
        figures = ("val_loss", "test_loss", "test_accuracy") if on == "val_loss" else ("test_loss",)
        out["best"] = {
            "variant": best["variant"],
            "values": best["values"],
            **{k: best[k] for k in figures if k in best},
            "chosen_on": "validation" if on == "val_loss" else "test",
        }
    return out


def _varied(variants: list[dict[str, Any]], swept: set[str]) -> list[str]:
    """The parameters, other than the swept ones, whose values differ between the variants."""
    keys = dict.fromkeys(k for v in variants for k in v["params"] if k not in swept)
    return [k for k in keys if len({repr(v["params"].get(k)) for v in variants}) > 1]
