"""In a form field letters are text (r types an r, not Run): the footer then lists the keys that act
there, Enter (⏎) to run and Esc to leave the field (a trial at 80x24 typed r into n_points)."""

from __future__ import annotations

from .conftest import app_for, wait_until
from .driver import Dashboard
from .screen_text import screen_lines


def footer(app) -> str:
    return screen_lines(app)[-1]


async def test_in_a_field_the_footer_lists_enter_run_and_esc_and_r_is_typed():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(80, 24)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert "r Run" in footer(app) and "⏎ Run" not in footer(app)
        await dash.type_into("iters", "30")
        await wait_until(lambda: "⏎ Run" in footer(app), 10)
        assert "esc Leave field" in footer(app) and "r Run" not in footer(app)
        await pilot.press("r")  # a letter: typed, no run
        await pilot.pause()
        assert dash.field("iters").value == "30r" and dash.run is None
        await pilot.press("backspace", "enter")  # Enter runs what the field shows
        state = await dash.wait_for_end()
        assert state.plan.params["iters"] == 30
        await wait_until(lambda: "r Run" in footer(app), 10)  # out of the field: the letters act again
        assert "⏎ Run" not in footer(app)


async def test_esc_leaves_the_field_and_r_runs_again():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(80, 24)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.type_into("iters", "20")
        await pilot.press("escape", "r")  # in one burst, as over SSH
        state = await dash.wait_for_end()
        assert dash.field("iters").value == "20" and state.plan.params["iters"] == 20
