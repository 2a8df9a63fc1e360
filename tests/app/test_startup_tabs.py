"""A view opened while the dashboard is still starting (a key typed at once, as in a paste over SSH)
stays open: the first fitting of the tabs, which waits for them to be mounted, does not reopen the
scenario's first view over the user's choice."""

from __future__ import annotations

from textual.widgets import TabbedContent

from .conftest import app_for


async def test_a_view_opened_during_startup_stays_open():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        app.main.query_one(TabbedContent).active = "tab-fit"  # before the first refresh
        await pilot.pause()
        await pilot.pause(0.2)
        assert app.main.active_view == "fit"


async def test_without_a_choice_the_scenario_opens_on_its_first_view():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        assert app.main.active_view == "loss"
