"""Random search: N points drawn from ranges, reproducible from the run's seed.

A range is written ``log(1e-4, 1e-1)`` (log-uniform), ``uniform(0, 0.6)`` or
``choice(batch, group)``, after ``--sweep KEY=`` with ``--sample N``, or in a
``[sample]`` table (``points = N``; a list is a choice). The draws are Python's
``random.Random(seed)``, point after point, key after key in the order given:
``choice`` takes ``values[rng.randrange(len(values))]``, ``uniform`` is
``rng.uniform(low, high)``, ``log`` is ``10 ** rng.uniform(log10(low), log10(high))``
(an integer parameter's draw is rounded), so the same seed gives the same points on
every machine. A point drawn twice is run once. Torch-free, like :mod:`regtui.scenario`.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Any

from regtui.specs import ConfigError, ExperimentSpec, Param

KINDS = ("log", "uniform", "choice")
_RANGE = re.compile(r"^\s*([A-Za-z_]+)\s*\((.*)\)\s*$", re.DOTALL)
MAX_POINTS = 1024


@dataclass(frozen=True)
class Range:
    """One sampled parameter: how it is drawn, from what, and the text that wrote it."""

    key: str
    kind: str  # log | uniform | choice
    values: tuple[Any, ...]  # (low, high), or the choices
    text: str

    def draw(self, rng: random.Random, param: Param) -> Any:
        if self.kind == "choice":
            return self.values[rng.randrange(len(self.values))]
        low, high = self.values
        if self.kind == "uniform":
            x = rng.uniform(low, high)
        else:
            x = 10 ** rng.uniform(math.log10(low), math.log10(high))
        x = min(max(x, low), high)  # 10**log10(x) may round just past an end
        return param.coerce(round(x) if param.kind is int else x)


def is_range(text: str) -> bool:
    """Whether a --sweep value is a range (``name(…)``) rather than a list of values."""
    return bool(_RANGE.match(text))


def parse_range(spec: ExperimentSpec, key: str, text: str) -> Range:
    """``log(a, b)``, ``uniform(a, b)`` or ``choice(v1, v2, …)`` for ``key``, checked; one-line errors."""
    param = spec.param(key)
    found = _RANGE.match(text)
    where = f"sample: {key}={text.strip()}"
    if not found or found[1] not in KINDS:
        raise ConfigError(f"{where} is not a range; write log(low, high), uniform(low, high) or choice(v1, v2, …)")
    kind, items = found[1], [t.strip() for t in found[2].split(",")]
    if any(not t for t in items):
        raise ConfigError(f"{where} has an empty value")
    if kind == "choice":
        return Range(key, kind, tuple(dict.fromkeys(param.parse(t) for t in items)), text.strip())
    if not param.numeric:
        raise ConfigError(f"{where}: {key} is {param.allowed()}, not a number; draw it with choice(…)")
    if len(items) != 2:
        raise ConfigError(f"{where}: {kind} takes two numbers, low and high")
    low, high = (param.parse(t) for t in items)
    if not low < high:
        raise ConfigError(f"{where}: low must be below high")
    if kind == "log" and low <= 0:
        raise ConfigError(f"{where}: log needs low > 0 (it draws log10 uniformly); use uniform to include 0")
    return Range(key, kind, (low, high), text.strip())


def table_range(spec: ExperimentSpec, key: str, value: Any) -> Range:
    """A ``[sample]`` entry: a range string, or a TOML list (a choice)."""
    if isinstance(value, str):
        return parse_range(spec, key, value)
    if isinstance(value, list) and value:
        param = spec.param(key)
        return Range(key, "choice", tuple(dict.fromkeys(param.coerce(v) for v in value)), _choice_text(value))
    raise ConfigError(f'sample: {key} must be a range such as "log(1e-4, 1e-1)" or a list of values, got {value!r}')


def _choice_text(values: list[Any]) -> str:
    def text(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        return repr(v) if isinstance(v, float) else str(v)

    return "choice(" + ",".join(text(v) for v in values) + ")"


def points_count(value: Any, where: str = "--sample") -> int:
    """The number of points to draw: an integer >= 1 and <= MAX_POINTS."""
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ConfigError(
                f"{where}: {value!r} is not an integer; expected an integer >= 1 and <= {MAX_POINTS}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_POINTS:
        raise ConfigError(f"{where}: {value!r} is not allowed; expected an integer >= 1 and <= {MAX_POINTS}")
    return value


def draw(spec: ExperimentSpec, ranges: dict[str, Range], points: int, seed: int) -> list[dict[str, Any]]:
    """``points`` points (fewer where a point comes twice), each a value per range, from ``seed``."""
    rng = random.Random(seed)
    params = {key: spec.param(key) for key in ranges}
    out: list[dict[str, Any]] = []
    for _ in range(points):
        point = {key: r.draw(rng, params[key]) for key, r in ranges.items()}
        if point not in out:
            out.append(point)
    return out
