"""Estimate a plan's peak memory before it runs, and refuse what cannot fit.

Each kind owns its estimate (``Kind.memory``: the lessons' formulas in
:mod:`regtui.memory_formulas`, the ``train`` kind's in :mod:`regtui.custom_specs.memory`);
here the plan's most demanding run is checked against the memory available. It
is a guard against asking for tens of gigabytes, not a profiler. Torch-free: it
runs before torch is imported.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from regtui import registry
from regtui.specs import ConfigError

SLACK = 1.5  # allocator overhead and temporaries the counts below leave out


def available_bytes() -> int | None:
    """Memory this process may still use: MemAvailable, capped by a cgroup limit; None if unknown."""
    try:
        info = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    try:
        available = int(fields["MemAvailable"].split()[0]) * 1024
    except (KeyError, ValueError):
        return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
        if limit != "max":
            available = min(available, int(limit) - used)
    except (OSError, ValueError):
        pass
    return available


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"  # not reached


def estimate(plan: Any) -> tuple[int, str] | None:
    """(bytes, the parameters that drive it) for the most demanding run of a plan; None if the kind has none."""
    kind = registry.get(plan.scenario.experiment)
    if kind.memory is None:
        return None
    models = len(plan.runs)
    tables = plan.scenario.tables
    worst = max((kind.memory(dict(run.params), models, tables) for run in plan.runs), key=lambda e: e[0])
    return math.ceil(worst[0] * SLACK), worst[1]


def check(plan: Any, available: int | None = None) -> None:
    """Raise a one-line ConfigError when the plan's estimate exceeds the memory available."""
    found = estimate(plan)
    if found is not None:
        check_bytes(*found, available=available)


def check_bytes(need: int, why: str, available: int | None = None) -> None:
    """Raise a one-line ConfigError when ``need`` bytes (``SLACK`` included) exceed the memory available."""
    available = available_bytes() if available is None else available
    if available is None:
        return
    if need > available:
        raise ConfigError(
            f"memory: this plan needs about {human(need)} ({why}) but {human(available)} is available; "
            "make it smaller, or pass --no-memory-check to run anyway"
        )
