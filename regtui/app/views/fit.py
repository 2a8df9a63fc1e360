"""The Fit view: each variant's fitted function over the training and test points."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult

from regtui.app.views.base import View
from regtui.app.widgets.chart_legend import ChartLegend
from regtui.app.widgets.fit_chart import FitChart
from regtui.report import Snapshot


class FitTab(View):
    title = "Fit"
    kinds = ("curves", "summary", "started")
    shows_for = ("curves",)

    def compose(self) -> ComposeResult:
        yield FitChart(id="fit-chart")
        yield ChartLegend(id="fit-legend")

    def draw(self, snapshot: Snapshot) -> None:
        chart = self.query_one(FitChart)
        chart.replot(snapshot.summary.get("data"), snapshot.records)
        self.query_one(ChartLegend).show(chart.legend_items, chart.legend_note())

    @on(FitChart.ChoiceChanged)
    def _choice_changed(self, event: FitChart.ChoiceChanged) -> None:
        """A chart key (v, h, t) changed what is drawn: the legend follows."""
        event.stop()
        chart = self.query_one(FitChart)
        self.query_one(ChartLegend).show(chart.legend_items, chart.legend_note())

    def clear(self) -> None:
        self.query_one(FitChart).empty("fit · run the scenario to see it")
        self.query_one(ChartLegend).show([])
