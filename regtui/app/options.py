"""The dashboard's settings (``make_app`` options), kept by the App and read by its screen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_POINTS = 200  # per series, for drawing


@dataclass(frozen=True)
class Options:
    runner: Callable[..., Any] | None = None  # replaces regtui.engine.run_plan (tests)
    min_interval: float = 0.25  # shortest redraw interval, seconds
    draw_factor: float = 20.0  # wait this many times the last redraw's cost before the next
    max_points: int = MAX_POINTS  # per drawn series
    threads: int = 1  # torch intra-op threads of a run
    seed: int = 0  # the form's default seed
    save: bool = True  # keep the dashboard's runs in the run history (regtui.store)
    runs_dir: str | None = None  # the run history's folder (None: REGTUI_RUNS_DIR, else the XDG default)
    follow: int | None = None  # a running run to follow as the dashboard opens (regtui attach ID)
