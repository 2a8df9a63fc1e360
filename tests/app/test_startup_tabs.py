"""A view opened by a key while the dashboard is still starting (typed at once, as in a paste over
SSH) stays open: the first fitting of the tabs, which waits until they are mounted and so may come
after such a key, does not reopen the scenario's first view over it."""

from __future__ import annotations

from .conftest import app_for
from .driver import Dashboard


async def test_the_first_fitting_leaves_open_a_view_a_key_opened():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("tab")
        assert Dashboard(pilot).active_view == "fit"
        app.main.fit_tabs_at_start()  # as when it comes after the key
        assert Dashboard(pilot).active_view == "fit"


async def test_without_a_key_the_scenario_opens_on_its_first_view():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.main.fit_tabs_at_start()
        assert Dashboard(pilot).active_view == "loss"
