"""Heat strips of the ``histograms`` table: one text row per logged step, one cell per bin.

The drawing is a pure function (rows → lines) so it is tested without Textual: a cell's character
follows its bin's count divided by the largest count of that row (per-row normalisation, since each
step bins over its own [min, max]), from blank (empty bin) to █ (the row's fullest bin). It reads
the same without colour. The widget around it only keeps the table's history and the choice of
variant/seed, layer and kind (weights, gradients, activations).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from textual.widgets import Static

from regtui.report import Rows, TableInfo

TABLE = "histograms"
RAMP = " ░▒▓█"  # blank: an empty bin; █: the row's fullest bin
KIND_ORDER = ("weights", "gradients", "activations")
KEEP_STEPS = 500  # per (variant, seed, layer, kind): the most recent steps kept for drawing
NUMBER = 9  # characters of a range end: -1.23e-05
STEP = 6  # characters of the step label
CAPTION = "newest last · bins span each step's [min, max] · shade: count / row's max"


@dataclass(frozen=True)
class Strip:
    """One logged step of one tensor: its range and its bin counts."""

    step: int
    lo: float
    hi: float
    counts: tuple[float, ...]


def cells(counts: Sequence[float], width: int = 1) -> str:
    """The bins as characters of ``RAMP``, each ``width`` wide: an empty bin blank, any other at least ░,
    the row's largest █ (counts divided by the row's largest, rounded up to the ramp's next step)."""
    top = max(counts, default=0.0)
    levels = len(RAMP) - 1
    out = []
    for count in counts:
        if not math.isfinite(count) or not math.isfinite(top) or top <= 0 or count <= 0:
            char = RAMP[0]
        else:
            char = RAMP[max(1, min(levels, math.ceil(count / top * levels)))]
        out.append(char * width)
    return "".join(out)


def number(value: float) -> str:
    """A range end in at most ``NUMBER`` characters (3 significant digits)."""
    return f"{value:.3g}" if math.isfinite(value) else "inf/NaN"


def bin_width(width: int, bins: int) -> int:
    """Characters per bin that fit ``width`` beside the labels (1 to 3)."""
    room = width - STEP - 2 * NUMBER - 4
    return max(1, min(3, room // max(bins, 1)))


def strip_line(strip: Strip, per_bin: int) -> str:
    """``step  min ▕cells▏ max``: the range printed at both ends, since it changes from step to step."""
    bins = len(strip.counts)
    if not (math.isfinite(strip.lo) and math.isfinite(strip.hi)):
        body = "inf/NaN in the tensor".center(bins * per_bin)
    else:
        body = cells(strip.counts, per_bin)
    return f"{strip.step:>{STEP}} {number(strip.lo):>{NUMBER}} ▕{body}▏ {number(strip.hi):<{NUMBER}}".rstrip()


def strip_lines(strips: Sequence[Strip], width: int, height: int) -> list[str]:
    """The most recent steps that fit ``height`` lines, newest last; when some are left out, a first
    line counts them."""
    if not strips or height <= 0:
        return []
    per_bin = bin_width(width, len(strips[-1].counts))
    if len(strips) <= height:
        return [strip_line(s, per_bin) for s in strips]
    shown = strips[-(height - 1) :] if height > 1 else strips[-1:]
    hidden = len(strips) - len(shown)
    earlier = [f"{'':>{STEP}} … {hidden} earlier step{'s' if hidden != 1 else ''}"] if height > 1 else []
    return earlier + [strip_line(s, per_bin) for s in shown]


Key = tuple[str, int, str, str]  # variant, seed, layer, kind


class History:
    """The ``histograms`` table's rows, indexed per (variant, seed, layer, kind), the latest ``KEEP_STEPS``
    steps each; fed only the rows added since the last call (``Collector.rows_since``)."""

    def __init__(self) -> None:
        self.strips: dict[Key, deque[Strip]] = {}
        self.cursor = 0

    def add(self, columns: Sequence[str], rows: Rows) -> None:
        at = {name: i for i, name in enumerate(columns)}
        bins = [at[c] for c in columns if c.startswith("bin_")]
        for row in rows:
            key = (str(row[at["variant"]]), int(row[at["seed"]]), str(row[at["layer"]]), str(row[at["of"]]))
            strip = Strip(
                int(row[at["step"]]),
                _float(row[at["min"]]),
                _float(row[at["max"]]),
                tuple(_float(row[i]) for i in bins),
            )
            self.strips.setdefault(key, deque(maxlen=KEEP_STEPS)).append(strip)

    def runs(self) -> list[tuple[str, int]]:
        """The (variant, seed) pairs, in the order they first came."""
        return list(dict.fromkeys((v, s) for v, s, _, _ in self.strips))

    def layers(self, run: tuple[str, int]) -> list[str]:
        return list(dict.fromkeys(layer for v, s, layer, _ in self.strips if (v, s) == run))

    def kinds(self, run: tuple[str, int], layer: str) -> list[str]:
        present = {kind for v, s, la, kind in self.strips if (v, s) == run and la == layer}
        return [k for k in KIND_ORDER if k in present] + sorted(present.difference(KIND_ORDER))


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _cycle(options: list[Any], current: Any) -> Any:
    """The option after ``current`` (the first when it is not there)."""
    if not options:
        return None
    return options[(options.index(current) + 1) % len(options)] if current in options else options[0]


class HistogramStrip(Static, can_focus=True):
    """The chosen tensor's heat strips; ``update_from`` follows the run, the ``cycle_*`` methods pick."""

    DEFAULT_CSS = """
    HistogramStrip {
        height: 1fr;
        padding: 0 1;
        text-wrap: nowrap;  /* a line a row: a wrapped heading would push the newest step out of view */
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)  # "[min, max]" is text
        self.history = History()
        self.source: Callable[[str, int], tuple[Rows, int]] | None = None
        self.picked_run: tuple[str, int] | None = None
        self.picked_layer: str | None = None
        self.picked_kind: str | None = None
        self.wanted_kind: str | None = None

    def reset(self) -> None:
        self.history = History()
        self.source = None
        self.picked_run = self.picked_layer = self.picked_kind = self.wanted_kind = None
        self.refresh_lines()

    def update_from(self, tables: dict[str, TableInfo], rows_since: Callable[[str, int], tuple[Rows, int]]) -> None:
        """Take the rows added since the last call (another collector's: start over)."""
        info = tables.get(TABLE)
        if rows_since != self.source or (info is not None and info.total < self.history.cursor):
            self.history = History()
            self.source = rows_since
        if info is not None:
            rows, self.history.cursor = rows_since(TABLE, self.history.cursor)
            self.history.add(info.columns, rows)
        self.choose()
        self.refresh_lines()

    def choose(self, run: object = None, layer: object = None, kind: object = None) -> None:
        """Keep the choices that still exist; the first of each otherwise. The kind last picked with k
        wins over one a layer forced (a ReLU has only activations: the next Linear shows weights again)."""
        runs = self.history.runs()
        self.picked_run = _keep(runs, run, self.picked_run)
        layers = self.history.layers(self.picked_run) if self.picked_run else []
        self.picked_layer = _keep(layers, layer, self.picked_layer)
        kinds = self.history.kinds(self.picked_run, self.picked_layer) if self.picked_run and self.picked_layer else []
        self.picked_kind = _keep(kinds, kind, self.wanted_kind, self.picked_kind)
        self.wanted_kind = self.wanted_kind or self.picked_kind

    def cycle_run(self) -> None:
        self.choose(run=_cycle(self.history.runs(), self.picked_run))
        self.refresh_lines()

    def cycle_layer(self) -> None:
        self.choose(layer=_cycle(self.history.layers(self.picked_run) if self.picked_run else [], self.picked_layer))
        self.refresh_lines()

    def cycle_kind(self) -> None:
        kinds = self.history.kinds(self.picked_run, self.picked_layer) if self.picked_run and self.picked_layer else []
        self.wanted_kind = _cycle(kinds, self.picked_kind)
        self.choose(kind=self.wanted_kind)
        self.refresh_lines()

    def heading(self, width: int = 0) -> list[str]:
        """What is drawn and where it sits among the choices (l layer, k kind, v variant/seed): one line,
        or two where one line of ``width`` would cut the variant's name (sweep points differ at its end)."""
        if self.picked_run is None or self.picked_layer is None or self.picked_kind is None:
            return []
        runs, layers = self.history.runs(), self.history.layers(self.picked_run)
        kinds = self.history.kinds(self.picked_run, self.picked_layer)
        variant, seed = self.picked_run
        what = (
            f"layer {self.picked_layer} ({layers.index(self.picked_layer) + 1}/{len(layers)}, l) · "
            f"{self.picked_kind} ({kinds.index(self.picked_kind) + 1}/{len(kinds)}, k)"
        )
        run = f"run ({runs.index(self.picked_run) + 1}/{len(runs)}, v) seed {seed} · {variant}"  # a long name cut last
        one = f"{what} · {run}"
        return [one] if not width or len(one) <= width else [what, run]

    def refresh_lines(self) -> None:
        self.update(self.render_text())

    def render_text(self) -> str:
        """The heading, the caption and the strips that fit the widget's size now."""
        if self.picked_run is None or self.picked_layer is None or self.picked_kind is None:
            return "Histograms appear here while a train run with histograms = true logs (--set histograms=true)."
        width = self.content_size.width or 78
        height = self.content_size.height or 20
        strips = list(self.history.strips[(*self.picked_run, self.picked_layer, self.picked_kind)])
        heading = self.heading(width)
        return "\n".join([*heading, CAPTION, *strip_lines(strips, width, height - 1 - len(heading))])

    def on_resize(self) -> None:
        self.refresh_lines()


def _keep(options: list[Any], *preferred: Any) -> Any:
    """The first of ``preferred`` that is among ``options``, else the first option (None: no options)."""
    return next((p for p in preferred if p is not None and p in options), options[0] if options else None)
