"""The ``train`` kind's engine: your own model and data from a scenario file (see :mod:`.train`)."""

from typing import Any

from regtui.custom_specs.work import run_work
from regtui.engine.custom import stackable, train
from regtui.engine.custom.preflight import check
from regtui.engine.custom.speed import check_device

__all__ = ["check", "check_device", "run", "units"]


def run(plan: Any, ctx: Any) -> None:
    """Check the file's factories (the user's code runs here, in the process that trains), then train."""
    check(plan.scenario.tables, plan.scenario.folder, plan.runs)
    train.run(plan, ctx)


def units(plan: Any, device: Any) -> list[list[int]]:
    """The plan's units (a stack, or a run alone) as run indices: each a Ray task (regtui.engine.ray_executor)."""
    return stackable.plan_stacks(plan.runs, device)


def work(plan: Any, runs: Any) -> float:
    """A unit's compute (its runs' :func:`~regtui.custom_specs.work.run_work`): Ray submits the largest first."""
    return sum(run_work(r.params, plan.scenario.tables) for r in runs)
