"""The Results view: the scenario's own results (the run's summary) as small tables."""

from __future__ import annotations

from textual.app import ComposeResult

from regtui import registry
from regtui.app.views.base import View
from regtui.app.widgets.results_view import ResultsView
from regtui.app.widgets.table_views import TableFocus
from regtui.report import Snapshot


class ResultsTab(TableFocus, View):
    title = "Results"
    kinds = ("summary", "final", "metrics")  # metrics: the finals table says where each variant is
    shows_for = ("summary",)
    points = 2  # joins final values only

    def compose(self) -> ComposeResult:
        yield ResultsView(id="results-view")

    def draw(self, snapshot: Snapshot) -> None:
        started = snapshot.started
        kind = registry.find(started.experiment) if started is not None else None
        self.query_one(ResultsView).update_from(snapshot.summary, snapshot.records, kind.key_finals if kind else ())
        self.focus_when_drawn()

    def clear(self) -> None:
        self.query_one(ResultsView).reset()
