"""The Layers view: activation std after every layer of the deep net, per variant."""

from __future__ import annotations

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
        self.query_one(ChartLegend).show(chart.legend_items)

    def clear(self) -> None:
        self.query_one(LayersChart).empty("activation std per layer · run the scenario to see it")
        self.query_one(ChartLegend).show([])
