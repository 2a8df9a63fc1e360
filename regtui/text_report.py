"""The run document as readable text, for a headless run without ``--json``.

Apart from :mod:`regtui.report` (which builds the document) so the collector
stays about data; numbers are written by :func:`regtui.numbers.fmt`.
"""

from __future__ import annotations

import json
import shutil
import sys
from typing import Any

from regtui.aggregate import last_logged, sanitize
from regtui.numbers import fmt, with_std
from regtui.output import is_terminal

MAX_CELL = 60  # a list or dict cell longer than this is cut ("...")


# Tables whose rows say nothing as text: the text names where to see them instead.
POINTERS = {
    "histograms": "the dashboard's Histograms view draws them; --json and "
    "`regtui runs export ID --format tensorboard` have them",
}


def text_report(doc: dict[str, Any], max_rows: int = 40, width: int | None = None) -> str:
    """A readable summary of the document (schema regtui.run/1). ``width``: the terminal's columns,
    where the finals table (a column per final: 19 for a train run) would not fit in a row per
    variant, it is turned: a row per final, a column per variant."""
    lines = [
        f"{doc['title']}  [{doc['scenario']} · {doc['experiment']}]",
        f"status {doc['status']} · device {doc['device']} · seed {doc['seed']}"
        + (f" × {doc['seeds']} seeds" if (doc.get("seeds") or 1) > 1 else "")
        + f" · {_num(doc['elapsed_s'])} s · torch {doc['torch_version']}",
    ]
    if doc.get("error"):
        lines.append(f"error: {doc['error']}")
    keys = list(dict.fromkeys(k for v in doc["variants"] for k in v["final"]))
    if keys:
        lines.append("")
        seeds = max(len(v.get("seeds") or []) for v in doc["variants"])
        if seeds > 1:
            lines.append(
                f"mean ± std over {seeds} seeds (over the seeds that did not diverge, where some did; "
                "a value alone: the same on every seed)"
            )
        table = _table(["variant", *keys], [[v["name"], *(_final(v, k) for k in keys)] for v in doc["variants"]])
        if width is not None and max(map(len, table)) > width:
            names = [v["name"] for v in doc["variants"]]
            table = _table(["final", *names], [[k, *(_final(v, k) for v in doc["variants"])] for k in keys])
        lines += table
    elif doc["status"] != "completed" and (last := {v["name"]: last_logged(v) for v in doc["variants"]}):
        lines += _last_logged(last)
    for name, table in doc["tables"].items():
        rows = table["rows"]
        if name in POINTERS:  # bins per layer and step: read as a picture, not as text
            lines += ["", f"table {name}: {len(rows)} rows; {POINTERS[name]}"]
            continue
        lines += ["", f"table {name}"]
        shown = rows if len(rows) <= max_rows else rows[-max_rows:]
        if len(shown) < len(rows):
            lines.append(f"(last {len(shown)} of {len(rows)} rows; --json has all)")
        lines += _table(table["columns"], [[_num(x) for x in r] for r in shown])
    for key, value in doc["summary"].items():
        body = _sweep_lines(value) if key == "sweep" else _summary_lines(value)
        if sum(len(line) for line in body) > 4000 or any(line.endswith("...") for line in body):
            body = ["  (long: see --json)"]
        lines += ["", f"{key}:", *body]
    return "\n".join(lines)


def terminal_columns() -> int | None:
    """The terminal's width where stdout is one; None where it is a pipe or a file (a row per
    variant however wide: what a script or ``less -S`` reads)."""
    if not is_terminal(sys.stdout):
        return None
    return shutil.get_terminal_size().columns


def fit_lines(lines: list[str], width: int | None) -> list[str]:
    """Each line cut to ``width`` columns, ending in "…" where it was cut (None: as they are)."""
    if width is None:
        return lines
    return [line if len(line) <= width else line[: max(width - 1, 0)] + "…" for line in lines]


def _final(variant: dict[str, Any], key: str) -> str:
    """A final value's cell: "mean ± std" over seeds where the document has a std (the value alone
    where every seed gave it), and how many of the seeds diverged where some did and some did not."""
    value, std = variant["final"].get(key), (variant.get("final_std") or {}).get(key)
    seeds, bad = variant.get("seeds") or [], variant.get("diverged_seeds") or []
    if key == "diverged" and bad and len(bad) < len(seeds):
        return f"{len(bad)}/{len(seeds)} seeds"
    if len(seeds) > 1 and not isinstance(value, (list, tuple, dict)):
        return with_std(value, std)
    return _num(value)


def _num(x: Any) -> str:
    """A cell: a number with 4 significant digits; a list or dict as short JSON."""
    if isinstance(x, (list, tuple)):
        return _cell([float(f"{v:.4g}") if isinstance(v, float) else v for v in x])
    if isinstance(x, dict):
        return _cell(x)
    return fmt(x)


def _cell(v: Any) -> str:
    if isinstance(v, (list, dict)):
        text = json.dumps(sanitize(v), ensure_ascii=False)
        return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."
    return _num(v)


def _sweep_lines(sweep: dict[str, Any]) -> list[str]:
    keys = sweep["keys"]
    names = ("train_loss", "val_loss", "test_loss", "gap", "test_accuracy")
    metrics = [m for m in names if any(m in p for p in sweep["points"])]
    # several variants at one grid point: each row names its model
    named = len({repr(p["values"]) for p in sweep["points"]}) < len(sweep["points"])
    rows = []
    for p in sweep["points"]:
        model = [str(p.get("variant"))] if named else []
        row = model + [_num(p["values"].get(k)) for k in keys]  # "-": a key a hand-edited point lacks
        for m in metrics:
            std = p.get(f"{m}_std")
            row.append(with_std(p.get(m), std))
        rows.append([*row, str(p["diverged_seeds"])])
    lines = ["  " + line for line in _table([*(["model"] if named else []), *keys, *metrics, "diverged"], rows)]
    if "best" in sweep:
        best = sweep["best"]
        where = ", ".join(f"{k}={_num(v)}" for k, v in best["values"].items())
        where = str(best.get("variant")) if named else where
        if best.get("chosen_on") == "validation":
            there = ", ".join(f"{k} {_num(best[k])}" for k in ("test_loss", "test_accuracy") if k in best)
            chosen = f"best val_loss {_num(best.get('val_loss'))} at {where} (chosen on validation)"
            lines.append(f"  {chosen}; there {there}")
        else:
            lines.append(f"  best test_loss {_num(best.get('test_loss'))} at {where}")
    return lines


def _summary_lines(value: Any) -> list[str]:
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        cols = list(dict.fromkeys(k for r in value for k in r))
        return _table(cols, [[_cell(r.get(c)) for c in cols] for r in value])
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            if isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
                out.append(f"  {k}:")
                out += ["  " + line for line in _summary_lines(v)]
            else:
                out.append(f"  {k}: {_cell(v)}")
        return out
    return [f"  {_cell(value)}"]


def _last_logged(last: dict[str, dict[str, Any]]) -> list[str]:
    """The variants' last logged values, for a run that stopped before its finals."""
    keys = list(dict.fromkeys(k for values in last.values() for k in values))
    if not keys:
        return []
    rows = [[name, *(_num(values.get(k)) for k in keys)] for name, values in last.items()]
    return ["", "last logged values (the run stopped before its finals):", *_table(["variant", *keys], rows)]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max([len(str(h)), *(len(str(r[i])) for r in rows)]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]
