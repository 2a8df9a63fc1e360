"""Runs side by side: what differs in how they were run, and their finals per variant.

:func:`compare` returns plain data (also ``regtui runs compare --json``, and
what a dashboard's comparison view would draw); :func:`compare_text` lays it
out as columns, one per run.
"""

from __future__ import annotations

from typing import Any

from regtui.numbers import fmt, with_std
from regtui.store.record import RunInfo, local_time, shown_finals


def compare(runs: list[tuple[RunInfo, dict[str, Any]]]) -> dict[str, Any]:
    """``{"runs": [...], "differences": {key: [value per run]}, "finals": [{variant, metric, values, std}],
    "sweep_best": [summary.sweep.best or null per run]}``.

    ``differences`` holds only what is not the same in every run (scenario,
    device, seed, seeds, base parameters, swept values); a run without a key
    has ``null`` there. ``finals`` has one row per variant and scalar final, in
    the order they first appear; a run without that variant has ``null``.
    """
    settings = [_settings(info, doc) for info, doc in runs]
    keys = list(dict.fromkeys(k for s in settings for k in s))
    differences = {k: [s.get(k) for s in settings] for k in keys if len({repr(s.get(k)) for s in settings}) > 1}
    variants: dict[str, dict[str, None]] = {}
    for _, doc in runs:
        for v in doc.get("variants") or []:
            metrics = variants.setdefault(str(v["name"]), {})
            metrics.update(dict.fromkeys(k for k, x in shown_finals(doc, v).items() if _scalar(x)))
    finals = []
    for name, metrics in variants.items():
        found = [_variant(doc, name) for _, doc in runs]
        for metric in metrics:
            finals.append(
                {
                    "variant": name,
                    "metric": metric,
                    "values": [shown_finals(doc, v).get(metric) if v else None for (_, doc), v in zip(runs, found)],
                    "std": [(v.get("final_std") or {}).get(metric) if v else None for v in found],
                }
            )
    return {
        "runs": [
            {
                "id": info.id,
                "created": info.created,
                "scenario": info.scenario,
                "status": doc.get("status"),
                "changed": info.changed_text(),
            }
            for info, doc in runs
        ],
        "differences": differences,
        "finals": finals,
        "sweep_best": [_best(doc) for _, doc in runs],
    }


def compare_text(result: dict[str, Any]) -> str:
    runs = result["runs"]
    header = ["", *(f"run {r['id']}" for r in runs)]
    rows = [
        ["scenario", *(r["scenario"] for r in runs)],
        ["status", *(r["status"] for r in runs)],
        ["created", *(local_time(r["created"]) for r in runs)],
    ]
    lines = table(header, rows)
    lines += ["", "differences:"]
    if result["differences"]:
        lines += [
            "  " + line
            for line in table(
                ["", *header[1:]], [[k, *(_value(x) for x in v)] for k, v in result["differences"].items()]
            )
        ]
    else:
        lines.append("  none: the same scenario, parameters and seeds")
    if any(result.get("sweep_best") or []):
        lines += ["", "sweep best (the point chosen, the split that chose it, its figures):"]
        rows = [[label, *(_best_cell(b, key) for b in result["sweep_best"])] for label, key in _BEST_ROWS]
        lines += ["  " + line for line in table(["", *header[1:]], rows)]
    lines += ["", "finals:"]
    body = []
    for row in result["finals"]:
        cells = [with_std(v, s) for v, s in zip(row["values"], row["std"])]
        body.append([row["variant"], row["metric"], *cells])
    lines += ["  " + line for line in table(["variant", "metric", *header[1:]], body)] if body else ["  (none)"]
    return "\n".join(lines)


_BEST_ROWS = (("at", "variant"), ("chosen on", "chosen_on"), ("val_loss", "val_loss"), ("test_loss", "test_loss"))


def _best(doc: dict[str, Any]) -> dict[str, Any] | None:
    """A sweep's chosen point (``summary.sweep.best``; chosen on test where the document predates the
    validation split), or None for a run without a sweep."""
    best = ((doc.get("summary") or {}).get("sweep") or {}).get("best")
    return {"chosen_on": "test", **best} if isinstance(best, dict) else None


def _best_cell(best: dict[str, Any] | None, key: str) -> str:
    if best is None:
        return "—"
    value = best.get(key)
    return value if isinstance(value, str) else fmt(value)


def _settings(info: RunInfo, doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "scenario": doc.get("scenario") or info.scenario,
        "device": doc.get("device"),
        "seed": doc.get("seed"),
        "seeds": doc.get("seeds"),
    }
    out.update(_params_used(doc))
    out.update({f"sweep {k}": v for k, v in (doc.get("sweep") or {}).items()})
    return out


def _params_used(doc: dict[str, Any]) -> dict[str, Any]:
    """Each parameter as the run's variants used it: one value, or "per variant: a, b" where they differ.

    The document's base ``params`` keep a variant-defined key at its default
    (weight-decay's 0 for both "no weight decay" and "weight decay" = 0.01), so
    comparing those alone would hide the value a variant actually ran with.
    """
    base = dict(doc.get("params") or {})
    swept = set(doc.get("sweep") or {})
    variants = [v.get("params") or {} for v in doc.get("variants") or []]
    for key in dict.fromkeys(k for p in variants for k in p):
        if key in swept:
            continue
        values = list(dict.fromkeys(repr(p.get(key, base.get(key))) for p in variants))
        if len(values) > 1:
            used = [p.get(key, base.get(key)) for p in variants]
            base[key] = "per variant: " + ", ".join(fmt(v) if not isinstance(v, str) else v for v in used)
        elif variants:
            base[key] = variants[0].get(key, base.get(key))
    return base


def _variant(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((v for v in doc.get("variants") or [] if str(v["name"]) == name), None)


def _scalar(x: Any) -> bool:
    return x is None or isinstance(x, (bool, int, float))


def _value(x: Any) -> str:
    if isinstance(x, list):
        return "[" + ",".join(fmt(v) for v in x) + "]"
    return fmt(x)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns under a header and a rule (the list and the comparison)."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]
