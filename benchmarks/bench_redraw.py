"""The cost of one redraw of each chart view, on the real dashboard, after a real run.

For each scenario it opens the dashboard (``App.run_test(size=...)``), runs the
scenario to its end (default parameters), and then, for every chart view the
run shows (loss, fit, layers, sweep), opens the view and forces ``--repeats``
redraws from the finished run's data. Each redraw is what the redraw timer
does during a run: a collector snapshot, the view's ``draw`` (the plotext
calls) and Textual's render and composite of the frame (``pilot.pause()``).
It prints, per view, the median UI-thread CPU time of one redraw (all of it),
and the part spent in the charts' ``render`` (plotext ``build`` + ANSI
parsing), in milliseconds.

    python benchmarks/bench_redraw.py [--size 120x40] [--repeats 9] [--scenarios a,b]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

CHART_VIEWS = ("loss", "fit", "layers", "sweep")


async def measure(name: str, size: tuple[int, int], repeats: int) -> list[dict[str, Any]]:
    from regtui.app.app import make_app
    from regtui.app.widgets.chart import LiveChart

    app = make_app(file=name, devices=["cpu"])
    rows: list[dict[str, Any]] = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        main = app.main
        main.action_run()
        state = main.run_state
        while state is None or state.status in ("running", "stopping", "queued"):
            await asyncio.sleep(0.05)
            state = main.run_state
        await pilot.pause(0.3)
        for view_name in CHART_VIEWS:
            view = main.views.get(view_name)
            if view is None or not view.shown(main._showing()):
                continue
            main.query_one("#views").active = f"tab-{view_name}"  # type: ignore[attr-defined]
            await pilot.pause(0.2)
            charts = list(view.query(LiveChart))
            totals, renders = [], []
            profiler = None
            if os.environ.get("BENCH_PROFILE") == view_name:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            for _ in range(repeats):
                before = sum(c.render_seconds for c in charts)
                cpu = time.thread_time()
                main.redraw.now(force=True)
                await pilot.pause()
                totals.append(time.thread_time() - cpu)
                renders.append(sum(c.render_seconds for c in charts) - before)
            if profiler is not None:
                import pstats

                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            points = max((max(c.series_points.values(), default=0) for c in charts), default=0)
            rows.append(
                {
                    "scenario": name,
                    "view": view_name,
                    "total_ms": 1000 * statistics.median(totals),
                    "render_ms": 1000 * statistics.median(renders),
                    "series": sum(len(c.series_points) for c in charts),
                    "points": points,
                }
            )
    return rows


def main() -> None:
    from regtui import scenario as sc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--scenarios", default="", help="comma-separated names (default: every bundled one)")
    args = parser.parse_args()
    os.environ.setdefault("REGTUI_TRAINER", "process")
    size = tuple(int(v) for v in args.size.split("x"))
    names = [n for n in args.scenarios.split(",") if n] or sorted(p.stem for p in sc.bundled_dir().glob("*.toml"))
    print(f"size {size[0]}x{size[1]}, load average {os.getloadavg()[0]:.2f}", flush=True)
    print(f"{'scenario':20s} {'view':7s} {'redraw ms':>9s} {'render ms':>9s} {'series':>6s} {'points':>6s}")
    for name in names:
        for row in asyncio.run(measure(name, size, args.repeats)):  # type: ignore[arg-type]
            print(
                f"{row['scenario']:20s} {row['view']:7s} {row['total_ms']:9.1f} {row['render_ms']:9.1f} "
                f"{row['series']:6d} {row['points']:6d}",
                flush=True,
            )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
