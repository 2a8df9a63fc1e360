"""Estimate a plan's peak memory before it runs, and refuse what cannot fit.

Each estimate counts the large float32 tensors an experiment holds at its
peak (weights, gradients, momentum buffers, activations kept for backward,
data) and errs high; it is a guard against asking for tens of gigabytes, not
a profiler. Torch-free: it runs before torch is imported.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from regtui.specs import ConfigError

FLOAT = 4  # bytes of a float32
SLACK = 1.5  # allocator overhead and temporaries the counts below leave out


def mlp_bytes(p: dict[str, Any], models: int, tables: dict[str, Any] | None = None) -> tuple[int, str]:
    """The stacked MLPs of weight-decay and dropout: all models of a plan train at once."""
    h, layers, n = p["hidden"], p["layers"], p["n_points"]
    params = 2 * h + (layers - 1) * (h * h + h) + h + 1
    per_model = 3 * params + 6 * n * h * layers  # weights, grads, momentum; activations, masks
    extra = 12 * p.get("scaling_n", 0)  # the dropout scaling demo: input, mask, output, float64 sums
    return FLOAT * (models * per_model + extra), f"hidden={h}, layers={layers}, n_points={n}, {models} model(s)"


def bn_bytes(p: dict[str, Any], models: int, tables: dict[str, Any] | None = None) -> tuple[int, str]:
    """The deep MLP of bn: one model at a time."""
    w, d, b = p["width"], p["depth"], p["batch"]
    params = d * (w * w + 3 * w)
    return FLOAT * (3 * params + 6 * b * w * d), f"width={w}, depth={d}, batch={b}"


def bn_stats_bytes(p: dict[str, Any], models: int, tables: dict[str, Any] | None = None) -> tuple[int, str]:
    """BatchNorm1d/2d/3d on a (batch, features, …) input in float64."""
    values = p["batch"] * p["features"] * 8  # the 3d input has 2x2x2 values per channel
    return 8 * 6 * values, f"batch={p['batch']}, features={p['features']}"


def norms_bytes(p: dict[str, Any], models: int, tables: dict[str, Any] | None = None) -> tuple[int, str]:
    """The conv nets of norms: the image sets, and the activations of the largest forward pass."""
    c, s = p["channels"], p["size"]
    data = (p["train_samples"] + p["test_samples"]) * s * s
    largest = max(p["batch"], p["test_samples"], p["demo_batch"])
    activations = 8 * largest * c * s * s
    params = 2 * 9 * c * c + 2 * c * s * s  # convs, and LayerNorm's element-wise affine
    why = f"channels={c}, size={s}, test_samples={p['test_samples']}, batch={p['batch']}"
    return FLOAT * (data + activations + 3 * params), why


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
    from regtui import registry

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
    available = available_bytes() if available is None else available
    if found is None or available is None:
        return
    need, why = found
    if need > available:
        raise ConfigError(
            f"memory: this plan needs about {human(need)} ({why}) but {human(available)} is available; "
            "make it smaller, or pass --no-memory-check to run anyway"
        )
