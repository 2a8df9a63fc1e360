"""The driver's side of a Ray run without Ray: the tasks' event streams merged into one run's stream.

Each Ray task trains a part of the plan (some of its stacks, :mod:`regtui.engine.ray_executor`)
with the ordinary :func:`~regtui.engine.runner.run_plan` and sends its events in batches,
tagged with the task and the attempt. :class:`Relay` turns them into the stream one local
run gives, for the same Collector, run store and dashboard:

- a part's own ``RunStarted`` and ``RunFinished`` are dropped: the driver emits the run's;
- ``Progress``: every part counts the plan's total and its own steps; the run's progress is
  the sum of the parts' latest counts (a retried part starts again from 0);
- ``Summary("stacking")`` (the train kind's list of how each run trained) is the parts'
  lists in unit order, the stacks numbered in that order, as one process numbers them;
- **a retried attempt** (Ray reruns a task whose worker died, from the start): its earlier
  events were relayed already, so the attempt's events are counted against them, and only
  those past the point the earlier attempt reached are relayed. On the same device a part's
  run is deterministic, so those repeated events are the ones relayed before; each is
  checked (a digest of its pickle), and a retry that differs (another GPU, nondeterministic
  kernels) relays nothing more: its models are reported failed by name. Events of an
  attempt older than the current one (still in flight when the worker died) are dropped.

``Summary("ray_tasks")`` lists the tasks: their models, node, process id, attempt and state.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from regtui.events import Event, Progress, RunFinished, RunSpec, RunStarted, Summary

__all__ = ["TASKS_KEY", "Relay", "Task", "merge_stacking"]

TASKS_KEY = "ray_tasks"  # the Summary listing the run's Ray tasks
STACKING_KEY = "stacking"  # the train kind's Summary of how each run trained (merged over the parts)


@dataclass
class Task:
    """One Ray task: a part of the plan (its units, or the whole plan) and what it sent so far."""

    index: int
    units: tuple[int, ...] | None  # None: the whole plan (an experiment without stacks)
    runs: tuple[RunSpec, ...]  # the models it trains
    work: float = 0.0  # its compute, roughly (the engine's ``work``): submitted largest first
    attempt: int = 0  # 0: not started; Ray's retry after a dead worker is attempt 2
    position: int = 0  # events of the current attempt counted against the relayed ones
    digests: list[bytes] = field(default_factory=list)  # of the relayed events, in order
    done: int = 0  # its latest progress count
    stacking: list[dict[str, Any]] = field(default_factory=list)
    pid: int | None = None
    node: str | None = None
    state: str = "waiting"  # waiting, running, completed, interrupted, failed
    error: str | None = None
    differs: bool = False  # a retry's events differed from the relayed ones

    @property
    def names(self) -> list[str]:
        """Its models by name (variant · seed N), for a failure message."""
        return [f"{r.variant} · seed {r.seed}" for r in self.runs]


def _digest(event: Event) -> bytes:
    return hashlib.blake2b(pickle.dumps(event, protocol=5), digest_size=16).digest()


def merge_stacking(parts: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The parts' stacking lists as one: in order, each part's stacks renumbered after the earlier parts'."""
    out: list[dict[str, Any]] = []
    number = 0
    for entries in parts:
        renumbered: dict[Any, int] = {}
        for entry in entries:
            if "stack" in entry:
                if entry["stack"] not in renumbered:
                    number += 1
                    renumbered[entry["stack"]] = number
                entry = {**entry, "stack": renumbered[entry["stack"]]}
            out.append(entry)
    return out


class Relay:
    """Folds the tasks' batches into one event stream for ``emit`` (see the module docstring)."""

    def __init__(self, tasks: Sequence[Task], emit: Callable[[Event], None]) -> None:
        self.tasks = list(tasks)
        self.emit = emit
        self.total: int | None = None
        self.phase = "train"

    # --- what the tasks say -------------------------------------------------------------------

    def begin(self, index: int, attempt: int, pid: int, node: str) -> None:
        """A task's attempt started in process ``pid`` on ``node``."""
        task = self.tasks[index]
        if attempt <= task.attempt:
            return
        task.attempt, task.position, task.done, task.stacking = attempt, 0, 0, []
        task.pid, task.node, task.state = pid, node, "running"
        self.emit_tasks()

    def events(self, index: int, attempt: int, events: Sequence[Event]) -> None:
        """A batch of a task's events, in the order it emitted them."""
        task = self.tasks[index]
        if attempt != task.attempt or task.differs:
            return  # an attempt that is over (its worker died), or one whose numbers cannot be trusted
        for event in events:
            if task.differs:
                return
            match event:
                case RunStarted() | RunFinished():
                    continue
                case Progress():
                    task.done = event.step
                    self.total, self.phase = event.total, event.phase
                    self.emit(Progress(sum(t.done for t in self.tasks), event.total, event.phase))
                case Summary(key=key) if key == STACKING_KEY:
                    task.stacking = list(event.value)
                    self.emit(Summary(STACKING_KEY, merge_stacking([t.stacking for t in self.tasks])))
                case _:
                    self._relay(task, event)

    def _relay(self, task: Task, event: Event) -> None:
        digest = _digest(event)
        position = task.position
        task.position += 1
        if position < len(task.digests):  # relayed by an earlier attempt
            if digest != task.digests[position]:
                task.differs = True
                task.error = "its retry gave other numbers than its first attempt"
            return
        task.digests.append(digest)
        self.emit(event)

    def finish(self, index: int, state: str, error: str | None = None) -> None:
        """A task ended: completed, interrupted or failed (``error`` says why)."""
        task = self.tasks[index]
        if task.differs:
            state, error = "failed", task.error
        task.state, task.error = state, error
        self.emit_tasks()

    # --- what the run says ----------------------------------------------------------------------

    def emit_tasks(self) -> None:
        """Summary("ray_tasks"): one row per task."""
        rows = [
            {
                "task": t.index + 1,
                "models": len(t.runs),
                "first": t.names[0] if t.runs else "",
                "node": t.node or "",
                "pid": t.pid,
                "attempt": t.attempt,
                "state": t.state,
            }
            for t in self.tasks
        ]
        self.emit(Summary(TASKS_KEY, rows))

    def failed(self) -> list[Task]:
        return [t for t in self.tasks if t.state == "failed"]

    def failure(self) -> str | None:
        """The run's error when tasks failed: their models by name and why; None when none failed."""
        failed = self.failed()
        if not failed:
            return None
        parts = [f"{', '.join(t.names)} ({t.error})" for t in failed]
        kept = sum(len(t.runs) for t in self.tasks if t.state == "completed")
        return f"models failed on Ray: {'; '.join(parts)}; the other {kept} models completed"
