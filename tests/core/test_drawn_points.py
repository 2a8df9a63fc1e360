"""What a chart draws of a long run (``Collector.snapshot(max_points)``): a bounded number of points
that keeps every series' shape, a sparse one included. A tracked loop that logs its train loss every
step and evaluates every 200 steps lost most test points while followed live (a trial): a stride over
all rows kept only the evaluations that fell on it."""

from __future__ import annotations

import math

import regtui
from regtui.events import Metrics, RunSpec, RunStarted
from regtui.report import Collector

MAX_POINTS = 500
N = 7_000  # the rows a stride over all rows keeps miss most evaluations at this length


def drawn(collector: Collector, name: str) -> dict[str, list]:
    (record,) = [r for r in collector.snapshot(MAX_POINTS).records if r["name"] == name]
    return record["series"]


def finite_points(series: dict[str, list], key: str) -> list[tuple[int, float]]:
    return [(s, v) for s, v in zip(series["step"], series[key]) if isinstance(v, float) and math.isfinite(v)]


def test_a_tracked_loops_evaluations_are_all_drawn_beside_its_every_step_loss():
    with regtui.track("loop", log_every=10**9) as run:  # no model: scalars only
        for step in range(N):
            run.log(step, train_loss=1 / (step + 1))
            if step % 200 == 0:
                run.evaluate(step, lambda s=step: {"test_loss": 2 / (s + 1)})
    series = drawn(run.collector, "loop")
    assert finite_points(series, "test_loss") == [(s, 2 / (s + 1)) for s in range(0, N, 200)]
    train = finite_points(series, "train_loss")
    assert train[0] == (0, 1.0) and train[-1] == (N - 1, 1 / N)  # its first and last
    assert len(train) <= 2 * MAX_POINTS and all(v == 1 / (s + 1) for s, v in train)
    assert len(series["step"]) <= 3 * MAX_POINTS  # bounded: what a redraw costs


def test_at_any_length_while_it_runs_the_evaluations_so_far_are_drawn():
    c = Collector()
    c(RunStarted("s", "track", "T", "cpu", 0, "2.x", {}, (RunSpec("loop", 0, {}),), 1, None))
    for step in range(6_000):
        c(Metrics("loop", 0, (step,), {"train_loss": (1.0,)}))
        if step % 200 == 0:
            c(Metrics("loop", 0, (step,), {"test_loss": (float(step),)}))
        if step in (1_234, 2_174, 4_321, 5_999):  # frames of a live follow
            assert [s for s, _ in finite_points(drawn(c, "loop"), "test_loss")] == list(range(0, step + 1, 200))


def test_a_run_whose_series_share_every_row_is_drawn_by_a_plain_stride():
    c = Collector()
    c(RunStarted("s", "track", "T", "cpu", 0, "2.x", {}, (RunSpec("a", 0, {}),), 1, None))
    c(Metrics("a", 0, tuple(range(10_000)), {"x": tuple(map(float, range(10_000))), "y": (0.5,) * 10_000}))
    series = drawn(c, "a")
    assert series["step"] == [*range(0, 10_000, 20), 9999] and series["x"] == list(map(float, series["step"]))


def test_over_seeds_the_drawn_rows_are_the_same_rows_of_each_seed_so_means_align():
    c = Collector()
    runs = (RunSpec("loop", 0, {}), RunSpec("loop", 1, {}))
    c(RunStarted("s", "track", "T", "cpu", 0, "2.x", {}, runs, 2, None))
    for seed, offset in ((0, 0.0), (1, 2.0)):
        for step in range(N):
            c(Metrics("loop", seed, (step,), {"train_loss": (1.0 + offset,)}))
            if step % 200 == 0:
                c(Metrics("loop", seed, (step,), {"test_loss": (float(step) + offset,)}))
    series = drawn(c, "loop")
    tests = finite_points(series, "test_loss")
    assert tests == [(s, s + 1.0) for s in range(0, N, 200)]  # the mean of step and step + 2, at each step
    assert {v for _, v in finite_points(series, "train_loss")} == {2.0}
