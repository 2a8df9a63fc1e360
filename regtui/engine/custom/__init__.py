"""The ``train`` kind's engine: your own model and data from a scenario file (see :mod:`.train`)."""

from typing import Any

from regtui.engine.custom import train
from regtui.engine.custom.preflight import check

__all__ = ["check", "run"]


def run(plan: Any, ctx: Any) -> None:
    """Check the file's factories (the user's code runs here, in the process that trains), then train."""
    check(plan.scenario.tables, plan.scenario.folder, plan.runs)
    train.run(plan, ctx)
