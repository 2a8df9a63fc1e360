"""Mean and spread across seeds, and downsampling for drawing. Pure Python, no torch.

Rules (documented in docs/json.md): a model that diverged is left out of its
variant's mean and std so one blow-up does not spoil the others' statistics;
if every seed diverged, the mean is taken over all of them (and is null where
they are non-finite). The std is the sample std (n − 1) and is null with fewer
than two finite values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, TypeGuard


def finite(x: Any) -> TypeGuard[float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def mean_std(values: Sequence[Any]) -> tuple[float | None, float | None]:
    """Mean and sample std of the finite numbers in ``values`` (None where undefined)."""
    xs = [float(v) for v in values if finite(v)]
    if not xs:
        return None, None
    mean = math.fsum(xs) / len(xs)
    if len(xs) < 2:
        return mean, None
    var = math.fsum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
    return mean, math.sqrt(var)


def mean_std_lists(lists: Sequence[Sequence[Any]]) -> tuple[list[float | None], list[float | None]]:
    """Element-wise mean and std of aligned lists (truncated to the shortest)."""
    if not lists:
        return [], []
    n = min(len(xs) for xs in lists)
    pairs = [mean_std([xs[i] for xs in lists]) for i in range(n)]
    return [m for m, _ in pairs], [s for _, s in pairs]


def stride_for(n: int, max_points: int) -> int:
    return max(1, math.ceil(n / max_points)) if max_points > 0 else 1


def downsample(xs: Sequence[Any], max_points: int) -> list[Any]:
    """Every k-th element plus the last, so a long series draws in bounded time."""
    k = stride_for(len(xs), max_points)
    if k == 1:
        return list(xs)
    out = list(xs[::k])
    if (len(xs) - 1) % k:
        out.append(xs[-1])
    return out


def strict_dumps(value: Any) -> str:
    """``json.dumps`` with every non-finite float as null (strict JSON), at the C encoder's speed.

    json writes a non-finite float as NaN, Infinity or -Infinity; only a text
    holding one of those is encoded again from a copy made by :func:`sanitize` (a
    string that merely contains "NaN" takes that path too, with the same result).
    """
    text = json.dumps(value)
    if "NaN" in text or "Infinity" in text:
        text = json.dumps(sanitize(value), allow_nan=False)
    return text


def sanitize(value: Any) -> Any:
    """A copy with every non-finite float replaced by None, for strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        try:  # a series of numbers: one pass, no call per value (x - x is 0 only for a finite x)
            return [v if type(v) is not bool and v - v == 0 else _number(v) for v in value]
        except (TypeError, ValueError):  # strings, lists, None, arrays …: each on its own
            return [sanitize(v) for v in value]
    return value


def _number(v: Any) -> Any:
    """A bool as itself (True - True is 0 too, but a bool is no number to null), a non-finite float as None."""
    return v if type(v) is bool else None


def last_logged(variant: dict[str, Any]) -> dict[str, Any]:
    """A document variant's last logged value of each series metric (the step included), for a run that
    stopped before its finals: ``{"step": 1400, "train_loss": 0.21, …}``, or {} without series.

    Each metric's own last number that is not null, so a metric logged only now and then keeps its
    last point."""
    series = variant.get("series") or {}
    steps = series.get("step") or []
    out: dict[str, Any] = {"step": steps[-1]} if steps else {}
    for name, values in series.items():
        if name != "step":
            logged = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
            if logged:
                out[name] = logged[-1]
    return out if len(out) > 1 else {}
