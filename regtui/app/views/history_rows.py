"""What History shows of the run store, as text: its columns, a run's results cut to whole items,
a run's status in the dashboard's words, whether the store can be listed, the filter's label."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from textual.widgets import Checkbox

from regtui.numbers import fmt
from regtui.report import Collector
from regtui.specs import ConfigError

if TYPE_CHECKING:
    from regtui.store import RunInfo

# `regtui runs list`'s columns, the results right after what names the run: at 120x40 they show
# without scrolling, at 80x24 after one →; when the run was made comes last.
COLUMNS = ("id", "scenario", "results", "changed", "status", "when")
# The results column at most this wide, so that it fits beside id (up to "▶ 9") and the longest
# bundled scenario name in the 84 columns History has at 120x40, and a two-variant headline with its
# labels stays whole (a width from the listed ids and names would fit every store: not done yet) (one long
# headline, e.g. eight variants, would widen the column past the view's edge for every row and the
# table blanks a cut column); a longer headline ends after its last whole item, with "…".
RESULTS_WIDTH = 58


def headline_cut(text: str, width: int) -> str:
    """``text``, or its first items (split at " · ") that fit in ``width`` with " …"."""
    if len(text) <= width:
        return text
    kept = ""
    for item in text.split(" · "):
        candidate = f"{kept} · {item}" if kept else item
        if len(candidate) + 2 > width:
            break
        kept = candidate
    return f"{kept} …" if kept else text[: width - 1] + "…"


# What reading a store or a run can raise besides ConfigError (a damaged file, a record of another version).
READ_ERRORS = (ConfigError, OSError, ValueError, KeyError, TypeError)


def status_text(info: RunInfo) -> str:
    """A run's status as the dashboard's status line says it: a run stopped by its user (s, or
    Ctrl-C in the CLI) reads "stopped"; one whose process was killed stays "interrupted".
    The record and the JSON keep "interrupted" for both."""
    if info.status == "interrupted":
        return "stopped"
    return info.shown_status


def row_cells(info: RunInfo, shown: int | None) -> tuple[str, ...]:
    """A run's row, in :data:`COLUMNS`' order; ``shown``: the id of the run the views show (marked ▶)."""
    from regtui.store.record import local_time

    try:
        cells = {
            "id": f"▶ {info.id}" if info.id == shown else str(info.id),
            "scenario": info.scenario,
            "results": headline_cut(info.headline(), RESULTS_WIDTH),
            "changed": info.changed_text(),
            "status": status_text(info),
            "when": local_time(info.created),
        }
    except READ_ERRORS as exc:  # a row of another version: say so, list the others
        cells = {"id": str(info.id), "scenario": str(info.scenario), "status": "damaged", "changed": one_line(exc)}
    return tuple(cells.get(c, "") for c in COLUMNS)


def store_readable(runs_dir: str | None = None) -> bool:
    """Whether the run store's folder can be listed (a folder not made yet counts: it is empty)."""
    from regtui.store.location import resolve

    try:
        root = resolve(runs_dir)
        if not root.exists():
            return True
        return root.is_dir() and os.access(root, os.R_OK | os.X_OK)
    except (OSError, RuntimeError):
        return False


def filter_label(on: bool) -> str:
    """The filter's label says its state in words: a checkbox's colours are lost under NO_COLOR."""
    return f"only this scenario: {'on' if on else 'off'} (f)"


def show_filter(box: Checkbox) -> None:
    """Label and glyph from the box's value (an empty box when off, not the same X in a dimmer colour)."""
    box.label = filter_label(box.value)
    box.BUTTON_INNER = "X" if box.value else " "
    box.refresh()


def one_line(exc: Any) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def short(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(fmt(v) for v in value) + "]"
    return fmt(value)


def shown_record(store: Any, shown: int | None, base: Collector) -> tuple[Any, dict[str, Any]]:
    """The record and document of the shown run: the store's, or the collector's own when it is not saved."""
    from regtui.store import RunInfo

    if shown is not None:
        try:
            return store.get(shown), store.document(shown)
        except READ_ERRORS:
            pass
    doc = base.document()
    info = RunInfo(
        id=shown or 0,
        created="",
        scenario=str(doc.get("scenario") or ""),
        experiment=str(doc.get("experiment") or ""),
        status=str(doc.get("status")),
        device=str(doc.get("device") or ""),
        seed=int(doc.get("seed") or 0),
        seeds=int(doc.get("seeds") or 1),
    )
    return info, doc
