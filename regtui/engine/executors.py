"""Where a plan trains: in this process (:func:`~regtui.engine.runner.run_plan`) or on a Ray cluster.

The dashboard's device selector offers Ray beside the torch devices (:func:`regtui.devices.ray_choices`):
``ray`` (the tasks train on the CPU) and ``ray:cuda`` (one GPU per task). :func:`run_choice` takes
such a choice where it takes a device, so the dashboard's runners need no other change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from regtui.engine.runner import run_plan
from regtui.events import Event, RunFinished
from regtui.scenario import Plan

__all__ = ["RAY", "ray_device", "run_choice"]

RAY = "ray"


def ray_device(choice: str) -> str | None:
    """The device Ray's tasks train on for a device choice (``ray`` → cpu, ``ray:cuda`` → cuda); None: not Ray."""
    name, _, device = choice.partition(":")
    return (device or "cpu") if name == RAY else None


def run_choice(
    plan: Plan,
    device: str,
    emit: Callable[[Event], None] = lambda event: None,
    cancel: threading.Event | None = None,
    threads: int | None = 1,
    files: Callable[[], Path | None] | None = None,
    store: Path | None = None,
) -> RunFinished:
    """:func:`run_plan` on ``device``, or on the Ray cluster ($RAY_ADDRESS, else one started here) for a Ray choice
    (``files`` and ``store``, where a run keeps checkpoints and finds stored runs, are local runs' only)."""
    on_ray = ray_device(device)
    if on_ray is None:
        return run_plan(plan, device, emit=emit, cancel=cancel, threads=threads, files=files, store=store)
    from regtui.engine.ray_executor import run_on_ray

    return run_on_ray(plan, on_ray, emit=emit, cancel=cancel, threads=threads)
