"""The plotext side of a live chart: the recorded series drawn on a plotext figure for a size
(:func:`draw`), and the figure's cells turned into a Rich Text (:func:`frame_text`).

No series hides another: every series is drawn as a thin braille line first, then the markers of
all series on top, each canvas cell holding one series' marker; where series run together they take
turns cell by cell (``plotting.place_markers``). The axes' limits cover every tick, so each tick
label sits beside the canvas, never on the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plotext
from rich.style import Style
from rich.text import Text

from regtui.app import plotting

_STYLES: dict[tuple[Any, Any, Any], Style | None] = {}


@dataclass
class Series:
    """One series as ``LiveChart.line`` recorded it (values already finite and, on a log axis, log10)."""

    xs: list[float]
    ys: list[float]
    marker: str
    color: str | int  # a plotext colour name or an xterm-256 code
    key: str | None
    kind: str  # "band" (a thin line only), "line" (a thin line and the markers) or "points"


@dataclass
class Drawn:
    """What :func:`draw` laid out: the canvas (inside the frame) and, per series key, how many
    canvas cells show its marker."""

    canvas: tuple[int, int]
    visible_marks: dict[str, int]


def fit_title(title: str, width: int) -> str:
    """The title cut to ``width`` characters (its end becomes "…"): plotext draws no title that is too long."""
    if len(title) <= width:
        return title
    return title[: max(0, width - 1)].rstrip(" ·") + "…" if width > 1 else ""


def draw(
    plt: Any,
    series: list[Series],
    vlines: list[tuple[float, str]],
    axes: dict[str, Any],
    title: str,
    size: tuple[int, int],
    xlabel: bool,
) -> Drawn:
    """Have plotext draw ``series`` (and vertical lines at x) for a chart of ``size``."""
    width, height = size
    plt.clear_data()
    plt.title(fit_title(title, width - 2))
    if axes.get("empty", True) or not series:
        plt.xlim(None, None)
        plt.ylim(None, None)
        plt.xticks([], [])
        plt.yticks([], [])
        return Drawn((0, 0), {})
    all_x = [x for s in series for x in s.xs] + [x for x, _ in vlines]
    all_y = [y for s in series for y in s.ys]
    xt, xl = axes.get("xticks") or plotting.linear_ticks(all_x)
    yt, yl = plotting.log_ticks(all_y) if axes.get("ylog") else plotting.linear_ticks(all_y)
    xlim, ylim = plotting.limits(all_x, xt), plotting.limits(all_y, yt)
    plt.xlim(*xlim)
    plt.ylim(*ylim)
    plt.xticks(xt, xl)
    plt.yticks(yt, yl)
    canvas = plotting.canvas_size(width, height, yl, title=True, xlabel=xlabel)
    # plotext centres the title on the canvas and drops one that does not fit: cut it to fit.
    plt.title(fit_title(title, canvas[0]))
    # Thin lines first (bands, then the interpolation of each curve): the markers go on top.
    # A thin line needs no more points than the canvas has columns (the markers show every
    # measured point's cell anyway): fewer segments for plotext to interpolate.
    for s in series:
        if s.kind == "band" or (s.kind == "line" and len(s.ys) > 1):
            xs, ys = plotting.thin(s.xs, s.ys, max(2, canvas[0]))
            plt.plot(xs, ys, marker=plotting.LINE_MARKER, color=s.color)
    marked = [s for s in series if s.kind != "band"]
    chosen = plotting.place_markers(
        [(s.xs, s.ys) for s in marked], xlim, ylim, canvas, [s.kind == "points" for s in marked]
    )
    visible: dict[str, int] = {}
    for s, indices in zip(marked, chosen):
        if s.key is not None:
            visible[s.key] = len(indices)
        if indices:
            plt.scatter([s.xs[i] for i in indices], [s.ys[i] for i in indices], marker=s.marker, color=s.color)
    for x, color in vlines:
        plt.vertical_line(x, color=color)
    return Drawn(canvas, visible)


def frame_text(plt: Any, width: int, height: int, theme: str) -> Text:
    """What ``PlotextPlot.render`` returns, built from plotext's matrix of cells.

    ``PlotextPlot.render`` has Rich parse back the ANSI string that plotext's ``build`` joins
    (``Text.from_ansi``): a third of a redraw. Here each run of cells of one colour becomes one
    span; the styles are the very ones ``from_ansi`` gives (cached).
    """
    plt.plotsize(width, height)
    # plotext limits a figure's size to the terminal's when it is made, and only a private setter
    # lifts that (textual-plotext's own render calls it too): a chart may be wider than the terminal
    # the process started in (a test's headless screen).
    plt._set_size(width, height)
    plt.theme(theme)
    plt.build()  # the ANSI string it also returns is not used: the cells are read below
    matrix = plt.monitor.matrix
    text = Text()
    append = text.append
    styles = _STYLES
    cols = matrix.cols
    for row in list(matrix.Rows)[::-1]:
        markers, fg, st, bg = matrix.marker[row], matrix.fullground[row], matrix.style[row], matrix.background[row]
        col = 0
        while col < cols:
            key = (fg[col], st[col], bg[col])
            end = col + 1
            while end < cols and fg[end] == key[0] and st[end] == key[1] and bg[end] == key[2]:
                end += 1
            style = styles.get(key)
            if style is None:
                style = styles[key] = _style_of(key)
            append("".join(markers[col:end]), style)
            col = end
        append("\n")
    return text


def _style_of(colors: tuple[Any, Any, Any]) -> Style | None:
    """The Rich style ``Text.from_ansi`` gives a plotext cell of these (fullground, style, background)."""
    fullground, style, background = colors
    parsed = Text.from_ansi(plotext.colorize("x", fullground, style, background))
    spans = [span.style for span in parsed.spans if span.start == 0]
    if not spans:
        return None
    found = spans[0]
    return Style.parse(found) if isinstance(found, str) else found
