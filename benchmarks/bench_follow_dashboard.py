"""The lag of a dashboard following a run: from an event written by the run to it drawn on screen.

Starts a long weight-decay run with ``--detach`` (in a store of its own), opens the
dashboard on it as ``regtui attach ID`` does (Textual's headless ``run_test``, at
120x40), and for ``--seconds`` records, at each redraw that drew new data, the age
of the newest write it drew: the time the view finished drawing minus the events
file's modification time, taken just before the dashboard's poll read the file (so
every write up to then is in the frame: an upper bound). Then the same for each
view in ``--views`` in turn. Prints the median and worst per view and overall,
and the redraws a second. The run queues its events up to 0.1 s before it writes
them (its batches); that comes on top, as for ``regtui runs follow``.

    python benchmarks/bench_follow_dashboard.py [--seconds 60] [--views loss,results]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def start_run(runs_dir: Path) -> str:
    env = {**os.environ, "REGTUI_RUNS_DIR": str(runs_dir)}
    args = ["--scenario", "weight-decay", "--device", "cpu", "--set", "iters=10000000", "--detach"]
    done = subprocess.run([sys.executable, "-m", "regtui", *args], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


async def measure(runs_dir: Path, run_id: str, seconds: float, views: list[str]) -> dict[str, list[float]]:
    from textual.widgets import TabbedContent

    from regtui.app.app import make_app

    events = runs_dir / run_id / "events.jsonl"
    app = make_app(follow=int(run_id), runs_dir=str(runs_dir), devices=["cpu"])
    ages: dict[str, list[float]] = {view: [] for view in views}
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main
        deadline = time.monotonic() + 60
        while screen.run_state is None or screen.run_state.follower is None:
            assert time.monotonic() < deadline, "the dashboard did not follow the run"
            await pilot.pause(0.05)
        written: list[float] = []
        poll, draw = screen.runs.poll, screen.deck.draw_active

        def timed_poll():  # the newest write the poll will read: every one up to this stat
            try:
                written[:] = [events.stat().st_mtime]
            except FileNotFoundError:
                written.clear()
            return poll()

        current: list[str] = [views[0]]

        def timed_draw(*args, **kwargs):
            drew = draw(*args, **kwargs)
            if drew and written:
                ages[current[0]].append(time.time() - written[0])
            return drew

        screen.runs.poll = timed_poll  # type: ignore[method-assign]
        screen.deck.draw_active = timed_draw  # type: ignore[method-assign]
        for view in views:
            screen.query_one(TabbedContent).active = f"tab-{view}"  # as a click on its tab
            await pilot.pause(1.0)  # the view's first draw is no lag of the run
            current[0] = view
            ages[view].clear()
            await asyncio.sleep(seconds / len(views))
    return ages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--views", default="loss,results")
    args = parser.parse_args()
    views = [v for v in args.views.split(",") if v]
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp) / "runs"
        run_id = start_run(runs_dir)
        try:
            ages = asyncio.run(measure(runs_dir, run_id, args.seconds, views))
        finally:
            env = {**os.environ, "REGTUI_RUNS_DIR": str(runs_dir)}
            subprocess.run([sys.executable, "-m", "regtui", "runs", "stop", "--now", run_id], env=env, check=False)
    print(f"load average {os.getloadavg()[0]:.2f}; lag from an event written to it drawn in the dashboard:")
    every: list[float] = []
    for view, values in ages.items():
        every += values
        if values:
            span = args.seconds / len(views)
            print(
                f"  {view:8} {len(values):4} redraws ({len(values) / span:.1f}/s): "
                f"median {statistics.median(values) * 1000:4.0f} ms, worst {max(values) * 1000:4.0f} ms"
            )
    if every:
        print(
            f"  all      {len(every):4} redraws: median {statistics.median(every) * 1000:4.0f} ms, "
            f"worst {max(every) * 1000:4.0f} ms"
        )


if __name__ == "__main__":
    main()
