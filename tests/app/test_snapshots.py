"""Snapshot tests (pytest-textual-snapshot) at the two sizes the design names.

Deterministic: fixed seed, devices given (no detection), no timings on screen
(before a run, or after one with steps/s and elapsed hidden), and the one
after-run snapshot uses bn-stats, whose numbers are exact.
Update with ``pytest tests/app --snapshot-update`` after checking the SVGs.
"""

from __future__ import annotations

from regtui.app.widgets.status_bar import StatusBar

from .conftest import app_for, wait_until
from .driver import Dashboard


def test_wide_before_a_run(snap_compare):
    assert snap_compare(app_for(file="weight-decay"), terminal_size=(120, 40))


def test_narrow_params_tab(snap_compare):
    assert snap_compare(app_for(file="weight-decay"), terminal_size=(80, 24))


def test_narrow_refuses_a_bad_value(snap_compare):
    async def run_before(pilot):
        await pilot.pause()
        Dashboard(pilot).field("lr").value = "-1"
        await pilot.pause()

    assert snap_compare(app_for(file="weight-decay"), terminal_size=(80, 24), run_before=run_before)


def test_wide_bn_stats_after_a_run(snap_compare):
    async def run_before(pilot):
        app = pilot.app
        dash = Dashboard(pilot)
        await pilot.pause()  # the dashboard screen composes after the App starts
        app.main.query_one(StatusBar).show_timing = False
        await pilot.pause()
        await pilot.press("r")
        await wait_until(lambda: dash.run.status == "done")
        await pilot.pause(0.3)
        app.main.refresh_status()
        await pilot.pause()

    assert snap_compare(app_for(file="bn-stats"), terminal_size=(120, 40), run_before=run_before)


def test_too_small(snap_compare):
    assert snap_compare(app_for(file="weight-decay"), terminal_size=(70, 20))
