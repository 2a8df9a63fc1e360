"""Base class of the live charts: a PlotextPlot that times its own renders.

Every chart kind subclasses :class:`LiveChart`: static setup in ``on_mount``
(``setup``), and ``replot(...)`` = ``plt.clear_data()`` + plot calls +
``self.refresh()``. plotext rebuilds the whole chart in ``render``, which
Textual calls on the UI thread; that is the cost the app's adaptive redraw
timer watches (``render_seconds``), so drawing never starves training.
"""

from __future__ import annotations

import time
from typing import Any

from textual_plotext import PlotextPlot

from regtui.app import plotting


class LiveChart(PlotextPlot):
    """A chart redrawn from the Collector by the app's timer."""

    DEFAULT_CSS = """
    LiveChart {
        height: 1fr;
        min-height: 8;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.render_seconds = 0.0  # total time spent building the chart
        self.renders = 0
        # What the last replot drew (tests read these): label -> points, markers, title.
        self.series_points: dict[str, int] = {}
        self.markers_used: list[str] = []
        self.title_text = ""
        # (marker, plotext colour, label) of the labelled series, drawn by a ChartLegend
        # outside the plot so the legend never hides the curves.
        self.legend_items: list[tuple[str, str, str]] = []

    def on_mount(self) -> None:
        # PlotextPlot.on_mount (theme subscription) runs too: Textual dispatches along the MRO.
        self.setup()

    def setup(self) -> None:
        """Static setup: title, axis labels. Called once."""

    def render(self) -> Any:
        start = time.perf_counter()
        result = super().render()
        self.render_seconds += time.perf_counter() - start
        self.renders += 1
        return result

    # --- helpers for subclasses ----------------------------------------------------------

    def begin(self) -> None:
        self.plt.clear_data()
        self.series_points = {}
        self.markers_used = []
        self.legend_items = []

    def set_title(self, text: str) -> None:
        self.title_text = text
        self.plt.title(text)

    def line(
        self, xs: list[float], ys: list[float], *, marker: str, color: str, label: str | None = None,
        key: str | None = None, scatter: bool = False,
    ) -> None:
        """Draw one series (already finite and, on a log axis, already log10)."""
        if key is not None:
            self.series_points[key] = len(ys)
        if not ys:
            return
        if key is not None:
            self.markers_used.append(marker)
        if label is not None:
            self.legend_items.append((marker, color, label))
        draw = self.plt.scatter if scatter or len(ys) == 1 else self.plt.plot
        draw(xs, ys, marker=marker, color=color)

    def empty(self, message: str) -> None:
        """No data yet: an empty frame with a hint as its title."""
        if message == self.title_text and not self.series_points and self.renders:
            return  # already showing exactly this
        self.begin()
        self.set_title(message)
        self.plt.xticks([], [])
        self.plt.yticks([], [])
        self.refresh()

    def axes(self, xs: list[float], ys: list[float], *, xlog: bool = False, ylog: bool = False) -> None:
        """Ticks for both axes from every plotted value; on a log axis values are log10."""
        xt, xl = plotting.log_ticks(xs) if xlog else plotting.linear_ticks(xs)
        yt, yl = plotting.log_ticks(ys) if ylog else plotting.linear_ticks(ys)
        self.plt.xticks(xt, xl)
        self.plt.yticks(yt, yl)
