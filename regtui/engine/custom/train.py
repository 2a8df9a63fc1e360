"""Train your own model on your own data (the ``train`` kind), with the same live views as the lessons.

:func:`run` plans the units of the plan's runs (:func:`.stackable.plan_stacks`): each unit is a
stack of runs trained together (:class:`.batched.Stack`) or a run trained alone
(:meth:`.model_run.ModelRun.train`). What a run computes and emits is described in
:mod:`.model_run`. ``Summary("model")``: the layers with their output shapes and parameter
counts, and the data; ``Summary("stacking")``: how each run trained (its stack, or why alone).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from regtui.engine.context import Context
from regtui.engine.custom import checkpoint, speed, stackable
from regtui.engine.custom import data as data_mod
from regtui.engine.custom.batched import Stack
from regtui.engine.custom.model_run import ModelRun
from regtui.engine.loop import Tally
from regtui.events import RunSpec, Summary
from regtui.scenario import Plan
from regtui.specs import ConfigError

__all__ = ["describe", "run"]


def describe(model: nn.Module, observed: list[tuple[str, nn.Module]], data: data_mod.Data) -> dict[str, Any]:
    """Summary("model"): the observed layers with their output shapes and parameters, and the data."""
    shapes: dict[str, list[int]] = {}
    handles = [
        m.register_forward_hook(
            lambda mod, inp, out, name=name: shapes.__setitem__(
                name, list(out.shape[1:]) if isinstance(out, torch.Tensor) else []
            )
        )
        for name, m in observed
    ]
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            p = next(model.parameters(), None)
            model(torch.zeros(2, *data.input_shape, device=p.device if p is not None else "cpu"))
    finally:
        for h in handles:
            h.remove()
        model.train(was)
    return {
        "layers": [
            {
                "name": n,
                "module": type(m).__name__,
                "output_shape": shapes.get(n),
                "parameters": sum(q.numel() for q in m.parameters()),
            }
            for n, m in observed
        ],
        "parameters": sum(q.numel() for q in model.parameters()),
        "data": data.describe(),
    }


def run(plan: Plan, ctx: Context) -> None:
    """Train the plan's runs: one after another, or several together (see :mod:`.batched`)."""
    tables = plan.scenario.tables
    base = plan.scenario.folder
    runs = list(plan.runs)
    tally = Tally(ctx, sum(r.params["steps"] for r in runs))
    tally.add(0)
    cache: dict[tuple[Any, ...], data_mod.Data] = {}

    def data_of(r: RunSpec) -> data_mod.Data:
        p = r.params
        key = (r.seed, p["train_size"], p["test_size"], p["test_fraction"], p.get("val_fraction"))
        if key not in cache:
            cache[key] = data_mod.load(tables, base, p, r.seed)
        return cache[key]

    _check_checkpoints(runs, ctx)
    speed.check_device(runs, ctx.device)
    slots = {v: i for i, v in enumerate(dict.fromkeys(r.variant for r in runs))}  # a variant's place in the plan
    report: list[dict[str, Any]] = []  # Summary("stacking"): how each run trained, sent as units start
    stacks = 0
    for number, unit in enumerate(stackable.plan_stacks(runs, ctx.device)):
        if not ctx.trains(number):  # another process's share (a Ray task's)
            continue
        specs = [runs[i] for i in unit]
        cache.clear()  # keep the data sets of one unit at a time
        on_device: dict[int, tuple[torch.Tensor, ...]] = {}
        first = ModelRun(specs[0], ctx, data_of(specs[0]), tables, base, on_device, slots[specs[0].variant])
        if number == 0:
            ctx.emit(Summary("model", describe(first.model, first.observed, data_of(specs[0]))))
        why = stackable.why_alone(first, specs)
        ones = [first]
        if why is None:
            ones += [ModelRun(r, ctx, data_of(r), tables, base, on_device, slots[r.variant]) for r in specs[1:]]
            why = stackable.mismatch(ones)
        if why is None:
            stacks += 1
            report += [{"variant": r.variant, "seed": r.seed, "stack": stacks, "models": len(specs)} for r in specs]
        else:
            report += [{"variant": r.variant, "seed": r.seed, "alone_because": why} for r in specs]
        if len(runs) > 1:
            ctx.emit(Summary("stacking", list(report)))
        if why is None:
            del first
            stack = Stack(ones)
            ones = []
            stack.train(ctx, tally)
            continue
        for r in specs:  # one at a time; the runs not built yet are built in turn
            one = ones.pop(0) if ones else ModelRun(r, ctx, data_of(r), tables, base, on_device, slots[r.variant])
            if r.params["resume"]:
                one.resume(_checkpoint_of(r, slots[r.variant], ctx))
                tally.add(one.offset)
            one.train(tally)


def _check_checkpoints(runs: list[RunSpec], ctx: Context) -> None:
    """A checkpoint is kept in the run's folder: a run that is not saved cannot keep one."""
    if ctx.files() is None and any(r.params["checkpoint"] != "none" for r in runs):
        raise ConfigError(
            "checkpoint: the checkpoints are kept in the run's folder of the run history; "
            "run it saved (without --no-save) or with checkpoint = none"
        )


def _checkpoint_of(r: RunSpec, slot: int, ctx: Context) -> dict[str, Any]:
    """The final checkpoint run ``resume`` kept of the variant in this run's place and its seed (same run store)."""
    run_id = int(r.params["resume"])
    return checkpoint.load(
        checkpoint.runs_folder(ctx.store, ctx.files()) / str(run_id), run_id, slot, r.variant, r.seed
    )
