"""The Sweep view: final losses against the swept value; shown whenever the plan sweeps."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult

from regtui.app.views.base import Showing, View
from regtui.app.widgets.chart_legend import ChartLegend
from regtui.app.widgets.sweep_chart import SweepChart
from regtui.report import Snapshot
from regtui.variant_record import sweep_summary


class SweepTab(View):
    title = "Sweep"
    kinds = ("final", "started")
    points = 2  # final values only

    def compose(self) -> ComposeResult:
        yield SweepChart(id="sweep-chart")
        yield ChartLegend(id="sweep-legend")

    def shown(self, showing: Showing) -> bool:
        return showing.sweep or super().shown(showing)

    def draw(self, snapshot: Snapshot) -> None:
        started = snapshot.started
        summary = sweep_summary(started.sweep, snapshot.records) if started and started.sweep else None
        chart = self.query_one(SweepChart)
        chart.replot(summary)
        self.query_one(ChartLegend).show(chart.legend_items, chart.legend_note())

    @on(SweepChart.ChoiceChanged)
    def _choice_changed(self, event: SweepChart.ChoiceChanged) -> None:
        """A chart key (v, h, t) changed what is drawn: the legend follows."""
        event.stop()
        chart = self.query_one(SweepChart)
        self.query_one(ChartLegend).show(chart.legend_items, chart.legend_note())

    def clear(self) -> None:
        self.query_one(SweepChart).empty("sweep · run a sweep to see it")
        self.query_one(ChartLegend).show([])
