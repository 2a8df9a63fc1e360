"""The redraw timer: redraw what changed, then wait in proportion to what drawing cost.

Training runs in a thread and shares the GIL with the UI, so every redraw
slows it down. The cost of a redraw is the UI thread's CPU time since the
previous tick: the plotext renders, Textual's compositing and the status line
included. Waiting ``draw_factor`` times that keeps the UI thread's share of the
GIL near 1/draw_factor, so training keeps its speed. The benchmark and the
tests read ``redraws``, ``draw_seconds``, ``interval`` and ``last_draw_cost``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message_pump import MessagePump

MAX_INTERVAL = 2.0  # never wait longer than this between redraws


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
    ) -> None:
        self._owner = owner
        self._redraw = redraw
        self._busy = busy
        self._alive = alive
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
            delay = self.min_interval
            if self._drew_last or self._busy():
                delay = max(delay, min(MAX_INTERVAL, self.draw_factor * max(self.last_draw_cost, tick_cost)))
            self._schedule(delay)
