"""The status line a newcomer reads: an expected divergence is a result, progress in units
that cannot disagree with the charts."""

from __future__ import annotations

from regtui.app.widgets.status_bar import StatusBar, StatusInfo

from .conftest import app_for
from .driver import Dashboard


async def test_bn_divergence_is_a_result_not_a_failure():
    app = app_for(file="bn")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(train_steps="2")
        await pilot.press("escape")
        await dash.run_to_end()
        state = dash.run
        assert state.status == "done" and dash.status_word() == "done"
        assert "normal init went inf/NaN at layer" in state.note
        text = dash.status_text()
        assert "done · normal init went inf/NaN at layer" in text
        assert "diverged" not in text and "324" not in text
        assert "100%" in text


def test_progress_is_shown_in_percent():
    bar = StatusBar()
    text = bar.build(StatusInfo(status="running", step=162, total=324, phase="measure", device="cpu"), 100).plain
    assert "50% measure" in text and "162" not in text
