"""The scalars a loop logs, gathered into rows per step and sent as one ``Metrics`` event at a time.

One event per ``run.log`` call would cost the loop an event object, a queue put and a JSON line per
step; rows are gathered and sent together instead (the run's store writer batches them anyway).
Calls for the same step merge into one row (``train_loss`` and later ``test_loss`` at step 500), so
a logged step is one point of every series; a key that a row lacks is NaN there, which the
collector and the charts treat as "not logged at this step".
"""

from __future__ import annotations

import math
from typing import Any

from regtui.events import Metrics


def scalar(key: str, value: Any) -> float:
    """A logged value as a float: a number, a bool or a one-element tensor (``float()`` reads it)."""
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{key}={type(value).__name__} is not a number") from None


class StepRows:
    """The values logged since the last :meth:`take`, by column: ``columns[key][i]`` is the value of
    ``key`` at ``steps[i]``. A column is as long as the rows up to its last value (NaN fills the rows
    that lacked it); a step costs an append per key, where a row dict per step would be made and then
    read again to build the event.
    """

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.columns: dict[str, list[float]] = {}

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def last_step(self) -> int | None:
        return self.steps[-1] if self.steps else None

    def add(self, step: int, values: dict[str, float]) -> None:
        """Values of ``step``: merged into its row when it is the latest one (a later value wins), else a new row."""
        steps = self.steps
        if not steps or steps[-1] != step:
            steps.append(step)
        n = len(steps)
        columns = self.columns
        for key, value in values.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = []
            if len(column) == n:
                column[-1] = value
            else:
                if len(column) < n - 1:
                    column.extend([math.nan] * (n - 1 - len(column)))
                column.append(value)

    def latest(self) -> dict[str, float]:
        """Each key's last logged value."""
        return {key: column[-1] for key, column in self.columns.items() if column}

    def take(self, variant: str) -> Metrics | None:
        """Every row as one Metrics event (None: nothing logged), and empty again."""
        if not self.steps:
            return None
        n = len(self.steps)
        values = {k: tuple(c) + (math.nan,) * (n - len(c)) for k, c in self.columns.items()}
        event = Metrics(variant, 0, tuple(self.steps), values)
        self.steps, self.columns = [], {}
        return event
