"""Runs as TensorBoard event files: one TensorBoard run per variant, the scalars at their steps.

Written with TensorBoard's own writer and protos (no TensorFlow, no torch), so
the files are exactly what TensorBoard reads. TensorBoard is the optional
extra ``regtui[tensorboard]``; without it the export is a one-line error.

Layout: ``OUT/<run id>/<variant>/`` per variant, holding each series (the mean
over seeds, and ``<metric>_std`` with several) at its steps, each scalar final
as ``final/<metric>`` at the last step, and the variant's parameters as
hparams (with the run's scenario, id, first seed, seed count and seed list); ``OUT`` itself
holds the hparams experiment (which parameters and metrics the HParams tab shows). A null in
the document (a non-finite value, or none) is no point in TensorBoard, never a NaN. A train
run's ``histograms`` table becomes TensorBoard histograms (``weights/<layer>``, ``gradients/…``,
``activations/…``) at their steps.
"""

from __future__ import annotations

import importlib
import re
import time
from pathlib import Path
from typing import Any

from regtui.specs import ConfigError
from regtui.store.record import RunInfo

INSTALL = "pip install 'regtui[tensorboard]'"


def tensorboard_modules() -> tuple[Any, Any, Any, Any]:
    """TensorBoard's writer, event and summary protos and hparams API (imported by name: it has no types)."""
    try:
        writer = importlib.import_module("tensorboard.summary.writer.event_file_writer").EventFileWriter
        event_pb2 = importlib.import_module("tensorboard.compat.proto.event_pb2")
        summary_pb2 = importlib.import_module("tensorboard.compat.proto.summary_pb2")
        summary_v2 = importlib.import_module("tensorboard.plugins.hparams.summary_v2")
    except ImportError:
        raise ConfigError(f"--format tensorboard needs TensorBoard, which is not installed: {INSTALL}") from None
    return writer, event_pb2, summary_pb2, summary_v2


def folder_name(variant: str, taken: set[str]) -> str:
    """A variant name as a folder name (TensorBoard shows it as the run), unique among ``taken``."""
    base = re.sub(r"[^A-Za-z0-9._=,+-]+", "_", variant).strip("_.") or "variant"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def write_tensorboard(out: Path, runs: list[tuple[RunInfo, dict[str, Any]]]) -> list[Path]:
    """Write the event files into ``out``; returns each variant's folder."""
    writer_cls, event_pb2, summary_pb2, hp = tensorboard_modules()
    out.mkdir(parents=True, exist_ok=True)
    folders: list[Path] = []
    hparam_names: dict[str, None] = {}
    metric_names: dict[str, None] = {}
    now = time.time()
    for info, doc in runs:
        taken: set[str] = set()
        for variant in doc.get("variants") or []:
            folder = out / str(info.id) / folder_name(str(variant["name"]), taken)
            folder.mkdir(parents=True, exist_ok=True)
            hparams = _hparams(info, doc, variant)
            hparam_names.update(dict.fromkeys(hparams))
            writer = writer_cls(str(folder))
            try:
                writer.add_event(
                    event_pb2.Event(
                        wall_time=now, step=0, summary=hp.hparams_pb(hparams, trial_id=f"{info.id}/{folder.name}")
                    )
                )
                last = 0
                for tag, steps, values in _scalars(variant):
                    for step, value in zip(steps, values):
                        last = max(last, int(step))
                        if value is not None:  # null: no value (a non-finite one, or none at all)
                            writer.add_event(_scalar(event_pb2, summary_pb2, now, int(step), tag, value))
                for tag, step, proto in _histograms(summary_pb2, doc, variant):
                    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, histo=proto)])
                    writer.add_event(event_pb2.Event(wall_time=now, step=step, summary=summary))
                for metric, value in _finals(variant):
                    metric_names[f"final/{metric}"] = None
                    writer.add_event(_scalar(event_pb2, summary_pb2, now, last, f"final/{metric}", value))
            finally:
                writer.close()
            folders.append(folder)
    config = hp.hparams_config_pb(
        hparams=[hp.HParam(n) for n in hparam_names], metrics=[hp.Metric(m) for m in metric_names]
    )
    writer = writer_cls(str(out))
    try:
        writer.add_event(event_pb2.Event(wall_time=now, step=0, summary=config))
    finally:
        writer.close()
    return folders


def _scalar(event_pb2: Any, summary_pb2: Any, wall_time: float, step: int, tag: str, value: Any) -> Any:
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=float(value))])
    return event_pb2.Event(wall_time=wall_time, step=step, summary=summary)


def _scalars(variant: dict[str, Any]) -> list[tuple[str, list[Any], list[Any]]]:
    """(tag, steps, values) for each series, and its std across seeds where there is one."""
    out = []
    for source, suffix in (("series", ""), ("series_std", "_std")):
        series = variant.get(source) or {}
        steps = series.get("step") or []
        out += [(f"{metric}{suffix}", steps, values) for metric, values in series.items() if metric != "step"]
    return out


def _finals(variant: dict[str, Any]) -> list[tuple[str, Any]]:
    """The scalar finals that have a value (a null, e.g. ``first_nonfinite_step`` that never came, has none)."""
    return [(k, v) for k, v in (variant.get("final") or {}).items() if isinstance(v, (bool, int, float))]


def _hparams(info: RunInfo, doc: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    """The variant's parameters (bool, number or text, as hparams allow) and which run it was."""
    params = {k: v for k, v in (variant.get("params") or {}).items() if isinstance(v, (bool, int, float, str))}
    seeds = [int(s) for s in variant.get("seeds") or [doc.get("seed") or info.seed]]
    return {
        **params,
        "run": info.id,
        "scenario": str(doc.get("scenario") or info.scenario),
        "variant": str(variant["name"]),
        "seed": seeds[0],  # the first; the series are the mean over all of them
        "seeds": len(seeds),
        "seed_list": ",".join(map(str, seeds)),
    }


def _histograms(summary_pb2: Any, doc: dict[str, Any], variant: dict[str, Any]) -> list[tuple[str, int, Any]]:
    """The variant's rows of the ``histograms`` table (a train run with ``histograms``) as TensorBoard
    histograms: tag ``<of>/<layer>`` (``…/seed<seed>`` with several seeds), buckets up to each bin's edge."""
    table = (doc.get("tables") or {}).get("histograms")
    if not table:
        return []
    columns = list(table["columns"])
    at = {c: columns.index(c) for c in ("variant", "seed", "step", "layer", "of", "min", "max", "count", "sum")}
    bins = [i for i, c in enumerate(columns) if c.startswith("bin_")]
    seeds = variant.get("seeds") or []
    out = []
    for row in table.get("rows") or []:
        if row[at["variant"]] != variant["name"] or row[at["min"]] is None:
            continue  # another variant's, or a tensor holding inf/NaN (no range to bin)
        lo, hi = float(row[at["min"]]), float(row[at["max"]])
        width = (hi - lo) / len(bins)
        proto = summary_pb2.HistogramProto(
            min=lo,
            max=hi,
            num=float(row[at["count"]]),
            sum=float(row[at["sum"]]),
            sum_squares=float(row[columns.index("sum_squares")]),
            bucket_limit=[lo + width * (i + 1) for i in range(len(bins))],
            bucket=[float(row[i]) for i in bins],
        )
        tag = f"{row[at['of']]}/{row[at['layer']]}" + (f"/seed{row[at['seed']]}" if len(seeds) > 1 else "")
        out.append((tag, int(row[at["step"]]), proto))
    return out
