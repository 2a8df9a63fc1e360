"""The Histograms view: heat strips of a train run's per-layer weight, gradient and activation histograms."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType

from regtui.app.views.base import View
from regtui.app.widgets.histogram_strip import HistogramStrip
from regtui.report import Snapshot


class HistogramsTab(View):
    title = "Histograms"
    kinds = ("tables",)
    shows_for = ("histograms",)  # only a run that has the histograms table (histograms = true)
    points = 2  # draws no series

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "cycle('layer')", "Layer"),
        Binding("k", "cycle('kind')", "Kind"),
        Binding("v", "cycle('run')", "Variant"),
    ]

    def compose(self) -> ComposeResult:
        yield HistogramStrip(id="histogram-strip")

    def draw(self, snapshot: Snapshot) -> None:
        self.query_one(HistogramStrip).update_from(snapshot.tables, snapshot.rows_since)

    def clear(self) -> None:
        self.query_one(HistogramStrip).reset()

    def action_cycle(self, what: str) -> None:
        """l, k, v: the next layer, kind (weights, gradients, activations) or variant and seed."""
        getattr(self.query_one(HistogramStrip), f"cycle_{what}")()
