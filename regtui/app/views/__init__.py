"""The dashboard's views, one module each; ``VIEW_TYPES`` maps every name in ``registry.VIEWS`` to its class."""

from __future__ import annotations

from regtui.app.views.base import Showing, View
from regtui.app.views.explain import ExplainTab
from regtui.app.views.fit import FitTab
from regtui.app.views.histograms import HistogramsTab
from regtui.app.views.history import HistoryTab
from regtui.app.views.layers import LayersTab
from regtui.app.views.loss import LossTab
from regtui.app.views.params import ParamsTab
from regtui.app.views.results import ResultsTab
from regtui.app.views.stats import StatsTab
from regtui.app.views.sweep import SweepTab
from regtui.app.views.worked import WorkedTab

VIEW_TYPES: dict[str, type[View]] = {
    "params": ParamsTab,
    "loss": LossTab,
    "fit": FitTab,
    "layers": LayersTab,
    "stats": StatsTab,
    "histograms": HistogramsTab,
    "results": ResultsTab,
    "worked": WorkedTab,
    "sweep": SweepTab,
    "explain": ExplainTab,
    "history": HistoryTab,
}

__all__ = ["VIEW_TYPES", "Showing", "View"]
