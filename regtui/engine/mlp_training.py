"""The training loop of the weight-decay and dropout experiments: every run of a plan as stacked MLPs.

Read it top to bottom: settings, data, one stack of models, what gets logged,
then the loop itself (:func:`run_mlp_plan`). The model kernel is
:class:`~regtui.engine.stacked.StackedMLP`.

Data (:func:`make_data`): ``x = linspace(-1, 1, n_points)`` for train and test;
``y = slope·x + noise·ε`` with standard normal ε drawn on the CPU from a
generator seeded with ``seed + DATA_SEED_OFFSET`` (train ε first, then test ε).
Variants at the same seed therefore share data and init, which isolates the
hyperparameter being compared.

Runs sharing hidden/layers/n_points/iters form one group, trained together.
Each stack of a group gets its own dropout generator, seeded with
``plan.seed + k`` for the group's k-th stack, so a model's masks (unlike its
init and data) depend on the other models trained beside it. On the CPU a
group larger than :func:`~regtui.engine.stacking.stack_limit` (8) models is
split into stacks of at most 8 that take turns, one chunk of steps each: the
working set of 32 stacked tutorial nets (≈31 MB of parameters, gradients and
momentum) does not stay in cache, and per model a step then costs ~1.7x more.
With ``ctx.jobs`` > 1 (the CLI's ``--jobs``), up to that many stacks run their
chunk concurrently in worker threads (each with one intra-op thread; torch
releases the GIL inside its ops): about 1.5x more model-steps/s on 2 cores.

Metrics (steps are numbered 1..iters; step ``k`` is the k-th SGD update):

* ``train_loss[k]``: the MSE of the training-mode forward whose gradient
  drives update k (dropout active), i.e. the loss the tutorial prints.
* ``test_loss[k]``: MSE on the test targets in eval mode (no dropout), with
  the same weights as ``train_loss[k]`` (before update k).
* ``test_loss_train_mode[k]`` (dropout experiment only): MSE on the test
  targets in training mode — the "forgot ``net.eval()``" pitfall. Since the
  test inputs equal the training inputs, it is computed from the training
  forward of step k (same dropout draw).

Final values per model (``Final`` event): ``train_loss``, ``test_loss`` (and
``test_loss_train_mode``) are the last points of those series (step =
iters, weights before the last update), so the table agrees with the end of
the loss chart; ``weight_norm`` is the L2 norm over all parameters, weights and
biases (what weight decay acts on), after the last update; ``diverged`` is
True when any recorded loss or the final weight norm is non-finite;
``first_nonfinite_step`` is the first step whose train loss is inf/NaN (None
if none). Non-finite floats are emitted as float nan/inf. Unlike a model trained
alone, a diverged model is not stopped: it trains on inside its stack to the last
step (its series read NaN from there), so every model's series has ``iters`` points.

Other events: ``Summary("data")`` holds x and the train/test targets of the
first run at ``plan.seed``; ``Curve(name="fit")`` is each model's eval-mode
prediction on 200 points over [−1, 1], emitted before training, about every
iters/10 steps (at chunk ends) and after the last update; ``Metrics`` come
per model every ``CHUNK`` steps, followed by ``Progress(step, total)`` in
model-steps (each model's steps, summed: a stack of M models taking a step
counts M), as the other experiments count.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from regtui.engine.context import Context
from regtui.engine.data import line_data
from regtui.engine.loop import StepFn, Tally, first_nonfinite, train_in_chunks
from regtui.engine.stacked import StackedMLP, mse
from regtui.engine.stacking import cut, group_runs, stack_limit
from regtui.events import Curve, Final, Metrics, RunSpec, Summary
from regtui.scenario import Plan

__all__ = ["CHUNK", "DATA_SEED_OFFSET", "GRID_POINTS", "MLPData", "make_data", "run_mlp_plan", "units"]

# --- settings --------------------------------------------------------------------------------

DATA_SEED_OFFSET = 1 << 32  # data generator seed = seed + this (init uses the seed itself)
CHUNK = 25  # steps between device→host transfers of the per-step losses
GRID_POINTS = 200  # x points of the fitted-curve events
CURVES = 10  # fitted curves emitted during training (plus one before and one at the end)
GROUP_KEYS = ("hidden", "layers", "n_points", "iters")  # runs equal in these train as one group


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MLPData:
    x: torch.Tensor  # [n] train and test inputs (the same points)
    train_y: torch.Tensor  # [n]
    test_y: torch.Tensor  # [n]


def make_data(
    seed: int,
    n_points: int,
    slope: float,
    train_noise: float,
    test_noise: float,
    dtype: torch.dtype = torch.float32,
) -> MLPData:
    """The tutorial's data at ``seed``: y = slope·x + N(0, noise²), drawn on the CPU."""
    gen = torch.Generator().manual_seed(seed + DATA_SEED_OFFSET)
    x, train_y, test_y = (t.view(-1).to(dtype) for t in line_data(n_points, slope, train_noise, test_noise, gen))
    return MLPData(x, train_y, test_y)


# --- model: one stack of runs with its data ----------------------------------------------------


class _Stack:
    """Up to :func:`stack_limit` runs of a group as one StackedMLP, with their data and a chunk's loss record."""

    def __init__(
        self, runs: list[RunSpec], device: torch.device, generator: torch.Generator, train_mode_metric: bool
    ) -> None:
        p0 = runs[0].params
        n = p0["n_points"]
        self.runs = runs
        self.stack = stack = StackedMLP.from_seeds(
            [r.seed for r in runs],
            p0["hidden"],
            p0["layers"],
            lr=[r.params["lr"] for r in runs],
            momentum=[r.params["momentum"] for r in runs],
            weight_decay=[r.params["weight_decay"] for r in runs],
            dropout=[r.params["dropout"] for r in runs],
            device=device,
            generator=generator,
        )
        data = [make_data(r.seed, n, r.params["slope"], r.params["train_noise"], r.params["test_noise"]) for r in runs]
        self.x = stack.inputs(data[0].x)
        self.train_y = torch.stack([d.train_y for d in data]).view(stack.m, n, 1).to(device)
        self.test_y = torch.stack([d.test_y for d in data]).view(stack.m, n, 1).to(device)
        self.train_mode_metric = train_mode_metric
        n_metrics = 3 if train_mode_metric else 2
        # [step of the chunk, metric, model]: losses stay on the device until the chunk ends.
        self.record = torch.empty(CHUNK, n_metrics, stack.m, dtype=stack.dtype, device=device)

    def chunk(self, start: int, n: int) -> StepFn:
        """The loop's lane: the chunk's i-th step records its losses in row i."""
        return lambda i: self.step(self.record[i])

    def step(self, row: torch.Tensor) -> None:
        """One training step; writes [train_loss, test_loss(, test_loss_train_mode)] into ``row``."""
        stack = self.stack
        train_mode_metric = self.train_mode_metric
        pred = stack.forward_train(self.x)
        if stack.has_dropout:
            if train_mode_metric:  # test inputs = train inputs: the training forward is the train-mode test forward
                mse(pred, self.test_y, out=row[2])
            mse(stack.forward(self.x), self.test_y, out=row[1])
        else:  # no dropout: the eval-mode output on x is the training output
            mse(pred, self.test_y, out=row[1])
            if train_mode_metric:
                row[2].copy_(row[1])
        stack.mse_backward(pred, self.train_y, loss_out=row[0])
        stack.sgd_step()


def _generator(device: torch.device, seed: int) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


# --- logging: fitted curves, per-chunk metrics, finals -------------------------------------------


def _emit_curves(ctx: Context, stacks: list[_Stack], grids: list[torch.Tensor], grid_x: tuple[float, ...]) -> None:
    """Each model's eval-mode fit on the grid."""
    for s, grid in zip(stacks, grids):
        ys = s.stack.forward(grid).squeeze(2).tolist()
        for r, y in zip(s.runs, ys):
            ctx.emit(Curve(r.variant, r.seed, "fit", grid_x, tuple(y)))


class _Log:
    """What the Final events need from the whole run, gathered chunk by chunk (runs in stack order)."""

    def __init__(self, n_runs: int, names: list[str]) -> None:
        self.names = names
        self.first_bad: list[int | None] = [None] * n_runs  # first step with a non-finite train loss
        self.bad_any = [False] * n_runs  # any non-finite value in any series
        self.last: list[list[float]] = [[math.nan] * n_runs for _ in names]  # [metric][run]

    def flush(self, ctx: Context, stacks: list[_Stack], start: int, n: int) -> None:
        """Move one chunk of losses to the host (one sync per stack) and emit Metrics per model."""
        steps = tuple(range(start + 1, start + n + 1))
        i = 0
        for s in stacks:
            values = s.record[:n].tolist()  # [n][metric][model]
            for k_model, r in enumerate(s.runs):
                series = {name: tuple(values[t][k][k_model] for t in range(n)) for k, name in enumerate(self.names)}
                if self.first_bad[i] is None:
                    bad = first_nonfinite(series["train_loss"])
                    if bad is not None:
                        self.first_bad[i] = start + 1 + bad
                if not self.bad_any[i] and not all(math.isfinite(v) for seq in series.values() for v in seq):
                    self.bad_any[i] = True
                for k, name in enumerate(self.names):
                    self.last[k][i] = series[name][-1]
                ctx.emit(Metrics(r.variant, r.seed, steps, series))
                i += 1

    def finals(self, ctx: Context, stacks: list[_Stack]) -> None:
        norms = [v for s in stacks for v in s.stack.weight_norm().tolist()]
        runs = [r for s in stacks for r in s.runs]
        for i, r in enumerate(runs):
            values: dict[str, Any] = {name: self.last[k][i] for k, name in enumerate(self.names)}
            values["weight_norm"] = norms[i]
            values["diverged"] = self.bad_any[i] or self.first_bad[i] is not None or not math.isfinite(norms[i])
            values["first_nonfinite_step"] = self.first_bad[i]
            ctx.emit(Final(r.variant, r.seed, values))


# --- workers -----------------------------------------------------------------------------------


def _worker_setup() -> None:
    # Flushing subnormals is per-thread CPU state: set it in each worker as run_plan does.
    torch.set_flush_denormal(True)


@contextmanager
def _workers(jobs: int) -> Iterator[ThreadPoolExecutor | None]:
    """A pool of ``jobs`` threads, or None for one job; on exit, queued work is dropped."""
    if jobs <= 1:
        yield None
        return
    pool = ThreadPoolExecutor(jobs, initializer=_worker_setup)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --- the loop ------------------------------------------------------------------------------------


def _groups(runs: tuple[RunSpec, ...]) -> list[list[int]]:
    """Run indices of the plan's groups (runs equal in :data:`GROUP_KEYS` train together)."""
    return group_runs([tuple(r.params[k] for k in GROUP_KEYS) for r in runs])


def _group_stacks(group: list[int], device: torch.device) -> list[list[int]]:
    """A group's stacks, filled in plan order (see :mod:`regtui.engine.stacking`)."""
    return cut(group, stack_limit(device), balanced=False)


def units(plan: Plan, device: torch.device) -> list[list[int]]:
    """The plan's stacks as run indices, group after group: the units a Ray task trains (one each).

    A stack's numbers depend only on its runs and its place in its group (the dropout
    generator's seed), so a process that trains some of them gives them the numbers they
    have when one process trains them all.
    """
    return [stack for group in _groups(plan.runs) for stack in _group_stacks(group, device)]


def run_mlp_plan(plan: Plan, ctx: Context, *, train_mode_metric: bool = False) -> None:
    """Train every run of ``plan`` (or the units of ``ctx.part``) and emit events (see the module docstring).

    ``train_mode_metric`` adds the "test_loss_train_mode" series and final value (dropout experiment).
    """
    runs = plan.runs
    groups = _groups(runs)
    total = sum(runs[group[0]].params["iters"] * len(group) for group in groups)  # model-steps, the whole plan's

    if ctx.lead:
        shown = next((r for r in runs if r.seed == plan.seed), runs[0])
        p = shown.params
        data = make_data(shown.seed, p["n_points"], p["slope"], p["train_noise"], p["test_noise"])
        xs = data.x.tolist()
        ctx.emit(
            Summary(
                "data",
                {
                    "train": {"x": xs, "y": data.train_y.tolist()},
                    "test": {"x": xs, "y": data.test_y.tolist()},
                },
            )
        )
    tally = Tally(ctx, total)
    tally.add(0)
    unit = 0
    for group in groups:
        stacks = []  # (its place in the group, its runs) of the stacks this process trains
        for k, stack in enumerate(_group_stacks(group, ctx.device)):
            if ctx.trains(unit):
                stacks.append((k, [runs[i] for i in stack]))
            unit += 1
        if stacks:
            _train_group(ctx, stacks, plan.seed, train_mode_metric, tally)


def _train_group(
    ctx: Context,
    parts: list[tuple[int, list[RunSpec]]],
    dropout_seed: int,
    train_mode_metric: bool,
    tally: Tally,
) -> None:
    """Train stacks of one group chunk by chunk (taking turns or running concurrently) and emit their events.

    ``parts``: each stack's place k in its group and its runs; its dropout generator is seeded with
    ``dropout_seed + k``, so stacks can train concurrently, or in other processes, and stay reproducible.
    """
    runs = [r for _, part in parts for r in part]
    iters = runs[0].params["iters"]
    names = ["train_loss", "test_loss"] + (["test_loss_train_mode"] if train_mode_metric else [])
    device = ctx.device
    stacks = [_Stack(part, device, _generator(device, dropout_seed + k), train_mode_metric) for k, part in parts]
    log = _Log(len(runs), names)
    grid_x = torch.linspace(-1, 1, GRID_POINTS)
    grid_list = tuple(grid_x.tolist())
    grids = [s.stack.inputs(grid_x) for s in stacks]

    _emit_curves(ctx, stacks, grids, grid_list)
    curve_every = max(1, iters // CURVES)
    next_curve = curve_every

    def end(start: int, n: int) -> int:
        """The chunk's Metrics and, about every iters/10 steps, the fitted curves; no model stops (stacks train on)."""
        nonlocal next_curve
        log.flush(ctx, stacks, start, n)
        step = start + n
        if next_curve <= step < iters:
            _emit_curves(ctx, stacks, grids, grid_list)
            while next_curve <= step:
                next_curve += curve_every
        return 0

    with _workers(min(ctx.jobs, len(stacks))) as pool:
        train_in_chunks(ctx, iters, CHUNK, [s.chunk for s in stacks], end, tally, models=len(runs), pool=pool)
    _emit_curves(ctx, stacks, grids, grid_list)
    log.finals(ctx, stacks)
