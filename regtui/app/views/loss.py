"""The Loss view: the per-step metrics of every variant (one group at a time: key m), and each
variant's final values below; a norms group names its layers in a legend under the chart."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult

from regtui.app import plotting
from regtui.app.views.base import View
from regtui.app.widgets.chart_legend import ChartLegend
from regtui.app.widgets.finals_line import FinalsLine
from regtui.app.widgets.loss_chart import LossChart, short_label, slots
from regtui.report import Snapshot

LAYER_MARK = "━"  # a variant in a norms group: its colour (the shapes are the layers)
FOCUS_KEY = "v"


class LossFinals(FinalsLine):
    """The FinalsLine, with the markers the chart draws: the shown group's metrics only, the
    compared run's own shapes and darker colours, and in a norms group the variant's colour
    (each layer's shape is in the legend above; a first line says so). It lists every variant,
    wrapped onto as many lines as that takes (up to ``max-height``)."""

    DEFAULT_CSS = """
    LossFinals {
        max-height: 12;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._places: list[tuple[bool, int]] = []
        self._layer_group = False
        self._no_color = False
        self._faint: list[bool] = []  # per variant: drawn as a faint thin line (another one is in focus)
        self._note = ""  # the chart's legend_note

    def show_for(self, records: list[dict[str, Any]], chart: LossChart) -> None:
        self._places = slots(records)
        self._layer_group = chart.layer_group
        self._no_color = chart.no_color()
        self._faint = [chart.faint(vi) for vi in range(len(records))]
        self._note = chart.legend_note()
        # A norms group: no metric names (the layers are in the legend above), one mark per variant.
        shown = set() if chart.layer_group else set(chart.shown_metrics)
        self.show(
            [
                {**rec, "series": {k: v for k, v in rec.get("series", {}).items() if k == "step" or k in shown}}
                for rec in records
            ]
        )

    def _update(self, text: Text) -> None:
        if self._layer_group and text.plain:
            head = Text(f"{LAYER_MARK} colour per variant, shape per layer (legend above)")
            if self._no_color:
                head.append(f" · no colour: {FOCUS_KEY} shows one variant's shapes, the others as thin lines")
            text = head + "\n" + text
        if self._note and text.plain:
            text = Text(self._note, style="dim") + "\n" + text
        super()._update(text)

    def _markers(  # type: ignore[override]
        self, text: Text, vi: int, metrics: list[str], with_names: bool, style: str | None = None
    ) -> None:
        if not with_names and vi < len(self._faint) and self._faint[vi]:  # a faint thin line, no shapes
            text.append("·" * (1 if self._layer_group else len(metrics)), style=plotting.rich_of(plotting.FAINT))
            return
        compared, index = self._places[vi] if vi < len(self._places) else (False, vi)
        color = plotting.rich_of(plotting.dim_color(index) if compared else plotting.color(index))
        if self._layer_group:
            text.append(LAYER_MARK, style=color if style is None else style)
            return
        for i, name in enumerate(metrics):
            text.append(
                plotting.marker(index, plotting.metric_rank(name), compared=compared),
                style=color if style is None else style,
            )
            if with_names:
                text.append(short_label(name) + (" " if i < len(metrics) - 1 else ""))


class LossTab(View):
    title = "Loss"
    kinds = ("metrics", "final", "started")
    shows_for = ("metrics",)

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._records: list[dict[str, Any]] = []  # the last drawn records

    def compose(self) -> ComposeResult:
        yield LossChart(id="loss-chart")
        legend = ChartLegend(id="loss-legend")
        legend.display = False  # only a norms group has one (its layers)
        yield legend
        yield LossFinals(id="finals")

    def draw(self, snapshot: Snapshot) -> None:
        self._records = snapshot.records
        self.query_one(LossChart).replot(snapshot.records)
        self._legends()

    def _legends(self) -> None:
        chart = self.query_one(LossChart)
        legend = self.query_one(ChartLegend)
        legend.display = bool(chart.legend_items)
        legend.show(chart.legend_items)
        self.query_one(LossFinals).show_for(self._records, chart)

    @on(LossChart.ChoiceChanged)
    def _choice_changed(self, event: LossChart.ChoiceChanged) -> None:
        event.stop()
        self._legends()

    def clear(self) -> None:
        self._records = []
        self.query_one(LossChart).empty("loss · run the scenario to see it")
        self.query_one(ChartLegend).display = False
        self.query_one(LossFinals).show([])
