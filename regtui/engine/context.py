"""What an experiment gets besides its plan: the device, the event sink, the cancel flag."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from regtui.events import Event, Progress


class Cancelled(Exception):
    """Raised by :meth:`Context.check` once the cancel flag is set."""


@dataclass
class Context:
    """What an experiment's ``run(plan, ctx)`` gets besides its plan."""

    device: torch.device
    emit: Callable[[Event], None]
    cancel: threading.Event = field(default_factory=threading.Event)
    jobs: int = 1  # independent model stacks an experiment may train concurrently (CPU threads)
    # Where the run may keep files of its own (its folder in the run store, e.g. checkpoints), asked
    # when needed (the store's recording begins with the run's first event); None: the run is not kept.
    files: Callable[[], Path | None] = lambda: None
    store: Path | None = None  # the run store's folder (where ``resume`` finds stored runs); None: the default
    # The units (stacks) of the plan this process trains, by index (an engine's ``units(plan, device)``);
    # None: all of them. A Ray task trains some (regtui.engine.ray_executor); the part with unit 0 leads.
    part: frozenset[int] | None = None

    def trains(self, unit: int) -> bool:
        """Whether this process trains unit ``unit`` of the plan."""
        return self.part is None or unit in self.part

    @property
    def lead(self) -> bool:
        """Whether this process emits what belongs to the whole plan (the data drawn, worked numbers)."""
        return self.trains(0)

    def check(self) -> None:
        """Call once per step: stops the experiment promptly when the user cancels."""
        if self.cancel.is_set():
            raise Cancelled()

    def progress(self, step: int, total: int, phase: str = "train") -> None:
        self.emit(Progress(step, total, phase))
