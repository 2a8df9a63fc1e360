"""Scenario-specific results (the Collector's ``summary``) as small tables, and the run's finals.

Every run has a finals table, first: one row per variant, one column per scalar final
metric (``variants[*].final``, "± std" over seeds where ``final_std`` has it, and
whether it diverged), in the JSON's order, with a ``progress`` column while variants are
unfinished; the scenario's own tables follow it.

The summary tables are generic on purpose: a list of dicts becomes a table with one row per dict, a
dict becomes field/value rows (nested dicts flattened one level). Rows that
name a variant's normalization (the norms comparison) are joined with that
variant's final values, e.g. its test accuracy.
"""

from __future__ import annotations

import math
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from regtui.app import plotting
from regtui.app.widgets.live_table import DIGITS, LiveTable
from regtui.app.widgets.table_views import Refills
from regtui.numbers import fmt, with_std

SKIP = ("data", "sweep", "worked")  # drawn by the fit and sweep charts, and the Worked numbers view
HINT = "Results of the scenario's demonstrations appear here after a run."
FINALS_CAPTION = "final values (one row per variant)"


class ResultsView(Refills, VerticalScroll, can_focus=False):
    DEFAULT_CSS = """
    ResultsView > .table-caption {
        text-style: bold;
        padding: 0 1;
    }
    ResultsView > .hint {
        color: $text-muted;
        padding: 1 2;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tables: dict[str, LiveTable] = {}
        self.finals: LiveTable | None = None  # the run's finals, after the summary's tables

    def compose(self) -> ComposeResult:
        yield Static(HINT, classes="hint")

    def reset(self) -> None:
        if not self.tables and self.finals is None:
            return  # already empty: no remount
        self.tables.clear()
        self.finals = None
        self.empty()
        self.mount(Static(HINT, classes="hint"))

    def update_from(
        self, summary: dict[str, Any], records: list[dict[str, Any]], key_finals: tuple[str, ...] = ()
    ) -> None:
        """Show the run's finals (``key_finals`` first) and its summary's tables."""
        if self.defer(self.update_from, summary, records, key_finals):  # the previous run's tables are still going
            return
        for key, value in summary.items():
            if key in SKIP:
                continue
            columns, rows = summary_table(value, records)
            if not columns:
                continue
            table = self.tables.get(key)
            if table is None:
                table = LiveTable(id=f"result-{_ident(key)}", classes="live-table")
                self.tables[key] = table
                self._add(Static(key, classes="table-caption"), table)
            table.replace_all(columns, rows)
        columns, rows = finals_table(records, key_finals)
        if len(columns) > 1:
            if self.finals is None:
                self.finals = LiveTable(id="results-finals", classes="live-table")
                self._add(Static(FINALS_CAPTION, classes="table-caption finals-caption"), self.finals, first=True)
            self.finals.replace_all(columns, rows)

    def _add(self, caption: Static, table: LiveTable, first: bool = False) -> None:
        """Mount a caption and its table: the finals first (one row per variant, with its progress
        during a run, in view even at 80x24), the scenario's own tables after them."""
        for hint in self.query(".hint"):
            hint.remove()
        captions = self.query(".table-caption")
        anchor = captions.first() if first and captions else None
        if anchor is not None:
            self.mount(caption, table, before=anchor)
        else:
            self.mount(caption, table)


def finals_table(
    records: list[dict[str, Any]], key_finals: tuple[str, ...] = ()
) -> tuple[list[str], list[tuple[str, list[Any]]]]:
    """The variants' scalar finals: columns (``variant`` first, then ``key_finals`` — what the
    lesson cites — then the JSON's order) and keyed rows.

    A value with a spread over seeds reads "mean ± std" (the std to 2 significant digits); a list
    or text final is left to the scenario's own tables. ``diverged`` is a column even when the
    engine's finals lack it.
    """
    finals = [rec.get("final") or {} for rec in records]
    keys = [
        k
        for k in dict.fromkeys(k for f in finals for k in f)
        if all(f.get(k) is None or isinstance(f.get(k), (bool, int, float)) for f in finals)
    ]
    keys = [k for k in key_finals if k in keys] + [k for k in keys if k not in key_finals]
    if "diverged" not in keys and any(finals):
        keys.append("diverged")
    live = not all(finals)  # a variant has not finished: say where each one is
    rows = []
    for rec, final in zip(records, finals):
        std = rec.get("final_std") or {}
        cells: list[Any] = [str(rec.get("name", ""))]
        if live:
            cells.append(_progress(rec, final))
        for k in keys:
            if k == "diverged":
                cells.append(_diverged(rec, final))
            elif std.get(k):  # a spread over seeds (none, or 0: a count, the same on every seed)
                cells.append(with_std(final.get(k), std[k]))
            else:
                cells.append(final.get(k))
        rows.append((str(rec.get("name", "")), cells))
    return ["variant", *(["progress"] if live else []), *keys], rows


def _progress(rec: dict[str, Any], final: dict[str, Any]) -> str:
    """A variant's state while the run goes on: done, waiting, or its latest step and loss."""
    if final:
        return "done"
    series = rec.get("series") or {}
    steps = series.get("step") or []
    if not len(steps):
        return "waiting"
    names = [n for n in plotting.order_metrics(k for k in series if k != "step") if len(series[n])]
    if not names:
        return f"step {steps[-1]}"
    return f"step {steps[-1]} · {names[0]} {fmt(series[names[0]][-1], DIGITS)}"


def _diverged(rec: dict[str, Any], final: dict[str, Any]) -> Any:
    """yes/no, or "2/3 seeds" when some of a variant's seeds diverged and some did not; None ("—")
    while a variant has no final yet and no seed of it diverged: it is not known to be "no"."""
    seeds, bad = rec.get("seeds") or [], rec.get("diverged_seeds") or []
    if bad and len(bad) < len(seeds):
        return f"{len(bad)}/{len(seeds)} seeds"
    if not final and not bad:
        return None
    if "diverged" in final:
        return bool(final["diverged"])
    return bool(bad) or any(isinstance(v, float) and not math.isfinite(v) for v in final.values())


NAME_KEYS = ("norm", "name", "layer", "kind", "variant")
JOIN_KEYS = ("test_accuracy", "test_loss", "train_loss")  # the first one the variants have is shown


def summary_table(value: Any, records: list[dict[str, Any]]) -> tuple[list[str], list[tuple[str, list[Any]]]]:
    """Columns and keyed rows for one summary entry."""
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        columns = list(dict.fromkeys(k for r in value for k in r))
        finals = [rec.get("final", {}) for rec in records]
        join_key = next((k for k in JOIN_KEYS if any(k in f for f in finals)), None)
        if any("seed" in r for r in value):
            join_key = None  # rows per seed (e.g. stacking): a variant's mean over seeds would read as each seed's
        matches = [_matches(r, records) for r in value] if join_key is not None else [[] for _ in value]
        extra: list[str] = []
        cells: list[dict[str, Any]] = []
        for found in matches:
            row_cells: dict[str, Any] = {}
            for suffix, rec in found:
                column = f"{join_key} ({suffix})" if suffix else str(join_key)
                row_cells[column] = rec.get("final", {}).get(join_key)
                if column not in extra:
                    extra.append(column)
            cells.append(row_cells)
        if join_key is None:
            extra = []
        # The joined results come right after the row's name, where a narrow screen still shows them.
        head, rest = columns[:1], columns[1:]
        rows = [
            (str(i), [r.get(c) for c in head] + [cells[i].get(c) for c in extra] + [r.get(c) for c in rest])
            for i, r in enumerate(value)
        ]
        return head + extra + rest, rows
    if isinstance(value, dict):
        rows = []
        for k, v in value.items():
            if isinstance(v, dict):
                rows += [(f"{k}.{k2}", [f"{k}.{k2}", v2]) for k2, v2 in v.items()]
            else:
                rows.append((str(k), [str(k), v]))
        return ["field", "value"], rows
    return ["value"], [("0", [value])]


def _row_name(row: dict[str, Any]) -> str:
    for key in NAME_KEYS:
        if isinstance(row.get(key), str):
            return row[key].lower()
    return next((v.lower() for v in row.values() if isinstance(v, str)), "")


def _matches(row: dict[str, Any], records: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The variants this row describes (the norms comparison: row "BatchNorm2d" and the
    variants whose ``norm`` parameter is "batch"), each with what tells them apart."""
    name = _row_name(row)
    if not name:
        return []
    found = []
    for rec in records:
        norm = str(rec.get("params", {}).get("norm", "")).lower()
        label = str(rec.get("name", ""))
        parts = [p for p in label.split(" · ") if p]
        hit = (len(norm) >= 3 and name.startswith(norm)) or any(
            len(p) >= 3 and name.startswith(p.lower()) for p in parts
        )
        if hit:
            rest = [p for p in parts if not name.startswith(p.lower())]
            found.append((" · ".join(rest), rec))
    if len(found) > 1 and len({s for s, _ in found}) < len(found):
        found = [(str(rec.get("name", "")), rec) for _, rec in found]
    return found


def _ident(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
