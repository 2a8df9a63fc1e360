"""The app's messages: small dataclasses. Nothing is posted per training step:
the Collector is the buffer and the redraw timer reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class FormChanged(Message):
    """The parameter form was edited: the new plan, or the first error that blocks Run."""

    form: Any  # the ParamForm that changed (a replaced form's late message is ignored)
    plan: Any  # regtui.scenario.Plan | None
    error: str | None


@dataclass
class RunEnded(Message):
    """A run's worker finished (completed, interrupted or failed)."""

    run_id: int
    status: str  # RunFinished.status: "completed" | "interrupted" | "failed"
    error: str | None = None
    elapsed_s: float | None = None


@dataclass
class RunSaved(Message):
    """A run's document is in the run store (or it was not to be saved): after its RunEnded."""

    run_id: int


@dataclass
class DevicesFound(Message):
    """torch has loaded in a thread and reported the devices of this machine."""

    names: list[str]
    best: str
    error: str | None = None  # a requested device that does not exist, or torch failing to load
