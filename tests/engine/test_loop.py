"""The one chunked training loop (regtui.engine.loop) against hand-computed expectations."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from regtui.engine.context import Cancelled, Context
from regtui.engine.loop import CHUNK, Tally, first_nonfinite, floats, train_in_chunks, train_series
from regtui.events import Metrics, Progress, RunSpec

RUN = RunSpec("v", 7, {})


def fake_training(losses: dict[int, float], cancel_after: int | None = None):
    """A series lane whose step k (1-based) returns ``losses.get(k, k)``; records what was called."""
    calls: list[tuple[int, int]] = []
    trained_steps: list[int] = []
    cancel = threading.Event()

    def lane(start, n):
        calls.append((start, n))

        def step(i):
            k = start + i + 1
            trained_steps.append(k)
            if cancel_after is not None and k == cancel_after:
                cancel.set()
            return {"train_loss": torch.tensor(losses.get(k, float(k)))}

        return step

    return lane, calls, trained_steps, cancel


def run_series(steps, losses=None, done=0, total=100, cancel_after=None):
    events = []
    lane, calls, trained, cancel = fake_training(losses or {}, cancel_after)
    ctx = Context(torch.device("cpu"), events.append, cancel)
    tally = Tally(ctx, total, done)
    series = train_series(ctx, RUN, steps, lane, tally)
    return series, tally, events, calls, trained


def test_chunk_size_is_ten():
    assert CHUNK == 10  # the expectations below are written for it


def test_finite_run_emits_every_chunk_with_its_steps():
    series, tally, events, calls, trained = run_series(25, done=3, total=40)
    assert calls == [(0, 10), (10, 10), (20, 5)]
    assert trained == list(range(1, 26))
    metrics = [e for e in events if isinstance(e, Metrics)]
    assert [m.step for m in metrics] == [tuple(range(1, 11)), tuple(range(11, 21)), (21, 22, 23, 24, 25)]
    assert [m.values["train_loss"] for m in metrics] == [
        tuple(float(k) for k in range(1, 11)),
        tuple(float(k) for k in range(11, 21)),
        (21.0, 22.0, 23.0, 24.0, 25.0),
    ]
    assert all(m.variant == "v" and m.seed == 7 and set(m.values) == {"train_loss"} for m in metrics)
    # Metrics first, then progress, chunk by chunk; done counts on from 3.
    assert [(type(e).__name__, e.step) for e in events] == [
        ("Metrics", metrics[0].step),
        ("Progress", 13),
        ("Metrics", metrics[1].step),
        ("Progress", 23),
        ("Metrics", metrics[2].step),
        ("Progress", 28),
    ]
    assert all(e.total == 40 and e.phase == "train" for e in events if isinstance(e, Progress))
    # train_loss: mean of the last 10 losses, 16..25 -> 20.5 (they span two chunks).
    assert series.losses == [float(k) for k in range(1, 26)]
    assert series.first_nonfinite_step is None and series.train_loss == 20.5 and tally.done == 28


def test_stops_at_the_end_of_the_chunk_with_the_first_nonfinite_loss():
    series, tally, events, calls, trained = run_series(45, losses={13: math.inf, 14: math.nan, 25: math.nan}, total=45)
    assert calls == [(0, 10), (10, 10)]  # chunk 3 never starts
    assert trained == list(range(1, 21))  # the diverging chunk is finished
    metrics = [e for e in events if isinstance(e, Metrics)]
    assert [m.step for m in metrics] == [tuple(range(1, 11)), tuple(range(11, 21))]
    second = metrics[1].values["train_loss"]
    assert second[:2] == (11.0, 12.0) and second[2] == math.inf and math.isnan(second[3])
    assert second[4:] == (15.0, 16.0, 17.0, 18.0, 19.0, 20.0)
    # Progress: 10, then 20 trained plus the 25 skipped steps counted as done.
    assert [e.step for e in events if isinstance(e, Progress)] == [10, 45]
    assert series.first_nonfinite_step == 13
    assert math.isnan(series.train_loss)
    assert tally.done == 45
    assert len(series.losses) == 20


def test_nonfinite_in_the_last_step_of_a_chunk():
    series, tally, _, calls, _ = run_series(30, losses={10: math.nan})
    assert calls == [(0, 10)]
    assert series.first_nonfinite_step == 10 and tally.done == 30


def test_no_steps():
    series, tally, events, calls, _ = run_series(0, done=4)
    assert events == [] and calls == []
    assert series.losses == [] and series.first_nonfinite_step is None and series.train_loss is None
    assert tally.done == 4


def test_checks_for_cancel_before_every_step():
    events = []
    lane, _, trained, cancel = fake_training({}, cancel_after=12)
    ctx = Context(torch.device("cpu"), events.append, cancel)
    with pytest.raises(Cancelled):
        train_series(ctx, RUN, 30, lane, Tally(ctx, 30))
    assert trained == list(range(1, 13))  # step 13 never ran
    assert [e.step for e in events if isinstance(e, Metrics)] == [tuple(range(1, 11))]


def test_progress_counts_model_steps_and_the_loop_ends_when_no_model_is_left():
    """Three models trained together: one stops in chunk 1, the other two in chunk 2."""
    events = []
    ctx = Context(torch.device("cpu"), events.append)
    ends = []
    stopped = iter([1, 2, 0])

    def end(start, n):
        ends.append((start, n))
        return next(stopped)

    trained = train_in_chunks(ctx, 30, 10, [lambda start, n: lambda i: None], end, Tally(ctx, 90), models=3)
    assert trained == 20 and ends == [(0, 10), (10, 10)]
    # chunk 1: 3 models x 10 steps + the stopped model's 20 skipped; chunk 2: 2 x 10 + 2 x 10 skipped.
    assert [e.step for e in events if isinstance(e, Progress)] == [50, 90]


def test_lanes_take_turns_a_whole_chunk_each_or_run_at_once_in_a_pool():
    def lanes(log):
        def lane(name):
            return lambda start, n: lambda i: log.append((name, start + i + 1))

        return [lane("a"), lane("b")]

    ctx = Context(torch.device("cpu"), lambda e: None)
    serial: list[tuple[str, int]] = []
    train_in_chunks(ctx, 5, 3, lanes(serial), lambda start, n: 0, Tally(ctx, 5))
    assert serial == [
        ("a", 1),
        ("a", 2),
        ("a", 3),
        ("b", 1),
        ("b", 2),
        ("b", 3),
        ("a", 4),
        ("a", 5),
        ("b", 4),
        ("b", 5),
    ]
    pooled: list[tuple[str, int]] = []
    with ThreadPoolExecutor(2) as pool:
        train_in_chunks(ctx, 5, 3, lanes(pooled), lambda start, n: 0, Tally(ctx, 5), pool=pool)
    assert sorted(pooled) == sorted(serial)


def test_helpers():
    assert floats(torch.tensor([1.5, -2.0], dtype=torch.float32)) == (1.5, -2.0)
    assert first_nonfinite([1.0, 2.0]) is None
    assert first_nonfinite([1.0, math.inf, math.nan]) == 1
    assert first_nonfinite([]) is None
