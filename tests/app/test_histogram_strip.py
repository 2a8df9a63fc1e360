"""The heat strips as text, without Textual: each cell's character follows its bin's count over the row's
largest, the range is printed at both ends of a row, and the newest steps that fit are drawn, newest last."""

from __future__ import annotations

import math

from regtui.app.widgets.histogram_strip import KEEP_STEPS, RAMP, History, Strip, bin_width, cells, strip_lines

HEAD = ("variant", "seed", "step", "layer", "of", "min", "max", "count", "sum", "sum_squares")
COLUMNS = (*HEAD, *(f"bin_{i}" for i in range(1, 21)))  # the train kind's HIST_COLUMNS


def test_the_ramp_runs_from_blank_to_full():
    assert RAMP == " ░▒▓█"


def test_each_cell_is_its_count_over_the_rows_largest_rounded_up():
    assert cells([0, 1, 2, 3, 4]) == " ░▒▓█"
    assert cells([4, 0, 8]) == "▒ █"  # 4/8 of the ramp's 4 steps: the second
    assert cells([5, 0, 8]) == "▓ █"  # 5/8 · 4 = 2.5: rounded up


def test_a_bin_with_any_count_is_never_blank_and_only_an_empty_one_is():
    assert cells([1, 0, 1000]) == "░ █"


def test_the_fullest_bin_is_the_densest_character_whatever_its_count():
    assert cells([0, 0, 3, 0]) == "  █ " and cells([0, 0, 3e6, 0]) == "  █ "


def test_an_empty_or_non_finite_row_is_blank():
    assert cells([0, 0, 0]) == "   "
    assert cells([math.nan, 1.0]) == "  "


def test_cells_widen_each_bin():
    assert cells([0, 2, 4], 2) == "  ▒▒██"


def test_a_row_prints_its_step_and_its_range_at_both_ends():
    (line,) = strip_lines([Strip(10, -1.0, 2.5, (0, 1, 2, 3, 4))], width=20, height=5)  # one character a bin
    assert line == "    10        -1 ▕ ░▒▓█▏ 2.5"


def test_a_row_of_a_tensor_with_inf_or_nan_says_so():
    (line,) = strip_lines([Strip(4, math.nan, math.nan, (math.nan,) * 20)], width=80, height=5)
    assert "inf/NaN in the tensor" in line and line.split()[0] == "4"


def test_bins_take_the_width_there_is_up_to_three_characters():
    assert bin_width(40, 20) == 1
    assert bin_width(78, 20) == 2
    assert bin_width(200, 20) == 3


def test_the_newest_steps_that_fit_newest_last_and_a_count_of_the_earlier_ones():
    strips = [Strip(step, 0.0, 1.0, (1, 0)) for step in range(1, 31)]
    lines = strip_lines(strips, width=60, height=5)
    assert len(lines) == 5
    assert lines[0].split() == ["…", "26", "earlier", "steps"]
    assert [int(line.split()[0]) for line in lines[1:]] == [27, 28, 29, 30]
    assert [int(line.split()[0]) for line in strip_lines(strips[:5], width=60, height=5)] == [1, 2, 3, 4, 5]


def row(variant, seed, step, layer, of, lo=-1.0, hi=1.0):
    counts = [float(step % 20 == i) for i in range(20)]
    return (variant, seed, step, layer, of, lo, hi, 1.0, 0.0, 0.0, *counts)


def test_history_keeps_every_step_of_each_tensor_in_order():
    history = History()
    history.add(COLUMNS, [row("a", 0, 10, "0.linear", "weights"), row("a", 0, 10, "1.relu", "activations")])
    history.add(COLUMNS, [row("a", 0, 20, "0.linear", "weights"), row("b", 1, 10, "0.linear", "gradients")])
    assert [s.step for s in history.strips[("a", 0, "0.linear", "weights")]] == [10, 20]
    assert history.strips[("a", 0, "0.linear", "weights")][0].counts[10] == 1.0
    assert history.runs() == [("a", 0), ("b", 1)]
    assert history.layers(("a", 0)) == ["0.linear", "1.relu"]
    assert history.kinds(("a", 0), "1.relu") == ["activations"]


def test_history_orders_kinds_weights_gradients_activations():
    history = History()
    history.add(COLUMNS, [row("a", 0, 1, "0.linear", of) for of in ("activations", "gradients", "weights")])
    assert history.kinds(("a", 0), "0.linear") == ["weights", "gradients", "activations"]


def test_history_is_bounded_per_tensor():
    history = History()
    history.add(COLUMNS, [row("a", 0, step, "0.linear", "weights") for step in range(KEEP_STEPS + 10)])
    kept = history.strips[("a", 0, "0.linear", "weights")]
    assert len(kept) == KEEP_STEPS and kept[-1].step == KEEP_STEPS + 9


def test_a_null_range_from_the_json_document_reads_as_not_finite():
    history = History()
    history.add(COLUMNS, [row("a", 0, 1, "0.linear", "weights", lo=None, hi=None)])
    (strip,) = history.strips[("a", 0, "0.linear", "weights")]
    assert math.isnan(strip.lo) and math.isnan(strip.hi)
