"""Live charts vs training speed: bundled scenarios, their default view, headless vs the real dashboard.

For each terminal size and each scenario (default parameters) it runs ``--rounds``
rounds, each one headless run then one dashboard run, alternating so that a
change in the machine's load hits both sides alike:

- headless: ``run_plan`` + ``Collector`` in this process (1 intra-op thread,
  as the dashboard trains), stopped after ``--seconds`` at most;
- the real dashboard (``App.run_test(size=...)``: the real trainer child
  process, worker thread, redraw timer), Run pressed, the view the run opens
  left visible, stopped after ``--seconds`` at most (the stop is timed).

One line per scenario and size: the medians over the rounds of headless
steps/s, dashboard steps/s (progress steps over the wall time from Run to the
end, what the status line shows), their ratio (median of the per-round
ratios, and the lowest), view updates per second (the visible view redrawn
with new data), chart builds per second (plotext frames actually built),
status-line changes per second, the stop latency where a run was stopped, and
the 1-minute load average before and after the row — a noisy figure is
visibly noisy. A summary line at the end counts the rows that meet the issue's
targets (>= 2 updates/s at >= 0.9x; stretch 4/s at >= 0.95x).

    python benchmarks/bench_live.py [--sizes 120x40,80x24] [--seconds 120] [--rounds 2]
                                    [--scenarios a,b] [--trainer process|thread]

By default every run goes to its end (the scenario's default parameters), so stacked runs that
report progress once per logging step are not cut mid-step. Runs shorter than about a second
(bn-stats, bn-eval) give rates that mean little: for them the row's "final" column says how soon
the finished run's last frame was on screen.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import threading
import time
from typing import Any

import torch

from regtui import scenario as sc
from regtui.engine import run_plan
from regtui.report import Collector


def load() -> float:
    return os.getloadavg()[0]


def headless(plan: sc.Plan, seconds: float) -> float:
    """Steps per second of a headless run stopped after ``seconds``."""
    collector = Collector()
    cancel = threading.Event()
    timer = threading.Timer(seconds, cancel.set)
    timer.start()
    start = time.perf_counter()
    run_plan(plan, "cpu", emit=collector, cancel=cancel, threads=1)
    wall = time.perf_counter() - start
    timer.cancel()
    progress = collector.progress
    return (progress.step if progress else 0) / wall if wall else 0.0


async def in_app(app: Any, pilot: Any, index: int, seconds: float) -> dict[str, Any]:
    from regtui.app.widgets.chart import LiveChart
    from regtui.app.widgets.status_bar import StatusBar

    main = app.main
    if main.entry_index != index:
        main.select_entry(index)
    await pilot.pause(0.3)
    status_bar = main.query_one(StatusBar)
    status_changes = [0]
    original = status_bar.update

    def counting_update(*args: Any, **kwargs: Any) -> None:
        status_changes[0] += 1
        original(*args, **kwargs)

    status_bar.update = counting_update  # type: ignore[method-assign]
    drawn_at: list[float] = []  # when the visible view was redrawn with new data
    original_now = main.redraw.now

    def stamped_now(force: bool = False) -> bool:
        drew = original_now(force)
        if drew:
            drawn_at.append(time.perf_counter())
        return drew

    main.redraw.now = stamped_now  # type: ignore[method-assign]
    while main.run_queued or main._plan_is_stale():  # the form's plan is ready
        await asyncio.sleep(0.05)
    redraws_before = main.redraw.redraws
    main.action_run()
    await asyncio.sleep(0)
    state = main.run_state
    view_name = main.active_view
    charts = list(main.views[view_name].query(LiveChart)) if view_name in main.views else []
    builds_before = sum(c.renders for c in charts)
    start = time.perf_counter()
    stop_asked: float | None = None
    while state.status in ("running", "stopping"):
        if stop_asked is None and time.perf_counter() - start > seconds and state.status == "running":
            stop_asked = time.perf_counter()
            main.action_stop()
        await asyncio.sleep(0.01)
    stop_s = time.perf_counter() - stop_asked if stop_asked is not None else None
    # The view that is visible at the end (a run may open another tab once its data arrive).
    view_name = main.active_view
    wall = (state.ended or time.perf_counter()) - state.started
    await asyncio.sleep(0.5)  # the end's own redraw (the finals) comes after the run ended
    final_frame = max(drawn_at) - state.ended if drawn_at and state.ended else None
    status_bar.update = original  # type: ignore[method-assign]
    main.redraw.now = original_now  # type: ignore[method-assign]
    steps = state.collector.progress.step if state.collector.progress else 0
    run_s = max(wall, 1e-9)
    return {
        "view": view_name,
        "status": state.status,
        "wall": wall,
        "rate": steps / run_s,
        "updates": (main.redraw.redraws - redraws_before) / run_s,
        "builds": (sum(c.renders for c in charts) - builds_before) / run_s,
        "status_rate": status_changes[0] / run_s,
        "stop_s": stop_s,
        "final_frame": final_frame,
    }


async def bench_size(size: tuple[int, int], names: list[str], seconds: float, rounds: int) -> list[dict[str, Any]]:
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
            plan = sc.plan(sc.load(sc.find(name)), {})
            load_before = load()
            h_rates: list[float] = []
            runs: list[dict[str, Any]] = []
            for _ in range(rounds):
                h_rates.append(headless(plan, seconds))
                runs.append(await in_app(app, pilot, index, seconds))
            ratios = [r["rate"] / h if h else float("nan") for r, h in zip(runs, h_rates)]
            stops = [r["stop_s"] for r in runs if r["stop_s"] is not None]
            row = {
                "size": f"{size[0]}x{size[1]}",
                "name": name,
                "view": runs[-1]["view"],
                "headless": statistics.median(h_rates),
                "app": statistics.median(r["rate"] for r in runs),
                "ratio": statistics.median(ratios),
                "ratio_min": min(ratios),
                "updates": statistics.median(r["updates"] for r in runs),
                "builds": statistics.median(r["builds"] for r in runs),
                "status": statistics.median(r["status_rate"] for r in runs),
                "stop": max(stops) if stops else None,
                "final_frame": max((r["final_frame"] for r in runs if r["final_frame"] is not None), default=None),
                "run_s": statistics.median(r["wall"] for r in runs),
                "load": (load_before, load()),
                "end": runs[-1]["status"],
            }
            rows.append(row)
            stop = f"{row['stop']:4.2f}" if row["stop"] is not None else "  — "
            final = f"{row['final_frame']:4.2f}" if row["final_frame"] is not None else "  — "
            print(
                f"{row['size']:7s} {name:19s} {row['view']:7s} {row['headless']:8.0f} {row['app']:8.0f} "
                f"{row['ratio']:5.2f} {row['ratio_min']:5.2f} {row['updates']:5.1f} {row['builds']:5.1f} "
                f"{row['status']:5.1f} {stop:>5s} {final:>5s} {row['run_s']:5.1f} {row['load'][0]:5.2f} "
                f"{row['load'][1]:5.2f}  {row['end']}",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="120x40,80x24")
    parser.add_argument(
        "--seconds", type=float, default=120.0, help="stop a run after this long (default: every run to its end)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="headless/dashboard rounds per row (median)")
    parser.add_argument("--scenarios", default="", help="comma-separated names (default: every bundled one)")
    parser.add_argument("--trainer", choices=("process", "thread"), default="process")
    args = parser.parse_args()
    os.environ["REGTUI_TRAINER"] = args.trainer
    names = [n for n in args.scenarios.split(",") if n] or sorted(p.stem for p in sc.bundled_dir().glob("*.toml"))
    headless(sc.plan(sc.load(sc.find("weight-decay")), {}), 0.5)  # warm up imports and allocators
    print(
        f"trainer {args.trainer}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}, {args.rounds} rounds of <= {args.seconds:g} s, load average {load():.2f}",
        flush=True,
    )
    print(
        f"{'size':7s} {'scenario':19s} {'view':7s} {'headless':>8s} {'app':>8s} {'ratio':>5s} {'min':>5s} "
        f"{'upd/s':>5s} {'bld/s':>5s} {'stat/s':>5s} {'stop':>5s} {'final':>5s} {'run s':>5s} {'load<':>5s} "
        f"{'load>':>5s}"
    )
    rows: list[dict[str, Any]] = []
    for text in args.sizes.split(","):
        width, height = (int(v) for v in text.split("x"))
        rows += asyncio.run(bench_size((width, height), names, args.seconds, args.rounds))
    timed = [r for r in rows if r["run_s"] >= 1.0]
    target = [r for r in timed if r["updates"] >= 2 and r["ratio"] >= 0.9]
    stretch = [r for r in timed if r["updates"] >= 4 and r["ratio"] >= 0.95]
    short = [r for r in rows if r["run_s"] < 1.0]
    print(
        f"rows with runs >= 1 s: {len(timed)}; >= 2 updates/s at >= 0.9x: {len(target)}; "
        f">= 4/s at >= 0.95x: {len(stretch)}; load average at the end {load():.2f}"
    )
    for r in timed:
        if r not in target:
            print(f"  below target: {r['size']} {r['name']} ({r['ratio']:.2f}x, {r['updates']:.1f} updates/s)")
    if short:
        frames = [r["final_frame"] for r in short if r["final_frame"] is not None]
        print(
            f"rows with runs < 1 s (no meaningful rate): {len(short)}; their final frame came "
            f"{max(frames, default=float('nan')):.2f} s after the run ended at most"
        )


if __name__ == "__main__":
    main()
