"""The Worked numbers view: the run's ``summary.worked``, each formula's predicted value beside the measured one."""

from __future__ import annotations

from textual.app import ComposeResult

from regtui.app.views.base import View
from regtui.app.widgets.table_views import TableFocus
from regtui.app.widgets.worked_view import WorkedView
from regtui.report import Snapshot


class WorkedTab(TableFocus, View):
    title = "Worked numbers"
    kinds = ("summary",)
    points = 2  # draws the summary only

    def compose(self) -> ComposeResult:
        yield WorkedView(id="worked-view")

    def draw(self, snapshot: Snapshot) -> None:
        self.query_one(WorkedView).show(snapshot.summary.get("worked"))
        self.focus_when_drawn()

    def clear(self) -> None:
        self.query_one(WorkedView).reset()
