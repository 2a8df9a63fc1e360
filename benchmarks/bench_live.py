"""Live charts vs training speed: every bundled scenario, its default view, headless vs dashboard.

For each scenario (default parameters) and each terminal size it runs, in one
process and alternating:

- headless: ``run_plan`` + ``Collector`` in this process (1 intra-op thread,
  1 job, as the dashboard trains), stopped after ``--seconds`` at most;
- the real dashboard (``App.run_test(size=...)``: the real worker thread,
  trainer and redraw timer), Run pressed, the view the run opens left visible,
  stopped after ``--seconds`` at most;

and prints side by side: headless steps/s, dashboard steps/s (progress steps
over the wall time from Run to the end, what the status line shows), their
ratio, chart updates per second during the run (the visible view redrawn with
new data), status-line changes per second, and the redraw interval at the end.

    python benchmarks/bench_live.py [--sizes 120x40,80x24] [--seconds 6] [--scenarios a,b]
                                    [--trainer process|thread]

``--trainer thread`` trains in the worker thread as before (REGTUI_TRAINER=thread).
Runs shorter than about a second (bn-stats, bn-eval) give rates that mean little.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import threading
import time
from typing import Any

import torch

from regtui import scenario as sc
from regtui.engine import run_plan
from regtui.report import Collector


def headless(plan: sc.Plan, seconds: float) -> tuple[float, int]:
    collector = Collector()
    cancel = threading.Event()
    timer = threading.Timer(seconds, cancel.set)
    timer.start()
    start = time.perf_counter()
    run_plan(plan, "cpu", emit=collector, cancel=cancel, threads=1)
    wall = time.perf_counter() - start
    timer.cancel()
    progress = collector.progress
    return wall, progress.step if progress else 0


async def in_app(app: Any, pilot: Any, index: int, seconds: float) -> dict[str, Any]:
    from regtui.app.widgets.chart import LiveChart
    from regtui.app.widgets.status_bar import StatusBar

    main = app.main
    main.select_entry(index)
    await pilot.pause(0.2)
    status_bar = main.query_one(StatusBar)
    status_changes = [0]
    original = status_bar.update

    def counting_update(*args: Any, **kwargs: Any) -> None:
        status_changes[0] += 1
        original(*args, **kwargs)

    status_bar.update = counting_update  # type: ignore[method-assign]
    redraws_before = main.redraw.redraws
    main.action_run()
    state = main.run_state
    view_name = main.active_view
    view = main.views[view_name]
    charts = list(view.query(LiveChart))
    renders_before = sum(c.renders for c in charts)
    start = time.perf_counter()
    while state.status in ("running", "stopping"):
        if time.perf_counter() - start > seconds and state.status == "running":
            main.action_stop()
        await asyncio.sleep(0.02)
    wall = (state.ended or time.perf_counter()) - state.started
    status_bar.update = original  # type: ignore[method-assign]
    steps = state.collector.progress.step if state.collector.progress else 0
    return {
        "view": view_name,
        "status": state.status,
        "wall": wall,
        "steps": steps,
        "engine_s": state.elapsed_s or wall,
        "redraws": main.redraw.redraws - redraws_before,
        "renders": sum(c.renders for c in charts) - renders_before,
        "status_changes": status_changes[0],
        "interval": main.redraw.interval,
    }


async def bench_size(size: tuple[int, int], names: list[str], seconds: float) -> list[dict[str, Any]]:
    from regtui.app.app import make_app

    app = make_app(file=names[0], devices=["cpu"])
    rows = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await asyncio.sleep(4.0)  # the warm trainer imports torch (a user reads the screen meanwhile)
        entries = {e.key: i for i, e in enumerate(app.main.entries)}
        by_name = {e.scenario.name: i for i, e in enumerate(app.main.entries) if e.scenario is not None}
        for name in names:
            index = by_name.get(name, entries.get(name))
            scenario = sc.load(sc.find(name))
            h_wall, h_steps = headless(sc.plan(scenario, {}), seconds)
            row = await in_app(app, pilot, index, seconds)
            row.update(name=name, h_rate=h_steps / h_wall if h_wall else 0.0, h_steps=h_steps)
            rows.append(row)
            a_rate = row["steps"] / row["wall"] if row["wall"] else 0.0
            ratio = a_rate / row["h_rate"] if row["h_rate"] else float("nan")
            run_s = max(row["wall"], 1e-9)
            print(
                f"{size[0]}x{size[1]}  {name:20s} {row['view']:8s} headless {row['h_rate']:9.0f} steps/s  "
                f"app {a_rate:9.0f} steps/s  ratio {ratio:5.2f}  "
                f"charts {row['redraws'] / run_s:4.1f}/s  status {row['status_changes'] / run_s:4.1f}/s  "
                f"run {row['wall']:5.1f} s  interval {row['interval']:.2f} s  ({row['status']})",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="120x40,80x24")
    parser.add_argument("--seconds", type=float, default=6.0, help="stop each run after this long")
    parser.add_argument("--scenarios", default="", help="comma-separated names (default: every bundled one)")
    parser.add_argument("--trainer", choices=("process", "thread"), default="process")
    args = parser.parse_args()
    os.environ["REGTUI_TRAINER"] = args.trainer
    names = [n for n in args.scenarios.split(",") if n] or sorted(p.stem for p in sc.bundled_dir().glob("*.toml"))
    headless(sc.plan(sc.load(sc.find("weight-decay")), {}), 0.5)  # warm up imports and allocators
    print(
        f"trainer {args.trainer}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    for text in args.sizes.split(","):
        width, height = (int(v) for v in text.split("x"))
        asyncio.run(bench_size((width, height), names, args.seconds))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
