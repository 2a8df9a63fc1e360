"""The dashboard freezes what it holds for good once started (full garbage-collector passes skip
it), never a run's data, and gives it all back to the collector when it closes."""

from __future__ import annotations

import gc

from regtui.app.heap import HeapFreezer

from .conftest import app_for, wait_until
from .driver import Dashboard


def walked(obj: object) -> bool:
    """Whether a full pass of the collector walks ``obj`` (frozen objects are not listed)."""
    return any(o is obj for o in gc.get_objects())


async def test_the_started_dashboard_is_frozen_but_not_its_runs():
    assert gc.get_freeze_count() == 0
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        screen = app.main
        assert gc.get_freeze_count() > 10_000  # Textual, the modules, the widgets
        assert not walked(screen) and not walked(screen.deck)
        await dash.set_fields(iters="30")
        await dash.run_to_end()
        assert walked(dash.collector)  # a run's data stay the collector's: a later run drops them
    assert gc.get_freeze_count() == 0  # closed: its widgets are garbage the collector can take
    assert walked(screen)


async def test_a_view_switch_draws_with_the_collector_paused_until_its_frame():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="30")
        await dash.run_to_end()
        await dash.settled()
        assert dash.active_view == "loss" and "fit" in dash.visible_views()
        fit = dash.view("fit")  # not drawn since the run ended: opening it draws it
        enabled: list[bool] = []
        draw = fit.draw
        fit.draw = lambda snapshot: enabled.append(gc.isenabled()) or draw(snapshot)
        dash.show_view("fit")
        await wait_until(lambda: bool(enabled), 10)
        assert enabled == [False]  # no collector pass inside the switch
        await wait_until(gc.isenabled, 10)  # it runs again once the frame is out
    assert gc.isenabled()


class Owner:
    """A stand-in for the screen: the callbacks pause() leaves, run when a test says so."""

    def __init__(self) -> None:
        self.after_refresh: list = []
        self.timers: list = []
        self.later: list = []

    def call_after_refresh(self, callback) -> None:
        self.after_refresh.append(callback)

    def set_timer(self, delay, callback) -> None:
        self.timers.append(callback)

    def call_later(self, callback) -> None:
        self.later.append(callback)


def test_a_burst_of_switches_holds_the_collector_off_until_the_last_one_shows():
    heap, owner = HeapFreezer(), Owner()
    shown = [False]
    try:
        heap.pause(owner, lambda: shown[0])
        heap.pause(owner, lambda: shown[0])  # the next key before the first view showed
        assert not gc.isenabled()
        first_frame, second_frame = owner.after_refresh
        first_too_long, _ = owner.timers
        first_frame()
        first_too_long()  # the first switch's limit: the second still holds it
        assert not gc.isenabled() and owner.later == []
        second_frame()  # its frame is out, its view not shown yet: looked at again later
        assert not gc.isenabled() and owner.later == [] and len(owner.timers) == 3
        shown[0] = True
        owner.timers[-1]()  # the recheck asks for the next frame
        owner.after_refresh[-1]()
        assert not gc.isenabled()  # resumed after that frame's other callbacks, not within them
        (end,) = owner.later
        end()
        assert gc.isenabled()
    finally:
        heap.resume()
    assert gc.isenabled()
