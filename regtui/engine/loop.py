"""The one chunked training loop: every engine trains through :func:`train_in_chunks`.

Modelled on pytorch-ignite's ``Engine`` with ``Events.ITERATION_COMPLETED(every=n)``, kept
small: the loop counts steps, checks the cancel flag and calls the engine's two handlers;
the engines say what a step and the end of a chunk do. One chunk, top to bottom:

1. every *lane* (one model, or one stack of models) trains the chunk's steps: ``lane(start,
   n)`` prepares the chunk (draws its mini-batches) and returns the function that trains
   its i-th step; ``ctx.check()`` runs before every step, so a cancel stops a run within one
   step. Several lanes (the stacks of one group) take turns, a chunk each, or train at once
   in a thread pool;
2. ``end(start, n)`` moves what the chunk recorded to the host and emits the chunk's events:
   one transfer per chunk, so the device is not synced every step. It returns how many
   models stopped: divergence is a result, not an error, and a model whose loss turned
   inf/NaN stops at the end of that chunk (its weights are NaN from then on);
3. the progress :class:`Tally` counts the chunk's model-steps, and the steps the stopped
   models skip as done.

The loop ends after the last step or when no model is left. :func:`train_series` is the
loop for one model that records per-step series (most lessons); :func:`run_each` trains a
plan's runs one after another.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch

from regtui.engine.context import Context
from regtui.events import Metrics, RunSpec
from regtui.scenario import Plan

__all__ = [
    "CHUNK",
    "Lane",
    "Series",
    "SeriesLane",
    "StepFn",
    "Tally",
    "first_nonfinite",
    "floats",
    "run_each",
    "train_in_chunks",
    "train_series",
]

CHUNK = 10  # steps per Metrics event of train_series (one host transfer per chunk)

StepFn = Callable[[int], None]
"""``step(i)`` trains the chunk's i-th step (0-based)."""

Lane = Callable[[int, int], StepFn]
"""``lane(start, n)`` prepares the chunk of steps ``start + 1 .. start + n`` and returns its :data:`StepFn`."""


@dataclass
class Tally:
    """The progress bar's counter of a whole plan: steps done of ``total``, shared by its runs."""

    ctx: Context
    total: int
    done: int = 0

    def add(self, n: int, phase: str = "train") -> None:
        self.done += n
        self.ctx.progress(self.done, self.total, phase)


def train_in_chunks(
    ctx: Context,
    steps: int,
    size: int,
    lanes: Sequence[Lane],
    end: Callable[[int, int], int],
    tally: Tally,
    *,
    models: int = 1,
    pool: ThreadPoolExecutor | None = None,
) -> int:
    """Train steps ``1 .. steps`` in chunks of at most ``size`` (see the module docstring); returns the steps trained.

    ``models`` is how many models the lanes train together (the progress counts model-steps);
    ``end(start, n)`` returns how many of them stopped in that chunk.
    """
    start, active = 0, models
    while start < steps and active > 0:
        n = min(size, steps - start)
        _train_chunk(ctx, lanes, start, n, pool)
        start += n
        stopped = end(start - n, n)
        tally.add(n * active + stopped * (steps - start))
        active -= stopped
    return start


def _train_chunk(ctx: Context, lanes: Sequence[Lane], start: int, n: int, pool: ThreadPoolExecutor | None) -> None:
    """Each lane trains the whole chunk while its working set is in cache; with a pool, the
    lanes run concurrently (torch ops release the GIL)."""

    def train(lane: Lane) -> None:
        step = lane(start, n)
        for i in range(n):
            ctx.check()
            step(i)

    if pool is None:
        for lane in lanes:
            train(lane)
        return
    for future in [pool.submit(train, lane) for lane in lanes]:
        future.result()  # re-raises Cancelled (or an error) from a worker


# --- one model with per-step series -------------------------------------------------------------

SeriesStep = Callable[[int], dict[str, torch.Tensor]]
"""``step(i)`` trains the chunk's i-th step and returns its values as 0-d tensors; ``train_loss`` is required."""

SeriesLane = Callable[[int, int], SeriesStep]
"""Like :data:`Lane`, for a step that returns its values."""


def floats(t: torch.Tensor) -> tuple[float, ...]:
    """A 1-d tensor as a tuple of Python floats (one host transfer)."""
    return tuple(float(x) for x in t.detach().to("cpu", torch.float64).tolist())


def first_nonfinite(values: Sequence[float]) -> int | None:
    """Index of the first non-finite value, or None."""
    for i, v in enumerate(values):
        if not math.isfinite(v):
            return i
    return None


class Series:
    """One model's per-step values, kept on the device until the chunk ends, then one ``Metrics`` event."""

    def __init__(self, ctx: Context, run: RunSpec) -> None:
        self.ctx, self.run = ctx, run
        self.rows: list[dict[str, torch.Tensor]] = []  # the current chunk's steps
        self.losses: list[float] = []  # the train loss of every step trained, in order
        self.first_nonfinite_step: int | None = None  # 1-based step of the first inf/NaN train loss

    def record(self, values: dict[str, torch.Tensor]) -> None:
        self.rows.append({k: v.detach() for k, v in values.items()})

    def end_chunk(self, start: int, n: int) -> int:
        """Emit the chunk's series (one transfer each); 1 if its train loss turned non-finite (the model stops)."""
        rows, self.rows = self.rows, []
        values = {k: floats(torch.stack([r[k] for r in rows])) for k in rows[0]}
        self.losses.extend(values["train_loss"])
        self.ctx.emit(Metrics(self.run.variant, self.run.seed, tuple(range(start + 1, start + n + 1)), values))
        bad = first_nonfinite(values["train_loss"])
        if bad is None:
            return 0
        self.first_nonfinite_step = start + 1 + bad
        return 1

    @property
    def train_loss(self) -> float | None:
        """The mean of the last :data:`CHUNK` losses; NaN once diverged; None without steps."""
        if self.first_nonfinite_step is not None:
            return math.nan
        tail = self.losses[-CHUNK:]
        return sum(tail) / len(tail) if tail else None


def train_series(ctx: Context, run: RunSpec, steps: int, lane: SeriesLane, tally: Tally) -> Series:
    """Train one model ``steps`` steps in chunks of :data:`CHUNK`, one ``Metrics`` event (every series) per chunk."""
    series = Series(ctx, run)

    def recorded(start: int, n: int) -> StepFn:
        step = lane(start, n)
        return lambda i: series.record(step(i))

    train_in_chunks(ctx, steps, CHUNK, [recorded], series.end_chunk, tally)
    return series


def run_each(
    plan: Plan, ctx: Context, run_one: Callable[[RunSpec, Context, Tally], None], steps_key: str = "steps"
) -> None:
    """Train the plan's runs one after another, ``run_one(run, ctx, tally)`` each, on one progress tally."""
    tally = Tally(ctx, sum(r.params[steps_key] for r in plan.runs))
    tally.add(0)
    for r in plan.runs:
        run_one(r, ctx, tally)
