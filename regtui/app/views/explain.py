"""The Explain view: the scenario's lesson text; always shown (a broken file says why here)."""

from __future__ import annotations

from textual.app import ComposeResult

from regtui.app.catalog import Entry
from regtui.app.views.base import Showing, View
from regtui.app.widgets.explanation import Explanation


class ExplainTab(View):
    title = "Explain"

    def compose(self) -> ComposeResult:
        yield Explanation(id="explanation")

    def shown(self, showing: Showing) -> bool:
        return True

    def show_entry(self, entry: Entry) -> None:
        scenario = entry.scenario
        title = scenario.title if scenario else entry.label
        self.query_one(Explanation).show(
            title, scenario.summary if scenario else "", scenario.explanation if scenario else "", entry.error
        )
