"""One way to write a number as text, for the text report, the chart labels and the tables.

Torch-free and Textual-free. ``finite`` lives in :mod:`regtui.aggregate`.
"""

from __future__ import annotations

import math
from typing import Any

STD_DIGITS = 2  # a spread over a few seeds: its third digit means nothing (the dashboard and the text alike)


def fmt(x: Any, digits: int = 4) -> str:
    """A compact number: ``digits`` significant digits, "—" for a missing value, "yes"/"no" for a flag.

    A float that is a whole number below a million is written whole (10000.0 → "10000"),
    as an int would be, rather than as "1e+04"."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x == 0:
            return "0"
        if x.is_integer() and abs(x) < 1e6:
            return str(int(x))  # 10000.0 reads as 10000, like the int it is
        return f"{x:.{digits}g}"
    if isinstance(x, (list, tuple)):
        inner = ", ".join(fmt(v, digits) for v in x[:6])
        return f"[{inner}{', …' if len(x) > 6 else ''}]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {fmt(v, digits)}" for k, v in list(x.items())[:4]) + "}"
    return str(x)


def with_std(value: Any, std: Any) -> str:
    """Mean ± std over seeds, the std to STD_DIGITS; the value alone where there is no spread (no
    std, or 0: a count, a size, the same on every seed) or it is a flag."""
    if isinstance(std, (int, float)) and not isinstance(std, bool) and std != 0:
        if value is not None and not isinstance(value, bool):
            return f"{fmt(value)} ± {fmt(std, STD_DIGITS)}"
    return fmt(value)
