"""A run recorded by regtui.track() in the dashboard: opened from History read-only, and followed
live while its loop trains in another process (the user's script). No wall-clock asserts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import regtui
from regtui.store import open_store

from .conftest import app_for, wait_until
from .driver import Dashboard
from .screen_text import screen_lines

TIMEOUT = 120.0

SCRIPT = """
import pathlib, sys, time, regtui
stop = pathlib.Path(sys.argv[1])
with regtui.track("my-loop", config={"lr": 0.1}, total_steps=10**9) as run:
    step = 0
    while not stop.exists():
        run.log(step, train_loss=1 / (step + 1))
        step += 1
        time.sleep(0.002)
"""


async def test_a_finished_tracked_run_opens_in_every_view_of_its_data():
    with regtui.track("my-loop", config={"lr": 0.1}) as run:
        for step in range(200):
            run.log(step, train_loss=1 / (step + 1))
            if step % 50 == 0:
                run.evaluate(step, lambda: {"test_loss": 0.5, "test_accuracy": 0.75})
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.open_stored(run.id)
        await wait_until(lambda: dash.run is not None and dash.run.status == "done", 10)
        assert {"loss", "results"} <= set(dash.visible_views()) and "fit" not in dash.visible_views()
        assert any("regtui · my-loop · stored run" in line for line in screen_lines(app))
        assert dash.collector.variant_record("my-loop")["final"]["test_accuracy"] == 0.75
        dash.show_view("results")
        await pilot.pause()
        await wait_until(lambda: "my-loop" in dash.view_text("results"), 10)


async def test_a_tracked_runs_pitfalls_show_in_the_results_view():
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(4, 3))
    opt = torch.optim.Adam(model.parameters(), weight_decay=0.01)
    with pytest.warns(regtui.PitfallWarning), regtui.track("adam-loop", model=model, optimizer=opt) as run:
        run.log(0, train_loss=1.0)
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.open_stored(run.id)
        dash.show_view("results")
        await pilot.pause()
        await wait_until(lambda: "adam_weight_decay" in dash.view_text("results"), 10)
        assert "warnings" in dash.view_text("results")


@pytest.fixture
def tracked(tmp_path):
    stop = tmp_path / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(stop)], stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        store = open_store()
        deadline = time.monotonic() + TIMEOUT
        while not any(r.state == "running" for r in store.listing().runs):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the tracked loop never showed as running"
            time.sleep(0.05)
        (info,) = store.listing().runs
        yield proc, info.id, stop
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def test_a_running_tracked_run_is_followed_live_until_its_loop_ends(tracked):
    proc, run_id, stop = tracked
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.open_stored(run_id)
        state = dash.run
        assert state is not None and state.follower is not None and state.status == "running"
        await wait_until(lambda: state.collector.progress is not None, TIMEOUT)
        first = state.collector.progress.step
        await wait_until(lambda: state.collector.progress.step > first, TIMEOUT)  # drawn as it goes
        await wait_until(lambda: any(f"following run #{run_id}" in line for line in screen_lines(app)), 10)
        stop.touch()
        await wait_until(lambda: state.status == "done", TIMEOUT)
        # ended: no longer "following"; the status line names what runs it again
        await wait_until(lambda: any(f"stored run #{run_id} (read-only)" in line for line in screen_lines(app)), 10)
        assert not any("following run" in line for line in screen_lines(app))
        assert any(f"run #{run_id} (read-only) — its script runs it again" in line for line in screen_lines(app))
    assert proc.wait(TIMEOUT) == 0


async def test_a_tracked_runs_form_shows_its_config_read_only_and_layers_only_with_layer_data():
    import torch
    from textual.widgets import Button, Input

    with regtui.track("no-model", config={"lr": 0.1, "opt": {"name": "sgd", "wd": 1e-4}}) as bare:
        bare.log(0, train_loss=1.0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    with regtui.track("with-model", model=model, log_every=1) as watched:
        loss = model(torch.randn(8, 4)).square().mean()
        loss.backward()
        watched.log(0, train_loss=loss.item())
    app = app_for(file="weight-decay")
    async with app.run_test(size=(80, 24)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.open_stored(bare.id)
        await wait_until(lambda: dash.run is not None and dash.run.status == "done", 10)
        assert "layers" not in dash.visible_views()  # no model tracked: no empty "waiting for data" chart
        dash.show_view("params")
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        for key, value in (("lr", "0.1"), ("opt.name", "sgd"), ("opt.wd", "0.0001")):
            assert any(line.split() == [key, value] for line in screen_lines(app)), (key, text)
        assert "Runs again with" in text and "seeds" not in text  # nothing to edit: its script runs it
        form = app.main.form
        assert form is not None and not form.query(Input)
        assert [b.id for b in form.query(Button)] == ["stop-button"]
        await dash.open_stored(watched.id)
        await wait_until(lambda: "layers" in dash.visible_views(), 10)
        dash.show_view("params")
        await pilot.pause()
        assert any(line.strip() == "none (the script gave regtui.track() no config)" for line in screen_lines(app))
