"""/ (the footer's "Scenarios") at 80x24 opens the scenario dropdown's list at once: one key, and the
next keys of a burst (a paste, SSH) move in the list and pick (a trial had to press Enter first)."""

from __future__ import annotations

from regtui.app.widgets.picker import ScenarioPicker
from regtui.app.widgets.picker_select import ScenarioSelect

from .conftest import app_for, wait_until


async def test_slash_opens_the_scenario_list_and_a_burst_picks_the_next_one():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        first = app.main.entry_index
        select = app.main.query_one(ScenarioSelect)
        await pilot.press("slash")
        assert select.expanded and app.focused is not None and select in app.focused.ancestors_with_self
        await pilot.press("escape")
        await wait_until(lambda: not select.expanded, 10)
        assert app.main.entry_index == first
        await pilot.press("slash", "down", "enter")  # at once
        await wait_until(lambda: app.main.entry_index == first + 1, 10)
        assert not select.expanded


async def test_slash_in_the_sidebar_layout_focuses_the_list_it_shows():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        assert isinstance(app.focused, ScenarioPicker)
