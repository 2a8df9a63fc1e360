"""No series hides another: the charts as plotext draws them, read back character by character.

Each case copies the shape of a bundled scenario whose chart hid a series (issue #8):
bn's kaiming and batchnorm stds both ≈ 1 on a log axis spanning 70 decades, adamw's
SGD and Adam curves that end at the same values, dropout's three series of one
variant in the top rows. Every series has a marker of its own, so counting that
marker inside the frame of the built chart tells whether the series can be seen.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from textual.app import App, ComposeResult

from regtui.app import plotting
from regtui.app.widgets.chart import LiveChart
from regtui.app.widgets.layers_chart import LayersChart
from regtui.app.widgets.loss_chart import LossChart

# The chart areas of the dashboard at 120x40 and 80x24.
SIZES = [(86, 32), (78, 15)]


def canvas_rows(chart: LiveChart) -> tuple[list[str], list[str]]:
    """(the rows inside the frame, the rows of the frame's left edge with their tick labels)."""
    lines = chart.render().plain.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    inside, edges = [], []
    for line in lines[top + 1 : bottom]:
        left = min(i for i in (line.find("│"), line.find("┤")) if i >= 0)
        right = line.rfind("│")
        inside.append(line[left + 1 : right])
        edges.append(line[: left + 1])
    return inside, edges


def marker_counts(chart: LiveChart) -> dict[str, int]:
    """Series key -> how many cells inside the frame show its marker."""
    inside, _ = canvas_rows(chart)
    text = "".join(inside)
    markers = dict(zip(chart.drawn_order, chart.markers_used))
    return {key: text.count(marker) for key, marker in markers.items()}


def bn_records() -> list[dict[str, Any]]:
    """The bn scenario's shape: default init vanishes, normal explodes (inf at 37), kaiming and BN ≈ 1."""
    depth = 100
    wobble = [1.0 + 0.05 * math.sin(i) for i in range(depth)]
    normal = [10.0 ** (i * 36 / 36) for i in range(36)] + [math.inf] * (depth - 36)
    return [
        {"name": "default init", "layers": {"std": [10.0 ** (-0.4 * i) for i in range(depth)]}},
        {"name": "normal init", "layers": {"std": normal, "first_nonfinite_layer": 37}},
        {"name": "kaiming init", "layers": {"std": wobble}},
        {"name": "batchnorm", "layers": {"std": [w * 1.01 for w in wobble]}},
    ]


def bn_training_records() -> list[dict[str, Any]]:
    """bn during training: each net's measuring pass and its profile at the latest training step
    (default init flushed to 0 deep down, normal all NaN, batchnorm huge early and 0.57 late)."""
    depth = 100
    records = bn_records()
    profiles = [
        {"step": 40, "std": [10.0 ** (-0.4 * i) if i < 95 else 0.0 for i in range(depth)]},
        {"step": 10, "std": [math.nan] * depth, "first_nonfinite_layer": 1},
        {"step": 40, "std": [0.8 * 0.98**i for i in range(depth)]},
        {"step": 30, "std": [max(0.57, 2.5e6 * 0.85**i) for i in range(depth)]},
    ]
    for record, profile in zip(records, profiles):
        record["layers_training"] = profile
    return records


def loss_records(names: list[str], metrics: dict[str, list[float]], same: bool) -> list[dict[str, Any]]:
    """Variants whose curves coincide (``same``) or differ only slightly."""
    steps = list(range(0, 2000, 10))
    out = []
    for vi, name in enumerate(names):
        series: dict[str, Any] = {"step": steps}
        for metric, (start, end) in metrics.items():
            shift = 1.0 if same or vi == 0 else 1.0 + 0.001 * vi
            series[metric] = [shift * (start + (end - start) * (s / 2000) ** 0.5) for s in steps]
        out.append({"name": name, "series": series})
    return out


def adamw_records() -> list[dict[str, Any]]:
    recs = loss_records(
        ["SGD", "Adam"],
        {"train_loss": (1.0, 0.19), "test_loss": (0.8, 0.076), "weight_norm": (16.0, 2.5)},
        same=True,
    )
    adamw = loss_records(
        ["AdamW"], {"train_loss": (1.0, 5e-5), "test_loss": (0.8, 0.25), "weight_norm": (16.0, 14.8)}, same=True
    )
    return recs + adamw


def dropout_records() -> list[dict[str, Any]]:
    plain = loss_records(
        ["no dropout"],
        {"train_loss": (1.0, 3e-12), "test_loss": (0.9, 0.25), "test_loss_train_mode": (0.9, 0.25)},
        same=True,
    )
    dropped = loss_records(
        ["dropout"],
        {"train_loss": (1.0, 0.23), "test_loss": (0.9, 0.21), "test_loss_train_mode": (0.9, 0.25)},
        same=True,
    )
    return plain + dropped


class OneChart(App[None]):
    def __init__(self, chart: LiveChart) -> None:
        super().__init__()
        self.chart = chart

    def compose(self) -> ComposeResult:
        yield self.chart


CASES = {
    "bn layers": (LayersChart, bn_records),
    "bn layers while training": (LayersChart, lambda: [r for r in bn_training_records() if r["name"] != "normal init"]),
    "adamw loss": (LossChart, adamw_records),
    "dropout loss": (LossChart, dropout_records),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", list(CASES))
async def test_every_series_shows_its_marker(case: str, size: tuple[int, int]):
    kind, make = CASES[case]
    chart = kind(id="c")
    async with OneChart(chart).run_test(size=size) as pilot:
        chart.replot(make())
        await pilot.pause()
        counts = marker_counts(chart)
        assert counts and len(set(chart.markers_used)) == len(chart.markers_used)
        # Every series is visible in several cells, however exactly it coincides with another.
        hidden = {key: n for key, n in counts.items() if n < 3}
        assert not hidden, (hidden, "\n" + chart.render().plain)
        # What the layout promised is what plotext drew.
        assert counts == {k: chart.visible_marks[k] for k in counts}


async def test_identical_curves_take_turns_cell_by_cell():
    chart = LayersChart(id="c")
    async with OneChart(chart).run_test(size=(86, 32)) as pilot:
        chart.replot(bn_records())
        await pilot.pause()
        inside, _ = canvas_rows(chart)
        kaiming, bn = plotting.marker(2, 0), plotting.marker(3, 0)
        row = next(r for r in inside if r.count(kaiming) > 10)
        assert row.count(bn) > 10  # the batchnorm curve runs on the same row, alternating
        assert kaiming + bn + kaiming in row or bn + kaiming + bn in row


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", list(CASES))
async def test_tick_labels_sit_beside_the_canvas(case: str, size: tuple[int, int]):
    kind, make = CASES[case]
    chart = kind(id="c")
    async with OneChart(chart).run_test(size=size) as pilot:
        chart.replot(make())
        await pilot.pause()
        lines = chart.render().plain.splitlines()
        frame = [line for line in lines if "┌" in line or "└" in line]
        assert all(not line.split("┌")[0].split("└")[0].strip() for line in frame)  # no label on the frame
        _, edges = canvas_rows(chart)
        labelled = [edge for edge in edges if edge.endswith("┤")]
        assert len(labelled) >= 2 and all(edge[:-1].strip() for edge in labelled)  # every tick has its label
        # canvas_size agrees with plotext's layout: the canvas is as wide and tall as computed.
        inside, _ = canvas_rows(chart)
        assert (len(inside[0]), len(inside)) == chart.canvas


async def test_the_frame_is_what_plotext_and_rich_would_make():
    """The chart builds its Rich Text from plotext's cells; it must equal Text.from_ansi(plt.build())."""
    from textual_plotext import PlotextPlot

    chart = LossChart(id="c")
    async with OneChart(chart).run_test(size=(86, 32)) as pilot:
        chart.replot(adamw_records())
        await pilot.pause()
        chart.layout_series()
        mine = chart.build_text()
        chart.layout_series()
        theirs = PlotextPlot.render(chart)
        assert mine.plain == theirs.plain
        assert [(s.start, s.end, str(s.style)) for s in mine.spans] == [
            (s.start, s.end, str(s.style)) for s in theirs.spans
        ]


def test_place_markers_shares_coinciding_cells():
    xs = [float(i) for i in range(40)]
    flat = [1.0] * 40
    a, b, data = plotting.place_markers(
        [(xs, flat), (xs, flat), ([5.0, 6.0], [1.0, 1.0])], (0, 39), (0, 2), (40, 10), [False, False, True]
    )
    assert set(data) == {0, 1}  # the data points keep their cells
    assert len(a) >= 18 and len(b) >= 18 and not set(a) & set(b)
    # One series of one point under a long one still gets that point.
    one, long_ = plotting.place_markers([([3.0], [1.0]), (xs, flat)], (0, 39), (0, 2), (40, 10))
    assert one == [0] and 3 not in long_


def test_log_ticks_stay_inside_the_data_when_they_can():
    ticks, _ = plotting.log_ticks([-11.45, 0.08])
    assert min(ticks) >= -11.45 and max(ticks) <= 0.08
    assert all(t % 2 == 0 for t in ticks)  # round steps: 1, 2, 5, 10… decades
    ticks, _ = plotting.log_ticks([-0.3, 0.2])  # inside one decade: the decades around it
    assert ticks == [-1.0, 0.0, 1.0] or ticks == [-1.0, 0.0]
    lo, hi = plotting.limits([-0.3, 0.2], ticks)
    assert lo <= min(ticks) and hi >= max(ticks)


async def test_bn_layers_while_training_show_both_profiles_of_every_net():
    chart = LayersChart(id="c")
    async with OneChart(chart).run_test(size=(86, 32)) as pilot:
        chart.replot(bn_training_records())
        await pilot.pause()
        labels = [label for _, _, label in chart.legend_items]
        assert labels == [
            "default init",
            "default init · step 40",
            "normal init · inf/NaN at layer 37",
            "normal init · step 10 · inf/NaN at layer 1",  # all NaN: no line, and the legend says why
            "kaiming init",
            "kaiming init · step 40",
            "batchnorm",
            "batchnorm · step 30",
        ]
        markers = [marker for marker, _, _ in chart.legend_items]
        slots = ((0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1))  # (variant, 0 filled / 1 hollow)
        assert markers == [plotting.marker(vi, slot) for vi, slot in slots]
        assert "filled: init, hollow: training" in chart.title_text
        counts = marker_counts(chart)
        assert counts["batchnorm · training"] >= 3 and counts["kaiming init · training"] >= 3
        assert chart.series_points["normal init · training"] == 0  # all NaN: nothing to draw
        assert chart.series_points["default init · training"] == 95  # zeros are off a log axis


async def test_bn_layers_before_training_keep_their_plain_labels():
    chart = LayersChart(id="c")
    async with OneChart(chart).run_test(size=(86, 32)) as pilot:
        chart.replot(bn_records())
        await pilot.pause()
        assert chart.legend_items[0][2] == "default init"
        assert "hollow" not in chart.title_text


async def test_t_that_leaves_no_series_says_so_not_waiting():
    """bn has train losses only: t's "test only" must not look like a run that is still to come."""
    chart = LossChart(id="c")
    async with OneChart(chart).run_test(size=(86, 32)) as pilot:
        records = loss_records(["kaiming", "batchnorm"], {"train_loss": (1.4, 0.9)}, same=False)
        chart.replot(records)
        chart.action_cycle_split()  # train only: the same curves
        await pilot.pause()
        assert chart.series_points and "train only (t)" in chart.title_text
        chart.action_cycle_split()  # test only: nothing of this run
        await pilot.pause()
        assert chart.title_text == "loss · no test metrics in this run · test only (t)"
        chart.action_cycle_split()  # both again
        assert chart.series_points and "waiting" not in chart.title_text
