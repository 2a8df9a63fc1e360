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
    """The rows logged since the last :meth:`take`: ``steps[i]`` holds the values ``rows[i]``."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.rows: list[dict[str, float]] = []

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def last_step(self) -> int | None:
        return self.steps[-1] if self.steps else None

    def add(self, step: int, values: dict[str, float]) -> None:
        """Values of ``step``: merged into its row when it is the latest one, else a new row."""
        if self.steps and self.steps[-1] == step:
            self.rows[-1].update(values)
        else:
            self.steps.append(step)
            self.rows.append(dict(values))

    def take(self, variant: str) -> Metrics | None:
        """Every row as one Metrics event (None: nothing logged), and empty again."""
        if not self.steps:
            return None
        keys = list(dict.fromkeys(k for row in self.rows for k in row))
        values = {k: tuple(row.get(k, math.nan) for row in self.rows) for k in keys}
        event = Metrics(variant, 0, tuple(self.steps), values)
        self.steps, self.rows = [], []
        return event
