"""The run history in the dashboard: runs are kept, listed, opened read-only, compared and deleted."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
from typing import Any

from textual.widgets import Static, TabbedContent

from regtui.app.views.history import HistoryTab
from regtui.app.views.history_rows import COLUMNS, status_text
from regtui.app.widgets.confirm import Confirm
from regtui.app.widgets.finals_line import FinalsLine
from regtui.app.widgets.replay_line import ReplayLine
from regtui.numbers import fmt
from regtui.report import Collector
from regtui.store import RunInfo, open_store
from regtui.store.reading import StoredCollector
from regtui.store.saving import store_id

from .conftest import app_for, wait_until
from .driver import Dashboard

WIDE = (120, 40)


async def show_history(pilot) -> HistoryTab:
    app = pilot.app
    Dashboard(pilot).show_view("history")
    await pilot.pause()
    view = app.main.query_one(HistoryTab)
    view.reload()
    view.focus_content()
    await pilot.pause()
    return view


async def on_row(pilot, view: HistoryTab, run_id: int) -> None:
    assert run_id in view.row_ids, (view.row_ids, rows(view), str(view.query_one("#history-notice", Static).render()))
    view.table.move_cursor(row=view.row_ids.index(run_id))
    view.table.focus()
    await pilot.pause()


def rows(view: HistoryTab) -> list[dict[str, str]]:
    """The listed rows, each cell by its column's name."""
    table = view.table
    return [dict(zip(COLUMNS, (str(c) for c in table.get_row_at(i)))) for i in range(table.row_count)]


def finals_text(app) -> str:
    return str(app.main.query_one(FinalsLine).render())


async def two_runs(pilot) -> None:
    """Run weight-decay twice (iters 30, then 40): runs 1 and 2 in the store."""
    dash = Dashboard(pilot)
    await dash.set_fields(iters="30")
    await dash.run_to_end()
    await dash.set_fields(iters="40")
    await dash.run_to_end()


async def test_a_dashboard_run_is_kept_and_listed():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert "history" in dash.visible_views()  # before any run: the store is readable
        await dash.set_fields(iters="30")
        await dash.run_to_end()
        assert dash.run.status == "done"
        listing = open_store().listing()
        assert [r.status for r in listing.runs] == ["completed"]
        info = listing.runs[0]
        assert info.scenario == "weight-decay" and info.changed == {"iters": 30}
        assert store_id(dash.collector) == info.id
        doc = open_store().document(info.id)
        shown = dash.collector.document()
        assert [v["final"] for v in doc["variants"]] == [v["final"] for v in shown["variants"]]
        view = await show_history(pilot)
        (row,) = rows(view)
        assert row["id"] == f"▶ {info.id}"  # the run shown
        assert (row["scenario"], row["status"], row["changed"]) == ("weight-decay", "completed", "iters=30")
        assert row["results"] == info.headline() and "test_loss" in row["results"]


async def test_a_stopped_run_is_kept_as_interrupted():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert (await dash.stop_mid_run(iters="200000")).status == "stopped"
        (info,) = open_store().listing().runs
        assert info.status == "interrupted"
        assert open_store().document(info.id)["status"] == "interrupted"


async def test_a_failed_run_is_kept_as_failed():
    def broken(plan, device, emit, cancel, threads):
        from regtui.engine import run_plan

        def emit_then_fail(event):
            emit(event)
            if type(event).__name__ == "Metrics":
                raise RuntimeError("the engine broke")

        return run_plan(plan, device, emit=emit_then_fail, cancel=cancel, threads=threads)

    app = app_for(file="weight-decay", runner=broken)
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="30")
        await dash.run_to_end()
        assert dash.run.status == "failed"
        (info,) = open_store().listing().runs
        assert info.status == "failed"
        assert "the engine broke" in (open_store().document(info.id).get("error") or "")


async def test_no_save_keeps_the_store_empty():
    app = app_for(file="weight-decay")
    app.options = dataclasses.replace(app.options, save=False)
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="30")
        await dash.run_to_end()
        assert dash.run.status == "done"
        assert open_store().listing().runs == []
        assert store_id(dash.collector) is None


async def test_open_a_stored_run_read_only():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await two_runs(pilot)
        first = open_store().document(1)
        view = await show_history(pilot)
        assert [r["id"] for r in rows(view)] == ["▶ 2", "1"]  # newest first
        assert not view.only  # all runs by default
        await on_row(pilot, view, 1)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(dash.collector, StoredCollector) and store_id(dash.collector) == 1
        assert dash.run.status == "done" and not dash.running()
        assert dash.active_view == "loss"  # the kind's first view, as after a run
        await wait_until(lambda: "no weight decay" in finals_text(app))
        text = finals_text(app)
        for variant in first["variants"]:
            assert f"test_loss {fmt(variant['final']['test_loss'], 3)}" in text
        # The form shows the stored run's parameters (iters 30, not the 40 typed last), so the
        # command line is that run's replay; a field edited away from it makes it the form's again.
        line = dash.screen.query_one(ReplayLine)
        assert dash.field("iters").value == "30"
        assert str(line.render()).startswith("replay:") and "--set iters=30" in line.command
        await dash.set_fields(iters="40")
        assert str(line.render()).startswith("cli:") and "--set iters=40" in line.command
        # Every view draws it: the fit curves and the worked numbers are the stored run's.
        assert "fit" in dash.visible_views() and "worked" in dash.visible_views()
        snapshot = dash.collector.snapshot(0)
        assert [r["final"] for r in snapshot.records] == [v["final"] for v in first["variants"]]
        # A stored run opened again from the History view is not saved again.
        assert len(open_store().listing().runs) == 2


async def test_compare_two_runs():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await two_runs(pilot)
        view = await show_history(pilot)
        await on_row(pilot, view, 1)
        await pilot.press("c")
        await pilot.pause()
        assert dash.active_view == "loss"
        await wait_until(lambda: "run #1" in finals_text(app))
        legend = finals_text(app)
        assert "run #2 · no weight decay" in legend and "run #1 · no weight decay" in legend
        assert "run #2 · weight decay" in legend and "run #1 · weight decay" in legend
        compared = str(view.query_one("#history-compare", Static).render())
        assert "iters" in compared and "40" in compared and "30" in compared
        # The comparison belongs to the shown run: a new run draws alone.
        await dash.run_to_end()
        dash.redraw()
        await pilot.pause()
        assert "run #" not in finals_text(app)
        view = await show_history(pilot)  # and History no longer says what was compared
        assert str(view.query_one("#history-compare", Static).render()).strip() == ""


async def test_compare_needs_a_shown_run():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="30")
        await dash.run_to_end()
        view = await show_history(pilot)
        await on_row(pilot, view, 1)
        await pilot.press("c")  # the run shown is run 1 itself
        await pilot.pause()
        assert dash.overlay is None
        assert any("is the run shown" in notice for notice in dash.notices())


async def test_delete_asks_first():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        await two_runs(pilot)
        view = await show_history(pilot)
        await on_row(pilot, view, 1)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, Confirm), (app.focused, app.screen.focused)
        assert "Delete run 1" in str(app.screen.query_one("#confirm-question", Static).render())
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, Confirm)
        assert [r.id for r in open_store().listing().runs] == [1, 2]
        await on_row(pilot, view, 1)
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, Confirm), ("delete", app.focused)
        await pilot.press("y")
        await pilot.pause()
        assert [r.id for r in open_store().listing().runs] == [2]
        assert [r["id"] for r in rows(view)] == ["▶ 2"]


async def test_the_filter_shows_this_scenario_or_all():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="30")
        await dash.run_to_end()
        await dash.pick("bn-stats")
        await dash.run_to_end()
        view = await show_history(pilot)
        assert [r["scenario"] for r in rows(view)] == ["bn-stats", "weight-decay"]
        await pilot.press("f")
        await pilot.pause()
        assert view.only and [r["scenario"] for r in rows(view)] == ["bn-stats"]
        await pilot.press("f")
        await pilot.pause()
        assert [r["scenario"] for r in rows(view)] == ["bn-stats", "weight-decay"]


async def test_a_bad_store_is_one_line(tmp_path, monkeypatch):
    store = tmp_path / "bad"
    store.mkdir()
    (store / "index.sqlite").write_bytes(b"this is not a database" * 100)
    (store / "7").mkdir()
    (store / "7" / "meta.json").write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("REGTUI_RUNS_DIR", str(store))
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        view = await show_history(pilot)
        notice = str(view.query_one("#history-notice", Static).render())
        assert notice.startswith("⚠") and "\n" not in notice
        assert rows(view) == []
        assert app.is_running
    # A folder that cannot be read hides the tab (never a crash).
    monkeypatch.setenv("REGTUI_RUNS_DIR", str(store / "index.sqlite"))
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert "history" not in dash.visible_views()


async def test_a_damaged_document_cannot_be_opened_but_the_app_goes_on():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await two_runs(pilot)
        (open_store().folder(1) / "run.json").write_text("{cut", encoding="utf-8")
        view = await show_history(pilot)
        before = dash.collector
        await on_row(pilot, view, 1)
        await pilot.press("enter")
        await pilot.pause()
        assert dash.collector is before
        notice = str(view.query_one("#history-notice", Static).render())
        assert notice.startswith("⚠ run 1") and "damaged" in notice


def test_a_stored_collector_answers_as_the_live_one():
    """Rebuilt from a document, the Collector gives the same document, data kinds and divergence."""
    from regtui import scenario as sc
    from regtui.aggregate import sanitize
    from regtui.engine import run_plan

    for name, sets in (("weight-decay", {"iters": 20}), ("bn", {}), ("bn-stats", {})):
        scenario = sc.load(sc.find(name))
        plan = sc.plan(scenario, sets, {}, 0, 2 if name == "weight-decay" else 1)
        live = Collector()
        run_plan(plan, "cpu", emit=live, cancel=None, threads=1)
        doc = json.loads(json.dumps(live.document()))
        stored = StoredCollector(doc, 5)
        assert stored.data_kinds() == live.data_kinds()
        assert stored.diverged() == live.diverged()
        assert stored.variant_names() == live.variant_names()
        again = json.loads(json.dumps(stored.document()))
        again["elapsed_s"] = doc["elapsed_s"]
        assert again == doc
        assert stored.snapshot(50).summary == {k: v for k, v in doc["summary"].items() if k != "sweep"}
        assert all(len(r["series"]["step"]) <= 51 for r in stored.snapshot(50).records if r.get("series"))
        assert store_id(stored) == 5
        for key in ("layers", "layers_training"):  # the Layers view of a stored bn run draws both
            drawn = sanitize([r.get(key) for r in stored.snapshot(50).records])
            assert drawn == sanitize([r.get(key) for r in live.snapshot(50).records])  # NaN: null in a document
            assert any(drawn) == (name == "bn")
    assert os.environ["REGTUI_RUNS_DIR"]  # the conftest's temporary store


async def test_runs_dir_is_where_the_dashboard_saves_and_lists(tmp_path):
    """--runs-dir reaches the dashboard: its runs go there, and History lists that folder."""
    folder = tmp_path / "elsewhere"
    app = app_for(file="weight-decay", runs_dir=str(folder))
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="20")
        await dash.run_to_end()
        await wait_until(lambda: store_id(dash.collector) is not None)
        assert [info.id for info in open_store(str(folder)).listing().runs] == [1]
        assert open_store().listing().runs == []  # not the default store
        view = await show_history(pilot)
        assert view.row_ids == [1]
        assert "1 run in all" in str(view.query_one("#history-notice", Static).render())


def held_saving(monkeypatch) -> threading.Event:
    """Writing a run's document waits until the returned event is set (a slow disk, on cue)."""
    from regtui.store import saving as run_saving

    original = run_saving.RunSaver.end
    release = threading.Event()

    def end(self, collector, error=None):
        release.wait(30)
        original(self, collector, error=error)

    monkeypatch.setattr(run_saving.RunSaver, "end", end)
    return release


async def ended_unsaved(pilot) -> Any:
    """Run a short weight-decay to its end while its document is held back; its RunState."""
    dash = Dashboard(pilot)
    await pilot.pause()
    await dash.set_fields(iters="30")
    await pilot.press("escape")
    await pilot.press("r")
    state = dash.run
    await wait_until(lambda: state.status == "done")
    assert not state.saved.is_set()  # the status line said done without waiting for the disk
    return state


async def test_the_run_ends_before_its_document_is_written_and_history_relists_then(monkeypatch):
    release = held_saving(monkeypatch)
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await ended_unsaved(pilot)
        view = await show_history(pilot)  # opened before the document is written
        before = rows(view)
        release.set()
        await dash.settled()
        # History, on screen, relists once the document is written: the row changes by itself.
        await wait_until(lambda: rows(view) != before)
        after = rows(view)[0]
        assert before[0]["status"] == "running" and after["status"] == "completed" and "test_loss" in after["results"]


async def test_quitting_just_after_a_run_ended_waits_for_its_document(monkeypatch):
    release = held_saving(monkeypatch)
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        state = await ended_unsaved(pilot)
        threading.Timer(0.3, release.set).start()  # the document is written while the app quits
        await pilot.press("q")
    assert state.saved.is_set()
    (info,) = open_store().listing().runs
    assert info.status == "completed"


async def test_a_view_switch_lists_the_store_again_only_when_it_changed(monkeypatch):
    """History is listed again on a visit only when the store changed (a few stat calls decide), so
    a view switch does not rebuild its table; a run saved by another process is listed at the next visit."""
    from click.testing import CliRunner

    from regtui.cli import main
    from regtui.store.runs import RunStore

    calls: list[str | None] = []
    listing = RunStore.listing
    monkeypatch.setattr(
        RunStore, "listing", lambda self, scenario=None: calls.append(scenario) or listing(self, scenario)
    )
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        tabs = app.main.query_one(TabbedContent)
        view = await show_history(pilot)
        assert view.row_ids == []
        for _ in range(2):  # away and back, twice: nothing changed
            tabs.active = "tab-loss"
            await pilot.pause()
            before = len(calls)
            tabs.active = "tab-history"
            await pilot.pause()
            assert len(calls) == before
        tabs.active = "tab-loss"
        await pilot.pause()
        args = ["--scenario", "weight-decay", "--json", "--set", "iters=20", "--set", "hidden=8"]
        assert CliRunner().invoke(main, args).exit_code == 0  # a run saved meanwhile, as from another shell
        tabs.active = "tab-history"
        await pilot.pause()
        assert view.row_ids == [1] and rows(view)[0]["scenario"] == "weight-decay"


async def test_history_lists_a_stopped_run_as_stopped():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert (await dash.stop_mid_run(iters="200000")).status == "stopped"
        (info,) = open_store().listing().runs
        assert info.status == "interrupted"  # the record and the JSON keep their value
        dash.show_view("history")
        await pilot.pause()
        view = app.main.query_one(HistoryTab)
        view.reload()
        await pilot.pause()
        row = dict(zip(COLUMNS, (str(c) for c in view.table.get_row_at(0))))
        assert row["status"] == "stopped", row


def _info(status: str, **more: Any) -> RunInfo:
    return RunInfo(id=1, created="", scenario="s", experiment="e", status=status, device="cpu", seed=0, seeds=1, **more)


def test_history_status_words():
    assert status_text(_info("interrupted")) == "stopped"
    assert status_text(_info("completed")) == "completed"
    assert status_text(_info("failed")) == "failed"
    killed = _info("running", pid=2**22 + 12345, host=socket.gethostname())
    assert status_text(killed) == "interrupted"  # its process is gone: killed, not stopped


async def test_a_stored_run_of_another_scenario_fills_the_form_with_its_parameters():
    """Opened from another scenario, the run's own scenario is picked and its form shows the run's
    --set values (one per variant where it had a list), seed and seeds: never the defaults."""
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="30", hidden="12", weight_decay="0.0, 0.02", seed="3")
        await dash.run_to_end()
    app = app_for(file="dropout")  # a fresh dashboard on another scenario
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        view = await show_history(pilot)
        await on_row(pilot, view, 1)
        await pilot.press("enter")
        await wait_until(lambda: dash.entry.path is not None and dash.entry.path.stem == "weight-decay")
        await pilot.pause()
        shown = {key: dash.field(key).value for key in ("iters", "hidden", "weight_decay", "seed")}
        assert shown == {"iters": "30", "hidden": "12", "weight_decay": "0.0, 0.02", "seed": "3"}
        line = dash.screen.query_one(ReplayLine)
        assert str(line.render()).startswith("replay:")
        assert "--set iters=30" in line.command and "--set hidden=12" in line.command


async def test_the_cursor_on_the_shown_run_follows_a_new_run_and_elsewhere_it_stays():
    """Enter after a new run opens that run when the cursor was on the run shown; a run the user chose stays
    chosen (and a run saved by another process never takes the cursor: test_history_updates)."""
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        await two_runs(pilot)
        view = await show_history(pilot)
        assert view.row_ids[:2] == [2, 1] and view.selected() == 2
        dash = Dashboard(pilot)
        await dash.set_fields(iters="20")
        await dash.run_to_end()
        view = await show_history(pilot)
        assert view.row_ids[0] == 3 and view.selected() == 3
        await on_row(pilot, view, 1)
        await dash.set_fields(iters="25")
        await dash.run_to_end()
        view = await show_history(pilot)
        assert view.row_ids[0] == 4 and view.selected() == 1
