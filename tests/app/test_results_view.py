"""Findings of a new-user trial in tmux: the Results view after every run, whole numbers as
numbers, form labels apart from their values, History's wording of a stopped run."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from textual.widgets import Input, Label, TabbedContent

from regtui.app.views.history import HistoryTab
from regtui.app.views.history_rows import COLUMNS, status_text
from regtui.app.widgets.live_table import LiveTable, cell_text
from regtui.app.widgets.results_view import FINALS_CAPTION, HINT, ResultsView, finals_table
from regtui.numbers import fmt
from regtui.store import RunInfo, open_store

from .conftest import app_for, run_to_end, set_fields, stop_mid_run


async def test_weight_decay_results_show_the_finals_of_every_variant():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await set_fields(pilot, iters="20", hidden="8")
        await pilot.press("escape")
        await run_to_end(pilot)
        assert app.main.run_state.status == "done"
        app.main.query_one(TabbedContent).active = "tab-results"
        await pilot.pause(0.3)
        view = app.main.query_one(ResultsView)
        assert not view.query(".hint"), "the empty-view hint is gone after a run"
        table = app.main.query_one("#results-finals", LiveTable)
        document = app.main.run_state.collector.document()
        variants = document["variants"]
        assert table.row_count == len(variants) >= 2
        keys = [k for k in variants[0]["final"] if isinstance(variants[0]["final"][k], (bool, int, float))]
        assert list(table.columns_shown[: len(keys) + 1]) == ["variant", *keys]  # the JSON's order
        for i, variant in enumerate(variants):
            row = [str(c) for c in table.get_row_at(i)]
            assert row[0] == variant["name"]
            for k in keys:
                assert row[table.columns_shown.index(k)] == cell_text(variant["final"][k]), k


def test_finals_table_has_std_and_diverged_columns():
    records = [
        {"name": "a", "seeds": [0, 1], "final": {"loss": 0.5, "diverged": False, "curve": [1, 2]},
         "final_std": {"loss": 0.01}, "diverged_seeds": []},
        {"name": "b", "seeds": [0, 1], "final": {"loss": 2.0, "diverged": False},
         "final_std": {"loss": 0.25}, "diverged_seeds": [1]},
    ]  # fmt: skip
    columns, rows = finals_table(records)
    assert columns == ["variant", "loss", "diverged"]  # a list final is not a column
    assert rows == [("a", ["a", "0.5 ± 0.01", False]), ("b", ["b", "2 ± 0.25", "1/2 seeds"])]
    columns, rows = finals_table([{"name": "x", "final": {"acc": 1.0}}])
    assert columns == ["variant", "acc", "diverged"] and rows[0][1][2] is False


def test_empty_results_keep_the_hint():
    assert finals_table([]) == (["variant"], [])
    assert "after a run" in HINT


def test_whole_floats_print_as_integers():
    assert fmt(10000.0) == "10000" == fmt(10000)
    assert fmt(9766.0) == "9766"
    assert fmt(10050.0) == "10050"
    assert fmt(-3.0) == "-3"
    assert fmt(1e6) == "1e+06"  # a million and beyond: still 4 significant digits
    assert fmt(12345.6) == "1.235e+04"
    assert fmt(0.000123456) == "0.0001235"
    assert fmt(float("inf")) == "inf" and fmt(float("nan")) == "nan"


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_form_labels_keep_a_gap_before_their_values(size):
    app = app_for(file="digits-norms")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        form = app.main.form
        names = [p.name for p in form.spec.params]
        assert "decay_norm_and_bias" in names and "label_smoothing" in names
        for name in names:
            label = form.query_one(f"#field-{name}", Input).parent.query_one(Label)
            form.scroll_to_widget(label, animate=False)
            await pilot.pause()
            region = label.region
            assert region.height == 1 and region.width > 0, name
            line = app.screen._compositor.render_strips()[region.y].text
            shown = line[region.x : region.right].rstrip()
            value = form.query_one(f"#field-{name}", Input).region.x
            assert shown == name or (shown.endswith("…") and name.startswith(shown[:-1])), (name, line)
            assert line[region.x + len(shown)] == " " and region.x + len(shown) < value, (name, line)


async def test_history_lists_a_stopped_run_as_stopped():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert (await stop_mid_run(pilot, iters="200000")).status == "stopped"
        (info,) = open_store().listing().runs
        assert info.status == "interrupted"  # the record and the JSON keep their value
        app.main.query_one(TabbedContent).active = "tab-history"
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


def test_per_seed_summary_rows_are_not_joined_with_a_variants_mean():
    """Trial: the stacking table showed `acc 0.8912` on each of plain's three seeds (the variant's mean)."""
    from regtui.app.widgets.results_view import summary_table

    rows = [{"variant": "plain", "seed": s, "stack": 1, "models": 12} for s in range(3)]
    records = [{"name": "plain", "params": {}, "final": {"test_accuracy": 0.8912}}]
    columns, body = summary_table(rows, records)
    assert columns == ["variant", "seed", "stack", "models"]
    assert all(0.8912 not in cells for _, cells in body)
    # a per-variant table (the norms comparison) is still joined
    columns, body = summary_table([{"norm": "plain", "over": "N"}], records)
    assert "test_accuracy" in columns and body[0][1][1] == 0.8912


def test_finals_table_says_where_each_variant_is_while_the_run_goes_on():
    records = [
        {"name": "a", "final": {"test_accuracy": 0.75, "diverged": False},
         "series": {"step": [10], "train_loss": [0.4]}},
        {"name": "b", "final": {}, "series": {"step": [10, 20], "train_loss": [0.9, 0.61234], "test_loss": [1.0, 0.9]}},
        {"name": "c", "final": {}, "series": {}},
    ]  # fmt: skip
    columns, rows = finals_table(records)
    assert columns == ["variant", "progress", "test_accuracy", "diverged"]
    assert [r[1][1] for r in rows] == ["done", "step 20 · train_loss 0.6123", "waiting"]
    records[1]["final"], records[2]["final"] = {"test_accuracy": 0.5}, {"test_accuracy": 0.25}
    columns, _ = finals_table(records)
    assert "progress" not in columns  # every variant finished: the finals alone


async def test_norms_results_say_where_each_net_is_after_a_stop():
    app = app_for(file="norms")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await stop_mid_run(pilot, min_step=20, steps="100000", train_samples="16", test_samples="8")
        await pilot.pause(0.3)
        assert app.main.active_view == "results"
        view = app.main.query_one(ResultsView)
        captions = [str(c.render()) for c in view.query(".table-caption")]
        assert captions == [FINALS_CAPTION, "norms"]  # the finals first: in view at any size
        table = app.main.query_one("#results-finals", LiveTable)
        assert list(table.columns_shown[:2]) == ["variant", "progress"]
        progress = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert progress[0].startswith("step ") and "train_loss" in progress[0]
        assert progress[1:] == ["waiting"] * (table.row_count - 1)
