"""The Running stats view: the run's tables (BN running statistics), updated in place."""

from __future__ import annotations

from textual.app import ComposeResult

from regtui.app.views.base import View
from regtui.app.widgets.stats_view import StatsView
from regtui.app.widgets.table_views import TableFocus
from regtui.report import TABLE_KINDS, Snapshot


class StatsTab(TableFocus, View):
    title = "Running stats"
    kinds = ("tables",)
    shows_for = ("tables",)
    points = 2  # draws no series

    def compose(self) -> ComposeResult:
        yield StatsView(id="stats-view")

    def draw(self, snapshot: Snapshot) -> None:
        tables = {name: info for name, info in snapshot.tables.items() if name not in TABLE_KINDS}  # own views
        self.query_one(StatsView).update_from(tables, snapshot.rows_since)
        self.focus_when_drawn()

    def clear(self) -> None:
        self.query_one(StatsView).reset()
