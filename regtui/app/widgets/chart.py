"""Base class of the live charts: a PlotextPlot that times its own renders.

Every chart kind subclasses :class:`LiveChart`: static setup in ``on_mount``
(``setup``), and ``replot(...)`` = ``begin()`` + ``line(...)`` per series +
``finish(title, ...)``. ``replot`` only records the series; ``render`` (which
Textual calls on the UI thread, once per refresh) lays them out for the
widget's size and has plotext build the chart. A render with the same series,
size and theme as the last one returns the last frame, so a refresh that
changed nothing costs nothing (``render_seconds`` counts the real builds).

No series hides another (a new user must see every series a lesson is about): see
:mod:`.chart_frame`, which draws the series with plotext; two identical curves show as ●■●■…
and both stay visible.

What is shown is the user's to choose (keys listed in the footer; they act on the
visible view's chart wherever the focus is, except in a text field: the screen
forwards them, see ``DashboardScreen.action_chart``): ``v`` cycles the focused variant (all, then each one: the
focused one in its colour and shapes, drawn last so nothing hides it, the others faint thin
lines without markers), ``h`` hides or shows the focused variant, ``t`` cycles train / test / both.
With more than ``DENSE`` variants (a sweep: 8 variants are up to 21 series) the first is focused
at the start, so the chart opens with at most one variant's two or three series in shapes, the
rest as grey context; the legend says so and names the keys (``legend_note``), and ``v`` reaches
every variant in turn, then all of them in shapes. Measured points carry the series' marker; the
interpolation between them is a thin braille line.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual_plotext import PlotextPlot

from regtui.app import plotting
from regtui.app.widgets.chart_frame import Series, draw, frame_text

DENSE = 4  # more variants than this: one is focused from the start
SPLITS = ("both", "train", "test")
POINT_MARKS = 60  # series with at most this many points get a marker per point over a thin line


class LiveChart(PlotextPlot):
    """A chart redrawn from the Collector by the app's timer."""

    class ChoiceChanged(Message):
        """The user changed what the chart shows (v, h, t, m): its view redraws the legend."""

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
        self.legend_items: list[tuple[str, str | int, str]] = []
        self._legend_ranks: list[int] = []  # per legend item: its variant's index (the legend keeps that order)
        # The user's choices (keys v, h, t); they outlive redraws and runs of the same scenario.
        self.variant_names: list[str] = []
        self.focus_variant: int | None = None
        self.hidden: set[str] = set()
        self.split = "both"
        self._auto_focus = True  # until the user presses v
        self.drawn_order: list[str] = []  # series keys in drawing order (the last is on top)
        self._args: tuple[Any, ...] | None = None  # the last replot's arguments, for the keys
        # What ``finish`` recorded for ``render`` to lay out: series, vertical lines, axes.
        self._series: list[Series] = []
        self._vlines: list[tuple[float, str]] = []
        self._axes: dict[str, Any] = {}
        self._generation = 0  # bumped by every finish/empty: the data changed
        self._built_key: tuple[Any, ...] | None = None  # (generation, size, theme) of the last build
        self._built: Any = None  # the last frame
        # Per series key: how many canvas cells show its marker (tests read it).
        self.visible_marks: dict[str, int] = {}
        self.canvas: tuple[int, int] = (0, 0)  # the canvas (inside the frame) of the last layout
        self._xlabel = ""

    def on_mount(self) -> None:
        # PlotextPlot.on_mount (theme subscription) runs too: Textual dispatches along the MRO.
        self.setup()

    def setup(self) -> None:
        """Static setup: title, axis labels. Called once."""

    def render(self) -> Any:
        key = (self._generation, self.size.width, self.size.height, self.app.theme)
        if key == self._built_key and self._built is not None:
            return self._built
        start = time.perf_counter()
        self.layout_series()
        result = self.build_text()
        self.render_seconds += time.perf_counter() - start
        self.renders += 1
        self._built_key, self._built = key, result
        return result

    def build_text(self) -> Text:
        """The chart's frame for the widget's size and theme, as a Rich Text (see :func:`.chart_frame.frame_text`)."""
        theme = self._get_plotext_theme_name(self.app.theme)  # textual-plotext's name of the app theme's colours
        return frame_text(self.plt, self.size.width, self.size.height, theme)

    # --- helpers for subclasses ----------------------------------------------------------

    def remember(self, *args: Any) -> None:
        """Keep ``replot``'s arguments so a key can redraw at once."""
        self._args = args

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """v, h and t only once it draws variants: an empty chart has none to cycle, hide or split."""
        if action in ("cycle_variant", "toggle_hidden", "cycle_split"):
            return bool(self.variant_names)
        return True

    def reset_choices(self) -> None:
        """Back to the defaults of v, h and t: another scenario was picked, with other variants."""
        self.focus_variant, self.split, self._auto_focus = None, "both", True
        self.hidden.clear()

    def set_variants(self, names: list[str]) -> None:
        """The variants the data has (in order); a dense set focuses its first one at the start."""
        if names != self.variant_names:
            keys_change = bool(names) != bool(self.variant_names)
            self.variant_names = list(names)
            if keys_change:
                self.refresh_bindings()  # the footer gains (or loses) the chart keys
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

    def no_color(self) -> bool:
        """The terminal shows no colour (``NO_COLOR``): colour alone tells nothing apart."""
        return bool(getattr(self.app, "no_color", False))

    def faint(self, vi: int) -> bool:
        """Another variant than the focused one: a faint thin line, no markers."""
        return self.focus_variant is not None and vi != self.focus_variant

    def variant_color(self, vi: int) -> str:
        return plotting.FAINT if self.faint(vi) else plotting.color(vi)

    def legend_note(self) -> str:
        """While a variant is focused: which, what the others look like, and the keys."""
        if self.focus_variant is None or self.focus_variant >= len(self.variant_names):
            return ""
        name = self.variant_names[self.focus_variant]
        others = len(self.variant_names) - 1 - len(self.hidden - {name})
        faint = f", {others} other{'s' if others != 1 else ''} faint" if others > 0 else ""
        if name in self.hidden:
            faint = f" (hidden: h shows it){faint}"
        # The variant first: a long name was cut at the end (the footer lists the keys too).
        split = " · t: train/test" if self.check_action("cycle_split", ()) else ""
        return f"in focus: {name}{faint} · v: next variant (then all) · h: hide{split}"

    def shows_metric(self, name: str) -> bool:
        """Whether ``t``'s choice shows this metric (train_*, test_* or both)."""
        if self.split == "both":
            return True
        rank = plotting.metric_rank(name)
        return rank == (0 if self.split == "train" else 1) or (rank == 2 and name.startswith(self.split))

    def with_choices(self, title: str) -> str:
        """The title with the user's choices first: a narrow title is cut at its end, never there."""
        note = self.choice_note()
        return f"{note} · {title}" if note else title

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
            self.post_message(self.ChoiceChanged())

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
        self.series_points = {}
        self.markers_used = []
        self.legend_items = []
        self._legend_ranks = []
        self.drawn_order = []
        self._series = []
        self._vlines = []

    def set_title(self, text: str) -> None:
        self.title_text = text

    def set_xlabel(self, text: str) -> None:
        self._xlabel = text
        self.plt.xlabel(text)

    def line(
        self,
        xs: list[float],
        ys: list[float],
        *,
        marker: str,
        color: str | int,
        label: str | None = None,
        key: str | None = None,
        scatter: bool = False,
        variant: int | None = None,
        listed_when_empty: bool = False,
    ) -> None:
        """Record one series (already finite and, on a log axis, already log10).

        ``scatter``: points only (data), whose markers no curve takes over; a
        ``BAND_MARKER`` series is a thin line only (a ± std band). ``variant``: its
        variant's index; the legend lists the variants in that order (the focused one is
        drawn last, on top, but keeps its place in the legend), then the unnumbered series.
        A variant that is not the focused one is drawn as a faint thin line (``faint``).
        ``listed_when_empty``: the legend names it even with no point to draw (its label says why).
        """
        if variant is not None and not scatter and self.faint(variant):
            marker, color = plotting.BAND_MARKER, plotting.FAINT
        if key is not None:
            self.series_points[key] = len(ys)
        if label is not None and (ys or listed_when_empty):
            rank = variant if variant is not None else 1 << 30
            at = bisect_right(self._legend_ranks, rank)
            self._legend_ranks.insert(at, rank)
            self.legend_items.insert(at, (marker, color, label))
        if not ys:
            return
        if key is not None:
            if marker != plotting.BAND_MARKER:
                self.markers_used.append(marker)
            self.drawn_order.append(key)
        kind = "points" if scatter else "band" if marker == plotting.BAND_MARKER else "line"
        self._series.append(Series(list(xs), list(ys), marker, color, key, kind))

    def vline(self, x: float, color: str) -> None:
        """A vertical line across the canvas at ``x`` (e.g. the first inf/NaN layer)."""
        self._vlines.append((float(x), color))

    def finish(
        self,
        title: str,
        *,
        ylog: bool = False,
        xticks: tuple[list[float], list[str]] | None = None,
    ) -> None:
        """The series are recorded: set the title and the axes, and ask for a render."""
        self.set_title(title)
        self._axes = {"ylog": ylog, "xticks": xticks, "empty": False}
        self._generation += 1
        self.refresh()

    def empty(self, message: str) -> None:
        """No data yet: an empty frame with a hint as its title."""
        if message == self.title_text and not self.series_points and self.renders:
            return  # already showing exactly this
        self.begin()
        self.set_title(message)
        self._axes = {"empty": True}
        self._generation += 1
        self.refresh()

    # --- the layout, at render time (the widget's size is known) ---------------------------

    def layout_series(self) -> None:
        """Have plotext draw the recorded series for the widget's current size."""
        size = (self.size.width, self.size.height)
        drawn = draw(self.plt, self._series, self._vlines, self._axes, self.title_text, size, bool(self._xlabel))
        self.canvas, self.visible_marks = drawn.canvas, drawn.visible_marks
