"""A chart's title puts the user's choices (v, h, t) first, so a narrow title is cut at its end,
never where it says what is in focus; at 120x40 the dropout sweep's Loss title is whole."""

from __future__ import annotations

from regtui.app.widgets.loss_chart import LossChart

from .conftest import app_for, wait_until
from .driver import Dashboard
from .screen_text import screen_lines


async def test_the_dense_loss_title_is_whole_at_120x40_and_names_the_focus_first():
    app = app_for(file="dropout-sweep")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await dash.set_fields(iters="20")
        await pilot.press("escape")
        await dash.run_to_end()
        dash.show_view("loss")
        chart = app.main.query_one(LossChart)
        await wait_until(
            lambda: chart.focus_variant == 0 and chart.title_text.startswith("focus: dropout=0 (v) · loss")
        )
        await pilot.pause(0.3)
        (line,) = [line for line in screen_lines(app) if "focus: dropout=0 (v)" in line]
        assert "…" not in line and "test (train mode)" in line
        await pilot.press("t")  # a second choice joins the first, still ahead of the rest
        await wait_until(lambda: chart.title_text.startswith("focus: dropout=0 (v) · train only (t) · loss"))
