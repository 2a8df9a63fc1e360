"""``regtui runs follow``: a run's progress as one line a second, for a terminal without the dashboard.

Reads the run through :class:`regtui.store.follow.Follower` (it only reads: the
run never waits for it), prints ``run 7 · 1400/4000 model-steps train · 1650 model-steps/s · 0:03 · ETA 0:01 ·
<each variant's latest metrics>`` once a second and a last
line when the run ends, and exits with the run's state as its code (0
completed, 1 failed, 130 stopped or interrupted, as the headless run's own).
Ctrl-C stops the following, never the run.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from regtui.cli.common import EXIT_FAILED, EXIT_INTERRUPTED
from regtui.events import Event, Metrics, RunStarted
from regtui.numbers import fmt
from regtui.registry import TRACK
from regtui.store.follow import POLL_S, Follower
from regtui.store.record import headline

LINE_S = 1.0  # one progress line a second
SHOWN_VARIANTS = 3  # more variants than this: the first ones, then "+N more"
SHOWN_METRICS = 2  # of each variant: its first metrics, in the order the run logs them
EXIT_CODES = {"completed": 0, "failed": EXIT_FAILED, "stopped": EXIT_INTERRUPTED, "interrupted": EXIT_INTERRUPTED}


class Latest:
    """Each variant's latest value of each metric (the mean over its seeds' latest), from Metrics events.

    In regtui's own runs every metric has a value at every step, so a NaN is a diverged seed's (left
    out of the mean). A tracked run (``regtui.track``) logs some metrics only now and then, and its
    series hold NaN at the steps where a metric was not logged: there the latest is the last value
    logged, never the NaN between two points."""

    def __init__(self) -> None:
        self.values: dict[str, dict[int, dict[str, float]]] = {}
        self.names: list[str] = []
        self.sparse = False

    def add(self, events: Iterable[Event]) -> None:
        for event in events:
            if isinstance(event, RunStarted):
                self.sparse = event.experiment == TRACK
            if isinstance(event, Metrics) and event.step:
                seed = self.values.setdefault(event.variant, {}).setdefault(event.seed, {})
                for name, values in event.values.items():
                    logged = [x for x in values if not math.isnan(x)] if self.sparse else values
                    if logged:
                        seed[name] = logged[-1]
                    if name not in self.names:
                        self.names.append(name)

    def text(self) -> str:
        parts = []
        for variant, seeds in list(self.values.items())[:SHOWN_VARIANTS]:
            cells = []
            for name in self.names[:SHOWN_METRICS]:
                xs = [s[name] for s in seeds.values() if name in s]
                if xs:
                    finite = [x for x in xs if math.isfinite(x)]
                    cells.append(f"{name} {fmt(sum(finite) / len(finite) if finite else xs[0], 3)}")
            if cells:
                parts.append(f"{variant}: {' '.join(cells)}")
        more = len(self.values) - SHOWN_VARIANTS
        return " · ".join(parts + ([f"+{more} more"] if more > 0 else []))


def clock_text(seconds: float | None) -> str:
    """``0:07``, ``12:05``, ``1:02:03`` (``?`` when unknown)."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def progress_line(follower: Follower, latest: Latest) -> str:
    """The line printed once a second while the run goes on."""
    parts = [f"run {follower.id}"]
    progress = follower.collector.progress
    if follower.collector.started is None:
        parts.append("starting (no events yet)")
    elif progress is not None:
        # a run of several models counts every model's steps (the dashboard's "model-steps/s" too)
        done = f"{progress.step}/{progress.total} model-steps" if progress.total else f"step {progress.step}"
        parts.append(f"{done} {progress.phase}".rstrip())
    rate = follower.rate.steps_per_s()
    if rate is not None:
        unit = "model-steps/s" if progress is not None and progress.total else "steps/s"
        parts.append(f"{rate:.0f} {unit}" if rate >= 10 else f"{fmt(rate, 2)} {unit}")
    parts.append(clock_text(follower.elapsed_s()))
    eta = follower.rate.eta_s()
    if eta is not None:
        parts.append(f"ETA {clock_text(eta)}")
    metrics = latest.text()  # last: the longest part, cut first by a narrow terminal
    if metrics:
        parts.append(metrics)
    return " · ".join(parts)


def end_line(follower: Follower, latest: Latest) -> str:
    """The last line: how the run ended, its elapsed time and its headline results."""
    info = follower.info
    state = follower.state
    parts = [f"run {follower.id} {state}", clock_text(follower.elapsed_s())]
    results = headline(info.finals) if info is not None else ""
    if results:
        parts.append(results)
    elif latest.text():
        parts.append(latest.text())
    if state == "interrupted":
        parts.append(f"its process ended without saving; what it wrote is kept (regtui runs show {follower.id})")
    if state == "failed" and info is not None and info.error:
        parts.append(str(info.error))
    return " · ".join(parts)


def follow(
    follower: Follower,
    out: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Print the run's progress until it ends; its exit code (Ctrl-C propagates as KeyboardInterrupt)."""
    stream = out if out is not None else sys.stdout
    latest = Latest()
    due = clock()
    while True:
        latest.add(follower.poll())
        if follower.ended:
            _print(stream, end_line(follower, latest))
            return EXIT_CODES.get(follower.state, EXIT_FAILED)
        if follower.caught_up and clock() >= due:
            _print(stream, progress_line(follower, latest))
            due += LINE_S
            if due <= clock():  # a slow poll: the next line a second from now, not at once
                due = clock() + LINE_S
        sleep(POLL_S)


def _print(stream: TextIO, line: str) -> None:
    stream.write(line + "\n")
    stream.flush()
