"""What a newcomer does with the keyboard and mouse: scroll the lesson, type in bursts,
press Enter in a field, press r during a run (tests of the behaviour, never of timings)."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from tests.app.conftest import app_for, key, wait_until
from tests.app.test_flows import start_long_run

WIDE = (120, 40)
NARROW = (80, 24)


async def _open_explain(pilot) -> None:
    app = pilot.app
    for _ in range(8):
        if app.main.active_view == "explain":
            break
        await pilot.press("tab")
    assert app.main.active_view == "explain"


async def test_explain_scrolls_with_keys_and_wheel():
    from regtui.app.widgets.explanation import Explanation

    for size in (WIDE, NARROW):
        app = app_for(file="weight-decay")
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await pilot.press("escape")
            await _open_explain(pilot)
            await pilot.pause()
            box = app.main.query_one(Explanation)
            assert app.focused is box, "tab to the Explain view focuses the text"
            assert box.max_scroll_y > 0
            await pilot.press("down")
            await pilot.pause()
            assert box.scroll_y == 1
            await pilot.press("pagedown")
            await pilot.pause()
            assert box.scroll_y > 5
            await pilot.press("end")
            await pilot.pause()
            assert box.scroll_y == box.max_scroll_y
            await pilot.press("home")
            await pilot.pause()
            assert box.scroll_y == 0
            await pilot.press("space")
            await pilot.pause()
            assert box.scroll_y > 5
            await pilot.press("home")
            await pilot.pause()
            region = box.region  # the mouse wheel over the text, as the terminal sends it
            x, y = region.x + region.width // 2, region.y + region.height // 2
            for _ in range(3):
                app.post_message(events.MouseScrollDown(None, x, y, 0, 1, 0, False, False, False,
                                                        screen_x=x, screen_y=y))
            await pilot.pause()
            assert box.scroll_y > 0
