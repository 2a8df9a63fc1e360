"""The three layouts and where they switch.

Textual's breakpoints (set on the App) put size classes on the screen and the
stylesheet picks the layout from them: ``-wide.-tall`` is the sidebar layout
(>= 100x30), ``-too-narrow`` or ``-too-short`` shows the too-small message
(< 80x24), anything between is the narrow layout (docs/architecture.md, "The
dashboard's layouts", describes the three). :func:`mode` names
the same layout for the Python side (where the form goes, which tabs show),
from the same numbers.
"""

from __future__ import annotations

from typing import Literal

from regtui.app.widgets.too_small import MIN_HEIGHT, MIN_WIDTH

WIDE_MIN = (100, 30)  # at least this big: the sidebar layout (picker and form on the left, views on the right)

HORIZONTAL_BREAKPOINTS = [(0, "-too-narrow"), (MIN_WIDTH, "-narrow"), (WIDE_MIN[0], "-wide")]
VERTICAL_BREAKPOINTS = [(0, "-too-short"), (MIN_HEIGHT, "-short"), (WIDE_MIN[1], "-tall")]

Mode = Literal["wide", "narrow", "small"]


def mode(width: int, height: int) -> Mode:
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        return "small"
    if width >= WIDE_MIN[0] and height >= WIDE_MIN[1]:
        return "wide"
    return "narrow"
