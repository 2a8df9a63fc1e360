"""How long a view switch (Tab) takes after a run, with the CPUs busy.

Starts ``--busy`` processes that spin (two busy loops take both cores of the 2-core machines),
then, per scenario, opens the dashboard (``App.run_test``, a headless terminal of ``--size``),
waits for its devices (``--devices detect``, the dashboard's own way: torch is imported in the UI
process to find them; ``cpu`` skips that), runs the scenario at its defaults to the end, and
presses Tab through every view ``--rounds`` times. A switch is timed from posting the key to the
first screen refresh after the new view shows its data: the view is the active tab, it was drawn
from the run's current data (``DashboardScreen.view_is_current``) and it has no tables left to
mount (``View.settled``), as seen by an ``App.call_after_refresh`` callback (the frame is out). Prints
the median and the maximum per view and over all switches, the runs History lists (the run store
the dashboard uses: ``REGTUI_RUNS_DIR``, else the user's) and the load average. The target is a
maximum of 0.3 s under two busy loops.

    python benchmarks/bench_view_switch.py [--busy 2] [--rounds 3] [--size 120x40] [--trainer process|thread]
                                           [--devices detect|cpu]
                                           [--scenarios weight-decay-sweep,dropout-sweep,bn,digits-norms]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import platform
import statistics
import time
from collections import defaultdict

from textual import events

from regtui.app.app import make_app
from regtui.store import open_store

SCENARIOS = "weight-decay-sweep,dropout-sweep,bn,digits-norms"


class GcClock:
    """The garbage collector's passes, timed (``gc.callbacks``): a full pass can stall a switch."""

    def __init__(self) -> None:
        self.seconds = 0.0  # in passes since the switch began (begin())
        self.full = 0  # full (generation 2) passes, all along
        self.per_switch: list[float] = []  # each switch's time in passes
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.full += info["generation"] == 2

    def begin(self) -> None:
        self.seconds = 0.0


GC = GcClock()


def spin() -> None:
    """A busy loop: the load of another process on a shared core."""
    while True:
        pass


async def painted(app, target: str, timeout: float = 30.0) -> tuple[float, float, float]:
    """Wait for the first frame out after which ``target`` is the active view, drawn from the
    current data and settled; its wall and UI-thread CPU clocks and the collector's seconds since
    the switch began. Looked at in the frame's own callbacks, so what runs after the frame (the
    collector's deferred pass) is not counted."""
    screen = app.main
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    while True:
        frame: asyncio.Future[tuple[bool, float, float, float]] = loop.create_future()

        def after(frame: asyncio.Future[tuple[bool, float, float, float]] = frame) -> None:
            if not frame.done():
                shown = screen.active_view == target and screen.view_is_current(target)
                shown = shown and screen.views[target].settled()
                frame.set_result((shown, time.perf_counter(), time.thread_time(), GC.seconds))

        app.call_after_refresh(after)
        shown, at, cpu, collecting = await frame
        if shown:
            return at, cpu, collecting
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"view {target} not shown after {timeout} s")
        await asyncio.sleep(0.001)


async def one_scenario(
    name: str, size: tuple[int, int], rounds: int, detect: bool
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    app = make_app(file=name, devices=None if detect else ["cpu"])  # devices given: no torch import here
    times: dict[str, list[float]] = defaultdict(list)
    cpu_times: dict[str, list[float]] = defaultdict(list)  # the UI thread's CPU time (load does not inflate it)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        while app.device is None:  # torch loading: r would queue the run
            await asyncio.sleep(0.05)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.press("r")
        state = app.main.run_state
        assert state is not None, "r did not start a run"
        started = time.perf_counter()
        while state.status in ("running", "stopping") or not state.saved.is_set():
            await asyncio.sleep(0.05)
        assert state.status == "done", (state.status, state.error)
        print(f"{name}: ran in {time.perf_counter() - started:.1f} s", flush=True)
        await pilot.pause(0.5)
        views = app.main.visible_views()
        for _ in range(rounds):
            for _ in views:
                current = app.main.active_view
                target = views[(views.index(current) + 1) % len(views)]
                GC.begin()
                start, cpu = time.perf_counter(), time.thread_time()
                app.post_message(events.Key("tab", None))  # as the terminal sends it, no Pilot wait
                shown_at, cpu_at, collecting = await painted(app, target)
                times[target].append(shown_at - start)
                cpu_times[target].append(cpu_at - cpu)
                GC.per_switch.append(collecting)
                await asyncio.sleep(0.2)  # a user reads a moment before the next key
    return times, cpu_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=2, help="busy-loop processes to start (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="times to tab through every view")
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--scenarios", default=SCENARIOS)
    parser.add_argument("--trainer", choices=("process", "thread"), default="process")
    parser.add_argument("--devices", choices=("detect", "cpu"), default="detect")
    args = parser.parse_args()
    # The dashboard's own default: training in a child process, so the UI process never imports torch.
    os.environ["REGTUI_TRAINER"] = args.trainer
    width, height = (int(v) for v in args.size.split("x"))
    gc.callbacks.append(GC)
    load_before = os.getloadavg()[0]
    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for p in spinners:
        p.start()
    every: list[float] = []
    every_cpu: list[float] = []
    try:
        for name in args.scenarios.split(","):
            times, cpu_times = asyncio.run(one_scenario(name, (width, height), args.rounds, args.devices == "detect"))
            for view, values in times.items():
                every += values
                every_cpu.extend(cpu_times[view])
                print(
                    f"  {view:8s} median {statistics.median(values):.3f} s  max {max(values):.3f} s"
                    f"  (UI thread CPU median {statistics.median(cpu_times[view]):.3f} s, {len(values)} switches)"
                )
    finally:
        for p in spinners:
            p.terminate()
    print(
        f"\nall {len(every)} switches: median {statistics.median(every):.3f} s, max {max(every):.3f} s "
        f"(target: max <= 0.3 s); UI thread CPU per switch median {statistics.median(every_cpu):.3f} s, "
        f"max {max(every_cpu):.3f} s; in the garbage collector per switch median "
        f"{statistics.median(GC.per_switch):.3f} s, max {max(GC.per_switch):.3f} s "
        f"({GC.full} full passes in all)\n{args.size}, {args.busy} busy loops, devices {args.devices}, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"{len(open_store().listing().runs)} runs in the store, "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )


if __name__ == "__main__":
    main()
