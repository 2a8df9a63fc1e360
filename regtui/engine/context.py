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

    def check(self) -> None:
        """Call once per step: stops the experiment promptly when the user cancels."""
        if self.cancel.is_set():
            raise Cancelled()

    def progress(self, step: int, total: int, phase: str = "train") -> None:
        self.emit(Progress(step, total, phase))
