"""The chunked step loop of experiments that train one model per run (bn, norms), and its small helpers.

Per-step losses stay on the device for ``CHUNK`` steps and then reach the host
in one transfer, as one ``Metrics("train_loss")`` event, so the device is not
synced every step. Divergence is a result, not an error: a run whose loss turns
inf/NaN stops at the end of that chunk (its weights are NaN from then on, so
more steps would only cost time), and the steps it skips still count as done
for the progress bar.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from regtui.engine.context import Context
from regtui.events import Metrics, RunSpec
from regtui.scenario import Plan

__all__ = ["CHUNK", "StepFn", "Trained", "first_nonfinite", "floats", "train_in_chunks"]

CHUNK = 10  # steps per Metrics event (one host transfer per chunk)

StepFn = Callable[[int], torch.Tensor]
"""``step(i)`` trains the chunk's i-th step (0-based) and returns its loss (a 0-d tensor)."""


def floats(t: torch.Tensor) -> tuple[float, ...]:
    """A 1-d tensor as a tuple of Python floats (one host transfer)."""
    return tuple(float(x) for x in t.detach().to("cpu", torch.float64).tolist())


def first_nonfinite(values: Sequence[float]) -> int | None:
    """Index of the first non-finite value, or None."""
    for i, v in enumerate(values):
        if not math.isfinite(v):
            return i
    return None


# The Running-stats view's table: one row per (model, step, BatchNorm layer, feature).
RUNNING_COLUMNS = (
    "variant",
    "seed",
    "step",
    "layer",
    "feature",
    "running_mean",
    "running_var",
    "batch_mean",
    "batch_var",
)


@dataclass(frozen=True)
class Trained:
    """What :func:`train_in_chunks` leaves for the run's ``Final`` event."""

    losses: list[float]  # the loss of every step trained, in order
    first_nonfinite_step: int | None  # 1-based step of the first inf/NaN loss; None if none
    train_loss: float | None  # mean of the last CHUNK losses; nan once diverged; None without steps
    done: int  # the progress counter after this run (skipped steps included)


def train_in_chunks(
    ctx: Context, run: RunSpec, steps: int, chunk: Callable[[int, int], StepFn], done: int, total: int
) -> Trained:
    """Train ``steps`` steps of ``run`` in chunks of at most :data:`CHUNK`.

    ``chunk(start, n)`` is called before each chunk of steps ``start + 1 .. start + n``
    (draw its mini-batches there) and returns the chunk's :data:`StepFn`. Before every
    step ``ctx.check()`` runs; after every chunk come its ``Metrics`` and
    ``ctx.progress(done, total, "train")``, ``done`` counting from the value given.
    """
    losses: list[float] = []
    step = 0
    while step < steps:
        n = min(CHUNK, steps - step)
        train_step = chunk(step, n)
        buf = torch.empty(n, device=ctx.device)
        for i in range(n):
            ctx.check()
            buf[i] = train_step(i).detach()
        step += n
        values = floats(buf)
        losses.extend(values)
        ctx.emit(Metrics(run.variant, run.seed, tuple(range(step - n + 1, step + 1)), {"train_loss": values}))
        done += n
        ctx.progress(done, total, "train")
        bad = first_nonfinite(values)
        if bad is not None:
            done += steps - step  # the rest of this run is skipped: its weights are NaN now
            ctx.progress(done, total, "train")
            return Trained(losses, step - n + 1 + bad, math.nan, done)
    tail = losses[-CHUNK:]
    return Trained(losses, None, sum(tail) / len(tail) if tail else None, done)


def run_each(
    plan: Plan, ctx: Context, run_one: Callable[[RunSpec, Context, int, int], int], steps_key: str = "steps"
) -> None:
    """Run the plan's models one after another; ``run_one(run, ctx, done, total)`` returns the new ``done``."""
    total = sum(r.params[steps_key] for r in plan.runs)
    ctx.progress(0, total, "train")
    done = 0
    for r in plan.runs:
        done = run_one(r, ctx, done, total)
