"""The dashboard freezes what it holds for good once started (full garbage-collector passes skip
it), never a run's data, and gives it all back to the collector when it closes."""

from __future__ import annotations

import gc

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
