"""Training speed inside the dashboard vs headless, same scenario, same process.

Runs ``weight-decay`` (more iterations than the bundled file, so a run lasts a
few seconds) headless through ``run_plan`` + ``Collector`` and inside the app
(``App.run_test``, headless terminal of 120x40, the Loss chart visible and
redrawing from the Collector), alternating, and prints steps/s of each and the
ratio app/headless. The target is >= 0.90.

    python benchmarks/bench_tui.py [--iters 12000] [--rounds 5] [--scenario weight-decay]
                                   [--size 120x40] [--device cpu]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time

import torch

from regtui import scenario as sc
from regtui.engine import run_plan
from regtui.report import Collector


def make_plan(name: str, sets: dict[str, str]) -> sc.Plan:
    scenario = sc.load(sc.find(name))
    return sc.plan(scenario, sc.parse_sets(scenario.spec, [f"{k}={v}" for k, v in sets.items()]))


def headless(plan: sc.Plan, device: str = "cpu") -> tuple[float, int]:
    collector = Collector()
    finished = run_plan(plan, device, emit=collector, threads=1)
    assert finished.status == "completed", finished
    return finished.elapsed_s, collector.progress.step


async def in_app(
    name: str,
    sets: dict[str, str],
    size: tuple[int, int],
    device: str = "cpu",
) -> tuple[float, int, dict]:
    from textual.widgets import Input

    from regtui.app.app import make_app
    from regtui.app.widgets.loss_chart import LossChart

    app = make_app(file=name, devices=[device])
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for key, value in sets.items():
            app.main.form.query_one(f"#field-{key}", Input).value = value
        await pilot.pause()
        app.main.query_one("#views").active = "tab-loss"
        await pilot.pause()
        chart = app.main.query_one(LossChart)
        renders_before, redraws_before = chart.renders, app.main.redraw.redraws
        cpu = time.thread_time()  # the UI thread's CPU time: every redraw and composite
        await pilot.press("r")
        state = app.main.run_state
        while state.status in ("running", "stopping"):
            await asyncio.sleep(0.05)
        ui_cpu = time.thread_time() - cpu
        assert state.status == "done", (state.status, state.error)
        stats = {
            "redraws": app.main.redraw.redraws - redraws_before,
            "chart renders": chart.renders - renders_before,
            "UI CPU share": f"{ui_cpu / state.elapsed_s:.1%}",
            "last interval s": round(app.main.redraw.interval, 3),
            "points/series": max(chart.series_points.values()),
        }
        return state.elapsed_s, state.collector.progress.step, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="weight-decay")
    parser.add_argument("--iters", type=int, default=12000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    sets = {"iters": str(args.iters)}
    size = tuple(int(v) for v in args.size.split("x"))
    plan = make_plan(args.scenario, sets)

    headless(make_plan(args.scenario, {"iters": "50"}), args.device)  # warm up imports and allocators
    rates_h, rates_a = [], []
    for r in range(args.rounds):
        elapsed, steps = headless(plan, args.device)
        rates_h.append(steps / elapsed)
        elapsed_a, steps_a, stats = asyncio.run(in_app(args.scenario, sets, size, args.device))
        rates_a.append(steps_a / elapsed_a)
        print(
            f"round {r + 1}: headless {rates_h[-1]:8.0f} steps/s  app {rates_a[-1]:8.0f} steps/s  "
            f"ratio {rates_a[-1] / rates_h[-1]:.2f}  {stats}"
        )
    ratios = [a / h for a, h in zip(rates_a, rates_h)]
    print(
        f"\n{args.scenario} iters={args.iters} ({steps} progress steps per run), {size[0]}x{size[1]}, "
        f"device {args.device}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__} threads 1, load average {os.getloadavg()[0]:.2f}"
    )
    # Noise from other processes only ever slows a run down, so the best of N is the
    # steadiest estimate of each speed; the median of the per-round ratios is shown too.
    h, a = max(rates_h), max(rates_a)
    print(
        f"best of {args.rounds}: headless {h:.0f} steps/s, app {a:.0f} steps/s, ratio app/headless {a / h:.2f}; "
        f"median of the per-round ratios {statistics.median(ratios):.2f}"
    )


if __name__ == "__main__":
    main()
