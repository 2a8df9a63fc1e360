"""The Layers view: activation std after every layer of the deep net, per variant."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult

from regtui.app.views.base import View
from regtui.app.widgets.chart_legend import ChartLegend
from regtui.app.widgets.layers_chart import LayersChart
from regtui.report import Snapshot


class LayersTab(View):
    title = "Layers"
    kinds = ("layers", "started")  # "layers": the measuring pass and every training step's profile
    shows_for = ("layers",)
    points = 2  # draws no series, only the per-layer statistics

    def compose(self) -> ComposeResult:
        yield LayersChart(id="layers-chart")
        yield ChartLegend(id="layers-legend")

    def draw(self, snapshot: Snapshot) -> None:
        chart = self.query_one(LayersChart)
        chart.replot(snapshot.records)
        self.query_one(ChartLegend).show(chart.legend_items, chart.legend_note())

    @on(LayersChart.ChoiceChanged)
    def _choice_changed(self, event: LayersChart.ChoiceChanged) -> None:
        """A chart key (v, h, t) changed what is drawn: the legend follows."""
        event.stop()
        chart = self.query_one(LayersChart)
        self.query_one(ChartLegend).show(chart.legend_items, chart.legend_note())

    def clear(self) -> None:
        self.query_one(LayersChart).empty("activation std per layer · run the scenario to see it")
        self.query_one(ChartLegend).show([])
