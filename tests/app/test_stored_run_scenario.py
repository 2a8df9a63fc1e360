"""A stored run whose scenario the picker does not list (a TOML run from elsewhere, a tracked run),
opened from History: the picker, its summary and the Params form say that run's scenario, not the
one that was open; opening it again lists it once."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import regtui
from regtui.app.views.history import HistoryTab
from regtui.app.widgets.picker import ScenarioPicker
from regtui.app.widgets.picker_select import ScenarioSelect
from regtui.cli import main
from regtui.store import open_store

from .conftest import app_for, wait_until
from .driver import Dashboard

SCENARIO = """
experiment = "train"
title = "My custom thing"
[params]
steps = 20
log_every = 10
[model]
layers = [{type = "linear", out = 8}, {type = "relu"}, {type = "linear"}]
[data]
source = "moons"
n = 100
"""


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_a_stored_run_of_an_unlisted_file_is_listed_and_picked(tmp_path, size):
    path = tmp_path / "my.toml"
    path.write_text(SCENARIO)
    result = CliRunner().invoke(main, ["--scenario", str(path)])
    assert result.exit_code == 0, result.output
    app = app_for(file="weight-decay")
    async with app.run_test(size=size) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        screen = app.main
        before = len(screen.entries)
        dash.show_view("history")
        await pilot.pause()
        for _ in range(2):
            assert screen.query_one(HistoryTab).open_run(1)
            await wait_until(lambda: dash.run is not None and dash.run.status == "done", 10)
            await pilot.pause()
            assert len(screen.entries) == before + 1  # listed once
            assert screen.entry.scenario.title == "My custom thing"
            assert screen.entry_index == before
            assert screen.query_one(ScenarioSelect).value == before
            assert screen.query_one(ScenarioPicker).highlighted == before
            assert screen.form is not None and screen.form.scenario.title == "My custom thing"


async def test_a_tracked_run_opened_from_history_is_picked_as_itself(monkeypatch):
    """Picked as itself (two runs of one loop: two entries, told apart by their ids), and r says what
    runs it again (its script) and starts nothing: the stored run stays on screen."""
    for _ in range(2):
        with regtui.track("my-loop", config={"lr": 0.1}) as run:
            for step in range(20):
                run.log(step, train_loss=1 / (step + 1))
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        notices: list[str] = []
        notify = app.notify
        monkeypatch.setattr(app, "notify", lambda message, **kw: (notices.append(message), notify(message, **kw)))
        await pilot.pause()
        dash.show_view("history")
        await pilot.pause()
        for run_id in (1, 2):
            assert app.main.query_one(HistoryTab).open_run(run_id)
            await wait_until(lambda: dash.run is not None and dash.run.status == "done", 10)
            await pilot.pause()
            assert app.main.entry.scenario.title == "my-loop" and app.main.entry.label == f"my-loop · run {run_id}"
        assert [e.label for e in app.main.entries[-2:]] == ["my-loop · run 1", "my-loop · run 2"]
        assert "regtui.track" in str(app.main.query_one("#scenario-summary").render())
        shown = dash.run
        await pilot.press("r")
        await pilot.pause()
        assert dash.run is shown and dash.run.status == "done"  # nothing started, nothing cleared
        assert notices[-1].startswith("my-loop: a run recorded by regtui.track() is run again by its script: ")
        assert [r.id for r in open_store().listing().runs] == [1, 2]  # no failed run recorded
