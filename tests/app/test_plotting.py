"""The chart helpers: markers, log axes, the sweep axis with a zero, number formats."""

from __future__ import annotations

import math

from regtui.app import plotting
from regtui.numbers import fmt


def test_every_series_gets_its_own_shape():
    shapes = {plotting.marker(v, m) for v in range(len(plotting.MARKER_FAMILIES)) for m in range(3)}
    assert len(shapes) == 3 * len(plotting.MARKER_FAMILIES)
    assert plotting.marker(0, plotting.metric_rank("train_loss")) == "●"
    assert plotting.marker(0, plotting.metric_rank("test_loss")) == "○"
    assert plotting.order_metrics(["test_loss_train_mode", "test_loss", "train_loss"]) == [
        "train_loss",
        "test_loss",
        "test_loss_train_mode",
    ]


def test_log_scale_only_when_values_span_decades():
    assert plotting.wants_log([1.0, 0.5, 1e-4])
    assert not plotting.wants_log([1.0, 0.5, 0.2])
    assert not plotting.wants_log([float("nan"), 0.0, -1.0, 1.0])
    ticks, labels = plotting.log_ticks([math.log10(3e-4), math.log10(0.7)])
    # Whole decades inside the values (the axis is not stretched to the next one).
    assert ticks == [-3.0, -2.0, -1.0] and labels == ["1e-3", "0.01", "0.1"]


def test_linear_ticks_are_round():
    assert plotting.linear_ticks([0, 2000])[1] == ["0", "500", "1000", "1500", "2000"]
    assert plotting.linear_ticks([-1, 1])[1] == ["-1", "-0.5", "0", "0.5", "1"]
    assert plotting.linear_ticks([]) == ([], [])


def test_sweep_axis_puts_zero_a_decade_below_on_a_log_axis():
    positions, ticks, labels, log = plotting.sweep_axis([0, 1e-4, 1e-3, 1e-2, 0.1])
    assert log
    assert positions == [-5.0, -4.0, -3.0, -2.0, -1.0]
    assert labels[0] == "0" and ticks[0] == -5.0
    positions, _, labels, log = plotting.sweep_axis([0.1, 0.2, 0.5])
    assert not log and positions == [0.1, 0.2, 0.5] and labels == ["0.1", "0.2", "0.5"]


def test_non_finite_points_are_dropped():
    xs, ys = plotting.finite_pairs([1, 2, 3, 4], [1.0, float("nan"), float("inf"), 0.0], positive=True)
    assert xs == [1.0] and ys == [1.0]


def test_formats():
    assert fmt(None) == "—"
    assert fmt(float("nan")) == "nan"
    assert fmt(0.000123456) == "0.0001235"
    assert fmt([1, 2.5]) == "[1, 2.5]"
    assert plotting.metric_label("test_loss_train_mode") == "test (train mode)"
