"""Base class of the live charts: a PlotextPlot that times its own renders.

Every chart kind subclasses :class:`LiveChart`: static setup in ``on_mount``
(``setup``), and ``replot(...)`` = ``plt.clear_data()`` + plot calls +
``self.refresh()``. plotext rebuilds the whole chart in ``render``, which
Textual calls on the UI thread; that is the cost the app's adaptive redraw
timer watches (``render_seconds``), so drawing never starves training.

What is shown is the user's to choose (keys while the chart has focus, listed
in the footer): ``v`` cycles the focused variant (all, then each one: the
focused one in its colour, drawn last so nothing hides it, the others faint),
``h`` hides or shows the focused variant, ``t`` cycles train / test / both.
With more than ``DENSE`` variants (a sweep) the first is focused at the start,
so sixteen curves never arrive as one tangle. Measured points carry the
series' marker; the interpolation between them is a thin braille line.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual_plotext import PlotextPlot

from regtui.app import plotting

DENSE = 4  # more variants than this: one is focused from the start
SPLITS = ("both", "train", "test")
POINT_MARKS = 60  # series with at most this many points get a marker per point over a thin line


class LiveChart(PlotextPlot):
    """A chart redrawn from the Collector by the app's timer."""

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "cycle_variant", "Variant"),
        Binding("h", "toggle_hidden", "Hide/show"),
        Binding("t", "cycle_split", "Train/test"),
    ]

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
        # The user's choices (keys v, h, t); they outlive redraws and runs of the same scenario.
        self.variant_names: list[str] = []
        self.focus_variant: int | None = None
        self.hidden: set[str] = set()
        self.split = "both"
        self._auto_focus = True  # until the user presses v
        self.drawn_order: list[str] = []  # series keys in drawing order (the last is on top)
        self._args: tuple[Any, ...] | None = None  # the last replot's arguments, for the keys

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

    def remember(self, *args: Any) -> None:
        """Keep ``replot``'s arguments so a key can redraw at once."""
        self._args = args

    def set_variants(self, names: list[str]) -> None:
        """The variants the data has (in order); a dense set focuses its first one at the start."""
        if names != self.variant_names:
            self.variant_names = list(names)
            if self.focus_variant is not None and self.focus_variant >= len(names):
                self.focus_variant = None
            if self._auto_focus:
                self.focus_variant = 0 if len(names) > DENSE else None

    def draw_order(self, count: int) -> list[int]:
        """The variant indices to draw: hidden ones left out, the focused one last (on top)."""
        order = [
            vi for vi in range(count) if vi >= len(self.variant_names) or self.variant_names[vi] not in self.hidden
        ]
        if self.focus_variant in order:
            order.remove(self.focus_variant)
            order.append(self.focus_variant)
        return order

    def variant_color(self, vi: int) -> str:
        return plotting.color(vi) if self.focus_variant is None or vi == self.focus_variant else plotting.FAINT

    def shows_metric(self, name: str) -> bool:
        """Whether ``t``'s choice shows this metric (train_*, test_* or both)."""
        if self.split == "both":
            return True
        rank = plotting.metric_rank(name)
        return rank == (0 if self.split == "train" else 1) or (rank == 2 and name.startswith(self.split))

    def choice_note(self) -> str:
        """The user's choices, for the title."""
        parts = []
        if self.focus_variant is not None and self.focus_variant < len(self.variant_names):
            parts.append(f"focus: {self.variant_names[self.focus_variant]} (v)")
        if self.hidden:
            parts.append(f"{len(self.hidden)} hidden (h)")
        if self.split != "both":
            parts.append(f"{self.split} only (t)")
        return " · ".join(parts)

    def _replay(self) -> None:
        if self._args is not None:
            self.replot(*self._args)  # type: ignore[attr-defined]

    def action_cycle_variant(self) -> None:
        self._auto_focus = False
        n = len(self.variant_names)
        if not n:
            return
        current = -1 if self.focus_variant is None else self.focus_variant
        nxt = current + 1
        self.focus_variant = None if nxt >= n else nxt
        self._replay()

    def action_toggle_hidden(self) -> None:
        if self.focus_variant is None or self.focus_variant >= len(self.variant_names):
            self.notify("focus a variant with v first", timeout=3)
            return
        name = self.variant_names[self.focus_variant]
        self.hidden.symmetric_difference_update({name})
        self._replay()

    def action_cycle_split(self) -> None:
        self.split = SPLITS[(SPLITS.index(self.split) + 1) % len(SPLITS)]
        self._replay()

    def begin(self) -> None:
        self.plt.clear_data()
        self.series_points = {}
        self.markers_used = []
        self.legend_items = []
        self.drawn_order = []

    def set_title(self, text: str) -> None:
        self.title_text = text
        self.plt.title(text)

    def line(
        self,
        xs: list[float],
        ys: list[float],
        *,
        marker: str,
        color: str,
        label: str | None = None,
        key: str | None = None,
        scatter: bool = False,
    ) -> None:
        """Draw one series (already finite and, on a log axis, already log10)."""
        if key is not None:
            self.series_points[key] = len(ys)
        if not ys:
            return
        if key is not None:
            self.markers_used.append(marker)
            self.drawn_order.append(key)
        if label is not None:
            self.legend_items.append((marker, color, label))
        if scatter or len(ys) == 1 or marker == plotting.BAND_MARKER:
            (self.plt.scatter if scatter or len(ys) == 1 else self.plt.plot)(xs, ys, marker=marker, color=color)
        elif len(ys) <= POINT_MARKS:
            # Measured points apart from the interpolation: a thin line, the shapes on top.
            self.plt.plot(xs, ys, marker=plotting.LINE_MARKER, color=color)
            self.plt.scatter(xs, ys, marker=marker, color=color)
        else:
            self.plt.plot(xs, ys, marker=marker, color=color)

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
