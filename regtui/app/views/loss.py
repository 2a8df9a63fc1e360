"""The Loss view: every per-step metric of every variant, and each variant's final values below."""

from __future__ import annotations

from textual.app import ComposeResult

from regtui.app.views.base import View
from regtui.app.widgets.finals_line import FinalsLine
from regtui.app.widgets.loss_chart import LossChart
from regtui.report import Snapshot


class LossTab(View):
    title = "Loss"
    kinds = ("metrics", "final", "started")
    shows_for = ("metrics",)

    def compose(self) -> ComposeResult:
        yield LossChart(id="loss-chart")
        yield FinalsLine(id="finals")

    def draw(self, snapshot: Snapshot) -> None:
        self.query_one(LossChart).replot(snapshot.records)
        self.query_one(FinalsLine).show(snapshot.records)

    def clear(self) -> None:
        self.query_one(LossChart).empty("loss · run the scenario to see it")
        self.query_one(FinalsLine).show([])
