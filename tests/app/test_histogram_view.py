"""The Histograms view in the dashboard: a train run with histograms = true shows heat strips of its layers,
l, k and v cycle layer, kind and variant/seed (one at a time and in a burst), at 80x24 and 120x40; a run
without histograms has no such tab."""

from __future__ import annotations

import threading

import pytest

from regtui.app.views.history import HistoryTab
from regtui.app.widgets.status_bar import StatusBar
from regtui.events import RunFinished, TableRows
from regtui.store import open_store

from .conftest import app_for, key, wait_until
from .driver import Dashboard

TOML = """
experiment = "train"
title = "Histogram strips"
[params]
steps = {steps}
batch = 16
log_every = 2
lr = 0.1
histograms = {histograms}
[model]
layers = [{{type = "linear", out = 8}}, {{type = "relu"}}, {{type = "linear"}}]
[data]
source = "moons"
n = 100
[[variants]]
name = "plain"
[[variants]]
name = "decayed_by_a_hundredth_of_the_weights_at_each_step_of_training"
weight_decay = 0.01
"""


def scenario(tmp_path, histograms: bool = True, steps: int = 40) -> str:
    path = tmp_path / "strips.toml"
    path.write_text(TOML.format(histograms=str(histograms).lower(), steps=steps), encoding="utf-8")
    return str(path)


async def ran(pilot) -> Dashboard:
    dash = Dashboard(pilot)
    await pilot.pause()
    await pilot.press("r")
    await dash.wait_for_end()
    await dash.settled()
    return dash


def strip_rows(text: str) -> list[str]:
    """The strip rows of a view's text: the lines with a bin row between ▕ and ▏."""
    return [line for line in text.splitlines() if "▕" in line and "▏" in line]


def steps_shown(dash: Dashboard) -> list[int]:
    """The steps of the strip rows the Histograms view shows, top to bottom."""
    return [int(row.split()[0]) for row in strip_rows(dash.view_text("histograms"))]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_tab_to_the_strips_and_cycle_layer_and_kind(tmp_path, size):
    app = app_for(file=scenario(tmp_path))
    async with app.run_test(size=size) as pilot:
        dash = await ran(pilot)
        assert "histograms" in dash.visible_views()
        assert "stats" not in dash.visible_views()  # the histograms table is not a running-stats table
        await dash.open_view("histograms")
        await dash.settled()
        text = dash.view_text("histograms")
        assert "layer 0.linear (1/3, l)" in text and "weights (1/3, k)" in text
        assert "· run (1/2, v) seed 0 · plain" in text
        rows = strip_rows(text)
        assert rows, text
        assert rows[-1].split()[0] == "40"  # newest at the bottom
        await pilot.press("l")
        await dash.settled()
        assert "layer 1.relu (2/3, l)" in dash.view_text("histograms")
        assert "activations (1/1, k)" in dash.view_text("histograms")  # a ReLU has no weights
        await pilot.press("l", "k")
        await dash.settled()
        text = dash.view_text("histograms")
        assert "layer 2.linear (3/3, l)" in text and "gradients (2/3, k)" in text
        await pilot.press("v")
        await dash.settled()
        text = dash.view_text("histograms")
        # a long name: the run on a line of its own (one line would cut it to "decayed…"), then cut, not wrapped
        lines = [line.strip() for line in text.splitlines()]
        assert "layer 2.linear (3/3, l) · gradients (2/3, k)" in lines
        assert any(line.startswith("run (2/2, v) seed 0 · decayed_by_a_hundredth_of_the") for line in lines)
        assert all(len(line) <= size[0] for line in text.splitlines())
        assert strip_rows(text)[-1].split()[0] == "40"
        footer = " ".join(dash.lines()[-1].split())
        assert "l Layer k Kind v Variant" in footer


async def test_keys_in_a_burst_land_in_order(tmp_path):
    app = app_for(file=scenario(tmp_path, steps=10))
    async with app.run_test(size=(80, 24)) as pilot:
        dash = await ran(pilot)
        await dash.open_view("histograms")
        for name in ("l", "l", "k", "v", "tab", "shift+tab"):  # no pause between keys
            key(app, name, name if len(name) == 1 else None)
        await wait_until(lambda: dash.active_view == "histograms" and "decayed" in dash.view_text("histograms"))
        await dash.settled()
        text = dash.view_text("histograms")
        lines = [line.strip() for line in text.splitlines()]
        assert lines[:2] == ["layer 2.linear (3/3, l) · gradients (2/3, k)", lines[1]]
        assert lines[1].startswith("run (2/2, v) seed 0 · decayed")
        assert steps_shown(dash) == [2, 4, 6, 8, 10]


async def test_the_strips_grow_while_the_run_trains(tmp_path):
    """Before the run ends (its RunFinished is held back), the view already shows every logged step."""
    release = threading.Event()

    def held(plan, device, *, emit, cancel, threads):
        from regtui.engine import run_plan

        def held_emit(event):
            if isinstance(event, RunFinished):
                while not (release.wait(0.01) or cancel.is_set()):
                    pass
            emit(event)

        return run_plan(plan, device, emit=held_emit, cancel=cancel, threads=threads)

    app = app_for(file=scenario(tmp_path, steps=8), runner=held)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.start()
        await wait_until(lambda: "histograms" in dash.visible_views())
        await dash.open_view("histograms")
        await wait_until(lambda: steps_shown(dash) == [2, 4, 6, 8])
        assert dash.running()
        release.set()
        await dash.wait_for_end()


async def test_a_run_without_histograms_has_no_histograms_tab(tmp_path):
    app = app_for(file=scenario(tmp_path, histograms=False, steps=4))
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await ran(pilot)
        assert "loss" in dash.visible_views() and "histograms" not in dash.visible_views()


async def test_a_stored_run_opened_from_history_shows_its_strips(tmp_path):
    app = app_for(file=scenario(tmp_path, steps=6))
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await ran(pilot)
        (info,) = open_store().listing().runs
        dash.show_view("history")
        await pilot.pause()
        history = app.main.query_one(HistoryTab)
        history.reload()
        history.table.move_cursor(row=history.row_ids.index(info.id))
        history.table.focus()
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(lambda: dash.run is not None and dash.run.stored_id == info.id)
        await dash.open_view("histograms")
        await wait_until(lambda: "layer 0.linear (1/3, l)" in dash.view_text("histograms"))
        assert steps_shown(dash) == [2, 4, 6]


def fixed_rows(columns: tuple[str, ...]) -> list[tuple[object, ...]]:
    """Histogram rows made up, not trained: a bump that moves one bin a step, exact ranges."""
    rows = []
    for step in range(1, 31):
        for layer, kinds in (("0.linear", ("weights", "gradients", "activations")), ("1.relu", ("activations",))):
            for of in kinds:
                counts = [float(max(0, 8 - 2 * abs(b - step % 20))) for b in range(20)]
                rows.append(("plain", 0, step, layer, of, -step / 4, step / 2, sum(counts), 0.0, 0.0, *counts))
    assert len(columns) == len(rows[0])
    return rows


def fixed_histograms(plan, device, *, emit, cancel, threads):
    """The real run, its histograms table replaced by ``fixed_rows`` (no training float in the snapshot)."""
    from regtui.engine import run_plan

    def emit_fixed(event):
        if isinstance(event, TableRows) and event.name == "histograms":
            return
        if isinstance(event, RunFinished):
            columns = ("variant", "seed", "step", "layer", "of", "min", "max", "count", "sum", "sum_squares")
            columns += tuple(f"bin_{i}" for i in range(1, 21))
            emit(TableRows("histograms", columns, fixed_rows(columns), ("variant", "seed", "layer", "of")))
        emit(event)

    return run_plan(plan, device, emit=emit_fixed, cancel=cancel, threads=threads)


def test_the_strips_look(snap_compare, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario(tmp_path, steps=4)

    async def run_before(pilot):
        dash = Dashboard(pilot)
        await pilot.pause()
        pilot.app.main.query_one(StatusBar).show_timing = False
        await pilot.press("r")
        await dash.wait_for_end()
        await dash.open_view("histograms")
        await dash.settled()
        await pilot.press("k", "k")  # activations
        await dash.settled()
        pilot.app.main.refresh_status()
        await pilot.pause()

    app = app_for(file="strips.toml", runner=fixed_histograms)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
