"""The Sweep view: final losses against the swept value; shown whenever the plan sweeps."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult

from regtui.app.views.base import Showing, View
from regtui.app.widgets.chart_legend import ChartLegend
from regtui.app.widgets.sweep_chart import SweepChart
from regtui.numbers import fmt
from regtui.report import Snapshot
from regtui.variant_labels import values_label
from regtui.variant_record import sweep_summary


class SweepTab(View):
    title = "Sweep"
    kinds = ("final", "started")
    points = 2  # final values only
    best = ""  # the chosen point and the split that chose it (best_note), beside the legend

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
        self.best = best_note(summary)
        self.query_one(ChartLegend).show(chart.legend_items, self._note(chart))

    @on(SweepChart.ChoiceChanged)
    def _choice_changed(self, event: SweepChart.ChoiceChanged) -> None:
        """A chart key (v, h, t) changed what is drawn: the legend follows."""
        event.stop()
        chart = self.query_one(SweepChart)
        self.query_one(ChartLegend).show(chart.legend_items, self._note(chart))

    def _note(self, chart: SweepChart) -> str:
        return " · ".join(s for s in (chart.legend_note(), self.best) if s)

    def clear(self) -> None:
        self.query_one(SweepChart).empty("sweep · run a sweep to see it")
        self.query_one(ChartLegend).show([])


def best_note(summary: dict[str, Any] | None) -> str:
    """The chosen point and the split that chose it: "best on validation: lr=0.1 (test loss 0.31)"."""
    best = (summary or {}).get("best")
    if not best:
        return ""
    where = values_label(best["values"])
    if best.get("chosen_on") == "validation":
        return f"best on validation: {where} (val loss {fmt(best['val_loss'])}, test loss {fmt(best['test_loss'])})"
    return f"best on test (no validation split): {where} (test loss {fmt(best['test_loss'])})"
