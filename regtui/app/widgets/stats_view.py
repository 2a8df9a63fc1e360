"""The Collector's tables (BN running statistics), one LiveTable each, updated in place.

A table's ``key`` columns identify a displayed row: only the latest row per key
is shown and its changed cells are highlighted. Tables without a key show every
row (the newest last), up to ``MAX_ROWS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from regtui.app.widgets.live_table import LiveTable
from regtui.app.widgets.table_views import Refills
from regtui.report import Rows, TableInfo

MAX_ROWS = 2000


class StatsView(Refills, VerticalScroll, can_focus=False):
    """Follows the collector's tables; call :meth:`update_from` from the redraw timer."""

    DEFAULT_CSS = """
    StatsView > .table-caption {
        text-style: bold;
        padding: 0 1;
    }
    StatsView > .hint {
        color: $text-muted;
        padding: 1 2;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cursors: dict[str, int] = {}  # table name -> rows already shown
        self.tables: dict[str, LiveTable] = {}
        self.captions: dict[str, Static] = {}

    def compose(self) -> ComposeResult:
        yield Static("Running statistics appear here while a BatchNorm scenario runs.", classes="hint")

    def reset(self) -> None:
        if not self.tables and not self.cursors:
            return  # already empty: no remount
        self.cursors.clear()
        self.tables.clear()
        self.captions.clear()
        self.empty()
        self.mount(Static("Running statistics appear here while a BatchNorm scenario runs.", classes="hint"))

    def update_from(self, tables: dict[str, TableInfo], rows_since: Callable[[str, int], tuple[Rows, int]]) -> None:
        """Show the rows added since the last call (``rows_since`` is ``Collector.rows_since``)."""
        if self.defer(self.update_from, tables, rows_since):  # the previous run's tables are still going
            return
        for name, info in tables.items():
            columns, key = info.columns, info.key
            new_rows, total = rows_since(name, self.cursors.get(name, 0))
            table = self.tables.get(name)
            if table is None:
                for hint in self.query(".hint"):
                    hint.remove()
                caption = Static(f"{name}", classes="table-caption")
                table = LiveTable(id=f"table-{_ident(name)}", classes="live-table")
                self.tables[name] = table
                self.captions[name] = caption
                self.mount(caption)
                self.mount(table)
                table.set_columns(columns)  # the JSON document's order
            self.cursors[name] = total
            if not new_rows:
                continue
            index = [columns.index(k) for k in key if k in columns]
            latest: dict[str, tuple[Any, ...]] = {}
            if index:
                for row in new_rows:
                    latest["|".join(str(row[i]) for i in index)] = row
            else:
                start = total - len(new_rows)
                for offset, row in enumerate(new_rows[-MAX_ROWS:]):
                    latest[str(start + max(0, len(new_rows) - MAX_ROWS) + offset)] = row
            order = [columns.index(c) for c in table.columns_shown]
            table.upsert((k, [row[i] for i in order]) for k, row in latest.items())
            shown = table.row_count
            keyed = f" · latest row per {', '.join(key)}" if index else ""
            self.captions[name].update(
                f"{name} · {shown} rows shown of {total}{keyed} · highlighted: changed last"
                " · ←/→ scroll · run = running, b = batch"
            )


def _ident(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
