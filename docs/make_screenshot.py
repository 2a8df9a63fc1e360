"""Regenerate the screenshots (README, docs/dashboard.md): each kind of view at 120x40 after a run, and 80x24.

    python docs/make_screenshot.py            # all of them (about a minute on 2 cores)
    python docs/make_screenshot.py loss-wd    # the ones whose name contains "loss-wd"

Each shot runs its scenario at its defaults in the real dashboard (``App.run_test``),
opens the view with the dashboard's own tab switching, and saves Textual's SVG.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from regtui.app.app import make_app

DOCS = Path(__file__).resolve().parent
WIDE, NARROW = (120, 40), (80, 24)

# (file name, scenario, view, size, what it shows): each kind of view once, the compact layout once.
SHOTS = [
    ("screenshot", "weight-decay", "loss", WIDE, "weight-decay, Loss: train and test loss with and without decay"),
    ("view-fit", "weight-decay", "fit", WIDE, "weight-decay, Fit: the fitted curves over the data"),
    ("view-layers", "bn", "layers", WIDE, "bn, Layers: activation std per layer, at init and trained"),
    ("view-stats", "bn-stats", "stats", WIDE, "bn-stats, Running stats: running_mean/var one update at a time"),
    ("view-results", "norms", "results", WIDE, "norms, Results: the four norms at batch 2 and 64"),
    ("view-worked", "dropout", "worked", WIDE, "dropout, Worked numbers: the formulas checked on this run"),
    ("view-sweep", "weight-decay-sweep", "sweep", WIDE, "weight-decay-sweep, Sweep: final losses against λ"),
    ("view-explain", "dropout", "explain", WIDE, "dropout, Explain: the lesson, scrollable"),
    ("view-history", "weight-decay", "history", WIDE, "History: the stored runs"),
    ("compact-80x24", "dropout", "loss", NARROW, "dropout at 80x24: the compact layout"),
]


async def shoot(name: str, scenario: str, view: str, size: tuple[int, int]) -> None:
    app = make_app(file=scenario, devices=["cpu"])
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        while app.main.run_state is not None and app.main.run_state.status in ("running", "stopping"):
            await asyncio.sleep(0.05)
        await pilot.pause(0.3)
        tabs = app.main.query_one("#views")
        tabs.active = f"tab-{view}"  # type: ignore[attr-defined]
        await pilot.pause(0.5)
        app.main._redraw(force=True)
        await pilot.pause(0.3)
        app.save_screenshot(filename=f"{name}.svg", path=str(DOCS))
    print(f"wrote docs/{name}.svg")


async def main(only: str | None) -> None:
    os.environ.setdefault("REGTUI_TRAINER", "thread")  # the same numbers; no child process per shot
    # A store of the shots' own runs (the History shot lists them), never the user's history.
    os.environ["REGTUI_RUNS_DIR"] = tempfile.mkdtemp(prefix="regtui-shots-")
    for name, scenario, view, size, _ in SHOTS:
        if only is None or only in name:
            await shoot(name, scenario, view, size)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None))
