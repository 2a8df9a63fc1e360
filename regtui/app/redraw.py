"""The redraw timer: redraw what changed, at most every ``min_interval``, and less often when drawing is dear.

When training runs in a thread it shares the GIL with the UI, so every redraw
slows it down. The cost of a redraw is the UI thread's CPU time since the
previous tick: the plotext renders, Textual's compositing and the status line
included. A period (tick to tick) of ``draw_factor`` times that keeps the UI thread's share of the
GIL near 1/draw_factor, so training keeps its speed. When training runs in a
child process on a core of its own (``contended()`` is False), drawing cannot
slow it down, so the period is only ``OWN_CORE_FACTOR`` times the cost (the UI
thread stays under about a third of its core) and at least ``min_interval``:
with the dashboard's 0.25 s and a redraw of 20–60 ms, four chart updates a
second while data keep arriving.
The status line (``status``) has its own timer, ``STATUS_INTERVAL``, while a
run is going on, whatever the charts cost. The benchmark and the tests read
``redraws``, ``draw_seconds``, ``interval`` and ``last_draw_cost``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message_pump import MessagePump

MAX_INTERVAL = 2.0  # never wait longer than this between redraws
OWN_CORE_FACTOR = 3.0  # the draw factor when training does not share this process's GIL
STATUS_INTERVAL = 0.2  # the status line's refresh during a run, seconds
MIN_DELAY = 0.02  # the least wait after a tick, whatever it cost (other messages get their turn)


class RedrawScheduler:
    """Calls ``redraw(force) -> drew`` on a timer owned by ``owner``; ``busy()`` says a run is going on."""

    def __init__(
        self,
        owner: MessagePump,
        redraw: Callable[[bool], bool],
        *,
        busy: Callable[[], bool],
        alive: Callable[[], bool],
        min_interval: float,
        draw_factor: float,
        contended: Callable[[], bool] = lambda: True,
        status: Callable[[], None] | None = None,
    ) -> None:
        self._owner = owner
        self._redraw = redraw
        self._busy = busy
        self._alive = alive
        self._contended = contended
        self._status = status
        self.min_interval = min_interval
        self.draw_factor = draw_factor
        self.redraws = 0
        self.draw_seconds = 0.0
        self.last_draw_cost = 0.0
        self.interval = min_interval
        self._cpu_mark = time.thread_time()
        self._drew_last = False
        self._costs: list[float] = []

    def start(self) -> None:
        self._schedule(self.min_interval)
        if self._status is not None:
            self._owner.set_interval(STATUS_INTERVAL, self._status_tick, name="status")

    def factor(self) -> float:
        """How many times the last redraw's cost to wait before the next one."""
        return self.draw_factor if self._contended() else min(self.draw_factor, OWN_CORE_FACTOR)

    def _status_tick(self) -> None:
        if self._status is not None and self._alive() and self._busy():
            self._status()

    def now(self, force: bool = False) -> bool:
        """Redraw at once (a tab was opened, a run ended); ``force`` redraws even unchanged data."""
        drew = self._redraw(force)
        if drew:
            self.redraws += 1
        return drew

    def _schedule(self, delay: float) -> None:
        self.interval = delay
        self._owner.set_timer(delay, self._tick, name="redraw")

    def _tick(self) -> None:
        if not self._alive():
            return  # shutting down
        cpu = time.thread_time()
        wall = time.perf_counter()
        spent = cpu - self._cpu_mark
        if self._drew_last:
            # The median of the last three redraws, so one slow frame (a GC pause, a
            # busy machine) does not stall the charts for seconds.
            self._costs = [*self._costs, spent][-3:]
            self.last_draw_cost = sorted(self._costs)[len(self._costs) // 2]
            self.draw_seconds += spent
        try:
            self._drew_last = self.now()
        finally:
            tick_cost = time.thread_time() - cpu
            self._cpu_mark = cpu
            period = self.min_interval
            if self._drew_last or self._busy():
                period = max(period, min(MAX_INTERVAL, self.factor() * max(self.last_draw_cost, tick_cost)))
            # The period runs from tick to tick: the time this tick took is part of it, so a
            # cheap redraw every ``min_interval`` really comes ``1 / min_interval`` times a second.
            self._schedule(max(MIN_DELAY, period - (time.perf_counter() - wall)))
