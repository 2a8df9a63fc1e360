"""Helpers shared by the chart widgets: markers, colours, log axes, ticks.

Pure Python (no Textual, no torch). Series are told apart by marker shape as
well as colour, so the charts stay readable with ``NO_COLOR=1``: each variant
gets a family of shapes (filled for train, hollow for test, a third for any
other metric), and each variant a colour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from regtui.aggregate import finite
from regtui.numbers import fmt

# One family per variant: (train, test, other metrics, validation).
MARKER_FAMILIES: tuple[tuple[str, str, str, str], ...] = (
    ("●", "○", "◉", "◍"),
    ("■", "□", "▣", "▤"),
    ("▲", "△", "▴", "▵"),
    ("◆", "◇", "◈", "❖"),
    ("★", "☆", "✦", "✧"),
    ("▼", "▽", "▾", "▿"),
    ("◀", "◁", "◂", "◃"),
    ("▶", "▷", "▸", "▹"),
    ("#", "=", "%", "~"),
    ("@", "&", "$", "^"),
)
COLORS: tuple[str, ...] = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "white", "cyan+", "green+")
# plotext colour name -> Rich colour name, for legends drawn outside the chart.
RICH_COLORS = {
    "orange": "dark_orange",
    "white": "bright_white",
    "cyan+": "bright_cyan",
    "green+": "bright_green",
    "gray": "grey50",
}
# The compared run's colours: the same hue as the shown run's variant of that index, darker
# (xterm-256 codes, which plotext takes as colours).
DIM_COLORS: tuple[int, ...] = (30, 130, 28, 90, 25, 88, 100, 248, 37, 34)
BAND_MARKER = "braille"  # the thin lines of a ± std band
LINE_MARKER = "braille"  # the interpolation between measured points (the points get the series' shape)
FAINT = "gray"  # the colour of the variants that are not focused
# Data points: shapes no series uses (a test checks that every marker differs).
DATA_MARKERS = {"train": "x", "test": "+"}


def marker(variant_index: int, metric_index: int = 0, *, compared: bool = False) -> str:
    """A variant's shape for a metric slot; ``compared``: the compared run's (History) own shapes."""
    families = COMPARED_FAMILIES if compared else MARKER_FAMILIES
    family = families[variant_index % len(families)]
    return family[metric_index % len(family)]


def color(variant_index: int) -> str:
    return COLORS[variant_index % len(COLORS)]


def rich_color(variant_index: int) -> str:
    name = color(variant_index)
    return RICH_COLORS.get(name, name)


def dim_color(variant_index: int) -> int:
    """The compared run's colour for its variant of this index (the shown run's hue, darker)."""
    return DIM_COLORS[variant_index % len(DIM_COLORS)]


def rich_of(plotext_color: str | int) -> str:
    """The Rich colour of a plotext colour (a name, or an xterm-256 code)."""
    if isinstance(plotext_color, int):
        return f"color({plotext_color})"
    return RICH_COLORS.get(plotext_color, plotext_color)


def metric_rank(name: str) -> int:
    """Marker slot of a metric: train filled (0), test hollow (1), validation (3), anything else (2)."""
    if name.startswith("train"):
        return 0
    if name in ("test_loss", "test_accuracy", "test"):
        return 1
    if name.startswith("val"):
        return 3
    return 2


def order_metrics(names: Iterable[str]) -> list[str]:
    return sorted(dict.fromkeys(names), key=lambda n: (metric_rank(n), n))


# --- metric groups: a run with many metrics (the train kind's per-layer norms) shows one group
# at a time. By name pattern, so it works for any kind; a metric no pattern takes is a "loss".
LOSS_GROUP = "loss"
# (group, name prefix, name part): a metric is in the group when it starts with the prefix
# (per-layer norms: "weight_norm/<layer>") or, with no prefix, contains the part.
METRIC_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("accuracy", "", "accuracy"),
    ("weight norms", "weight_norm/", ""),
    ("grad norms", "grad_norm/", ""),
    ("dead ReLU", "dead_relu/", ""),  # a tracked model's share of dead ReLU units per layer
    ("learning rate", "lr", ""),  # the train kind's scheduled lr
)
GROUP_ORDER: tuple[str, ...] = (LOSS_GROUP, *(g for g, _, _ in METRIC_GROUPS))
LAYER_GROUPS = frozenset({"weight norms", "grad norms", "dead ReLU"})  # one series per layer: the layer is in the name


def metric_group(name: str) -> str:
    """The group a per-step metric is shown in: loss, accuracy, weight norms, grad norms."""
    for group, prefix, part in METRIC_GROUPS:
        if (prefix and name.startswith(prefix)) or (part and part in name):
            return group
    return LOSS_GROUP


def group_metrics(names: Iterable[str]) -> dict[str, list[str]]:
    """The metrics by group (groups in ``GROUP_ORDER``, only those with a metric), each group ordered."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(metric_group(name), []).append(name)
    return {g: order_metrics(groups[g]) for g in GROUP_ORDER if g in groups}


def layer_of(name: str) -> str:
    """'weight_norm/0.conv' -> '0.conv' (the part after the first slash)."""
    return name.split("/", 1)[1] if "/" in name else name


def layer_marker(layer_index: int, *, compared: bool = False) -> str:
    """Shape per layer in a norms group: each family's first shape, then their second, third."""
    families = COMPARED_FAMILIES if compared else MARKER_FAMILIES
    n = len(families)
    return families[layer_index % n][(layer_index // n) % 3]


# The compared run in History (its series over the shown run's): small, open shapes of their own,
# one per (variant, metric) slot, none of which a variant family uses; as many families as the
# variants' (past that, both repeat their shapes in the same way, the colours still differ).
COMPARED_FAMILIES: tuple[tuple[str, str, str, str], ...] = (
    ("•", "◦", "∙", "⁃"),
    ("▪", "▫", "⋄", "⌑"),
    ("⊕", "⊖", "⊙", "⊡"),
    ("⊗", "⊘", "⊚", "⊹"),
    ("⊞", "⊟", "⊠", "⊏"),
    ("◧", "◨", "◩", "◪"),
    ("∗", "∘", "⋆", "⋇"),
    ("⊛", "⊜", "⊝", "⊶"),
    ("◰", "◱", "◲", "◳"),
    ("◭", "◮", "◬", "◫"),
)  # as many as MARKER_FAMILIES: a compared run of ten variants repeats no shape


def finite_pairs(xs: Sequence[Any], ys: Sequence[Any], positive: bool = False) -> tuple[list[float], list[float]]:
    """The (x, y) pairs where both are finite numbers (and y > 0 when ``positive``)."""
    out_x: list[float] = []
    out_y: list[float] = []
    for x, y in zip(xs, ys):
        if finite(x) and finite(y) and (not positive or y > 0):
            out_x.append(float(x))
            out_y.append(float(y))
    return out_x, out_y


def wants_log(values: Iterable[Any], min_ratio: float = 30.0) -> bool:
    """Log scale pays off when the positive values span more than ~1.5 decades."""
    pos = [float(v) for v in values if finite(v) and v > 0]
    if len(pos) < 2:
        return False
    return max(pos) / min(pos) >= min_ratio


def decade_label(k: int) -> str:
    value = 10.0**k
    if -2 <= k <= 3:
        return f"{value:g}"
    return f"1e{k}"


def log_ticks(values: Iterable[float], max_ticks: int = 8) -> tuple[list[float], list[str]]:
    """Ticks (in log10 units) at whole decades covering ``values`` (already log10).

    Only the decades inside the values' range when at least two fall inside it (so
    the axis is not stretched to the next decade), else the decades around it.
    """
    vals = [v for v in values if math.isfinite(v)]
    if not vals:
        return [], []
    vmin, vmax = min(vals), max(vals)
    lo, hi = math.ceil(vmin - 1e-9), math.floor(vmax + 1e-9)
    if hi - lo < 1:
        lo, hi = math.floor(vmin), math.ceil(vmax)
        if hi == lo:
            hi = lo + 1
    raw = max(1, math.ceil((hi - lo + 1) / max_ticks))
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, raw) if s >= raw)
    ticks = [t for t in range(lo, hi + 1) if t % step == 0]
    if len(ticks) < 2:
        ticks = list(range(lo, hi + 1, step))
    return [float(t) for t in ticks], [decade_label(t) for t in ticks]


def log10s(values: Sequence[float]) -> list[float]:
    return [math.log10(v) for v in values]


def categorical(values: Sequence[Any]) -> bool:
    """Swept values that are choices or flags (norm=batch,layer; batchnorm=true,false): no number line."""
    return any(isinstance(v, (str, bool)) or v is None for v in values)


def category_axis(values: Sequence[Any]) -> tuple[list[float], list[float], list[str]]:
    """Categories at 0, 1, 2, … in the order they first appear, each tick labelled with its value.
    Returns (positions, ticks, tick labels)."""
    order = list(dict.fromkeys(values))
    ticks = [float(i) for i in range(len(order))]
    labels = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in order]
    return [float(order.index(v)) for v in values], ticks, labels


def sweep_axis(values: Sequence[Any]) -> tuple[list[float], list[float], list[str], bool]:
    """Place swept values on an x axis: log10 when positive values span decades.

    A zero cannot sit on a log axis, so it is drawn one decade below the
    smallest positive value and its tick is labelled "0". Returns
    (positions, ticks, tick labels, is_log).
    """
    nums = [float(v) for v in values]
    positive = [v for v in nums if v > 0]
    if not positive or any(v < 0 for v in nums) or not wants_log(positive, 30.0):
        ticks = sorted(set(nums))
        return nums, ticks, [fmt(t) for t in ticks], False
    low = math.floor(math.log10(min(positive))) - 1
    positions = [math.log10(v) if v > 0 else float(low) for v in nums]
    ticks, labels = log_ticks([math.log10(v) for v in positive])
    if any(v == 0 for v in nums):
        ticks, labels = [float(low), *ticks], ["0", *labels]
    return positions, ticks, labels, True


def metric_label(name: str) -> str:
    """'train_loss' -> 'train', 'test_loss_train_mode' -> 'test (train mode)'."""
    if name.endswith("_loss"):
        return name[: -len("_loss")]
    if "_loss_" in name:
        head, tail = name.split("_loss_", 1)
        return f"{head} ({tail.replace('_', ' ')})"
    return name.replace("_", " ")


def linear_ticks(values: Iterable[float], count: int = 5) -> tuple[list[float], list[str]]:
    """About ``count`` round ticks covering ``values`` (1, 2 or 5 times a power of ten apart)."""
    vals = [float(v) for v in values if finite(v)]
    if not vals:
        return [], []
    lo, hi = min(vals), max(vals)
    if hi == lo:
        return [lo], [fmt(lo)]
    raw = (hi - lo) / max(1, count - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks: list[float] = []
    t = first
    while t <= hi + step * 1e-9:
        ticks.append(0.0 if abs(t) < step * 1e-9 else t)
        t += step
    return ticks, [f"{round(t, 12):g}" for t in ticks]


# --- where things land on plotext's canvas ----------------------------------------------------
#
# plotext maps a value v on an axis with limits (lo, hi) to the cell
# floor(0.5 + (n - 1)·(v − lo)/(hi − lo)) of the n cells of the canvas (the area inside the
# frame). The charts set the limits themselves, so they know where every point lands and can
# place the series' markers so that none is drawn over another one's.


def limits(values: Iterable[float], ticks: Iterable[float] = ()) -> tuple[float, float]:
    """Axis limits covering the values and the ticks (so every tick label sits beside the canvas)."""
    every = [float(v) for v in (*values, *ticks) if math.isfinite(v)]
    if not every:
        return 0.0, 1.0
    lo, hi = min(every), max(every)
    if hi == lo:
        pad = abs(lo) * 0.5 or 1.0
        lo, hi = lo - pad, hi + pad
    return lo, hi


def cell(value: float, lim: tuple[float, float], n: int) -> int:
    """The canvas cell (0 … n−1) plotext draws ``value`` in, on an axis with limits ``lim``."""
    lo, hi = lim
    return math.floor(round(0.5 + (n - 1) * (value - lo) / (hi - lo), 8))


def canvas_size(width: int, height: int, ylabels: Sequence[str], *, title: bool, xlabel: bool) -> tuple[int, int]:
    """The canvas (inside the frame) of a plotext chart of ``width``×``height`` cells.

    The frame takes a column each side and a row above and below, the y tick labels
    their longest label's width, the x tick labels one row, the title and the x label
    a row each.
    """
    label_width = max((len(label) for label in ylabels), default=0)
    return max(0, width - 2 - label_width), max(0, height - 3 - int(title) - int(xlabel))


def thin(xs: Sequence[float], ys: Sequence[float], count: int) -> tuple[list[float], list[float]]:
    """At most ``count`` of the points, evenly spread over the series, the first and last kept."""
    n = len(xs)
    if n <= count:
        return list(xs), list(ys)
    picks = sorted({round(i * (n - 1) / (count - 1)) for i in range(count)})
    return [xs[i] for i in picks], [ys[i] for i in picks]


def place_markers(
    series: Sequence[tuple[Sequence[float], Sequence[float]]],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    size: tuple[int, int],
    priority: Sequence[bool] = (),
) -> list[list[int]]:
    """Which points of each series get its marker, so that no series is drawn over another.

    Every series claims the canvas cells its points fall in (one point per cell). A
    cell claimed by several series goes to one of them in turn — by (column + row),
    so series that run together alternate along their common stretch (●■●■…) —
    except that a ``priority`` series (the data points of a fit) keeps all its cells.
    A series left with no cell at all takes one from a series that has several. Returns, per series,
    the indices of its points to mark, in order.
    """
    width, height = size
    claims: dict[tuple[int, int], list[int]] = {}
    first_point: list[dict[tuple[int, int], int]] = []
    for si, (xs, ys) in enumerate(series):
        cells: dict[tuple[int, int], int] = {}
        if width > 0 and height > 0:
            for i, (x, y) in enumerate(zip(xs, ys)):
                c = (cell(x, xlim, width), cell(y, ylim, height))
                if c not in cells:
                    cells[c] = i
                    claims.setdefault(c, []).append(si)
        first_point.append(cells)
    owner: dict[tuple[int, int], int] = {}
    for c, claimants in claims.items():
        first = [si for si in claimants if si < len(priority) and priority[si]]
        pool = first or claimants
        owner[c] = pool[(c[0] + c[1]) % len(pool)]
    counts = [0] * len(series)
    for si in owner.values():
        counts[si] += 1
    for si, cells in enumerate(first_point):
        if counts[si] or not cells:
            continue
        # A series with no cell of its own takes one from a series that has several.
        for c in cells:
            held = owner[c]
            if counts[held] > 1 and not (held < len(priority) and priority[held]):
                owner[c] = si
                counts[held] -= 1
                counts[si] += 1
                break
    return [sorted(i for c, i in cells.items() if owner[c] == si) for si, cells in enumerate(first_point)]
