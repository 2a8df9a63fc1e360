"""Garbage-collector pauses in the dashboard: short, and never inside a view switch.

A full pass of CPython's cyclic garbage collector walks every tracked object, and it runs on
whatever allocates when the heap has grown enough. The dashboard's heap is mostly permanent (the
modules, Textual's widgets and styles, torch once the devices are found): 120k–260k objects, and
a full pass over them took 0.1–0.25 s of the UI thread. Frozen once the dashboard has started
(:func:`gc.freeze`), they are skipped by every later pass, which then walks only a run's data and
what the views drew since (their frames' strips, up to about 140k objects): 5–70 ms. The screen
thaws them when it closes, so a process that opens dashboards one after another (the tests, the
benchmarks) gets each one's objects collected.

A view switch allocates a lot (a frame's strips), so such a pass often fell inside one: the slow
first visits of a view after a run. The collector is held off from the switch until the view
shows its data (:meth:`HeapFreezer.pause`, as Textual does while scrolling with
``App.PAUSE_GC_ON_SCROLL``): the pass runs after the frame is out, while the user reads it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from textual.message_pump import MessagePump

MAX_PAUSE_S = 1.0  # the collector runs again this long after the last switch, whatever happens
RECHECK_S = 0.01  # how soon a switch not done at its frame is looked at again


class HeapFreezer:
    """Freezes the heap once (:meth:`freeze`), holds the collector off during a switch (:meth:`pause`),
    and gives it all back (:meth:`thaw`)."""

    def __init__(self) -> None:
        self.frozen = False
        self.paused = False  # the collector was disabled by pause()
        self.pauses = 0  # pause() calls: only the latest one's frame resumes it

    def freeze(self) -> None:
        """Collect what is garbage now, then freeze the rest: call it when nothing of a run is held yet."""
        if self.frozen:
            return
        gc.collect()
        gc.freeze()
        self.frozen = True

    def thaw(self) -> None:
        """Back to the collector: everything frozen is walked again (and collected when unreachable)."""
        self.resume()
        if self.frozen:
            gc.unfreeze()
            self.frozen = False

    def pause(self, owner: MessagePump, done: Callable[[], bool] = lambda: True) -> None:
        """No collection until a frame of ``owner`` is out and ``done()`` (the switch shows the view's
        data: a view that mounts tables takes a few frames), or :data:`MAX_PAUSE_S` passed. A pause
        while paused (a burst of switches) lasts until the last one is done."""
        if not self.paused:
            if not gc.isenabled():
                return  # disabled by someone else (Textual while it scrolls): theirs to enable
            gc.disable()
            self.paused = True
        self.pauses += 1
        pause = self.pauses

        def end() -> None:
            if pause == self.pauses:  # else a later switch holds it now
                self.resume()

        def frame_out() -> None:
            if pause != self.pauses:
                return
            if done():
                owner.call_later(end)  # after the other callbacks of this frame
            else:  # not yet: look again after the next frame (a timer: an idle screen would call back at once)
                owner.set_timer(RECHECK_S, lambda: owner.call_after_refresh(frame_out))

        owner.call_after_refresh(frame_out)
        owner.set_timer(MAX_PAUSE_S, end)

    def resume(self) -> None:
        """The collector runs again (if :meth:`pause` stopped it)."""
        if self.paused:
            self.paused = False
            gc.enable()
