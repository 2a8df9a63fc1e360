"""The footer lists its keys in one order on every view: the screen's keys (tab r s /), the view's
own (a chart's v h t, History's c d f), then ? Help and q Quit, whichever widget has the focus."""

from __future__ import annotations

import re

from .conftest import app_for, wait_until
from .driver import Dashboard
from .screen_text import screen_lines

FIRST = ["tab Next view", "r Run", "s Stop", "/ Scenarios"]
LAST = ["? Help", "q Quit"]


def footer_items(app) -> list[str]:
    """The footer's entries as drawn ("tab Next view", "v Variant", …), without the palette's ^p."""
    line = screen_lines(app)[-1].split("▏")[0]
    return [item.strip() for item in re.split(r"\s{2,}", line.strip()) if item.strip()]


async def test_every_view_lists_the_screen_keys_first_and_help_and_quit_last():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="20", hidden="8")
        await pilot.press("escape")
        await dash.run_to_end()
        middles = {}
        for view in dash.visible_views():
            dash.show_view(view)
            await pilot.pause()
            dash.view(view).focus_content()
            await wait_until(lambda: footer_items(app)[-2:] == LAST and len(footer_items(app)) >= 6, timeout=10)
            await pilot.pause(0.2)
            items = footer_items(app)
            assert items[:4] == FIRST and items[-2:] == LAST, (view, items)
            middles[view] = items[4:-2]
        assert middles["loss"] == middles["fit"] == ["v Variant", "h Hide/show", "t Train/test"]
        assert middles["history"] == ["c Compare", "d Delete", "f Filter"]
        assert middles["explain"] == []
