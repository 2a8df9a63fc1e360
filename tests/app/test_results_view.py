"""The Results view: the finals of every variant after a run, where each variant is while a run
goes on or after a stop, per-seed rows never joined with a variant's mean."""

from __future__ import annotations

from regtui.app.widgets.live_table import LiveTable, cell_text
from regtui.app.widgets.results_view import FINALS_CAPTION, HINT, ResultsView, finals_table

from .conftest import app_for
from .driver import Dashboard


async def test_weight_decay_results_show_the_finals_of_every_variant():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="20", hidden="8")
        await pilot.press("escape")
        await dash.run_to_end()
        assert dash.run.status == "done"
        dash.show_view("results")
        await pilot.pause(0.3)
        view = app.main.query_one(ResultsView)
        assert not view.query(".hint"), "the empty-view hint is gone after a run"
        table = app.main.query_one("#results-finals", LiveTable)
        document = dash.run.collector.document()
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
        {"name": "a", "seeds": [0, 1], "final": {"loss": 0.5, "size": 64, "diverged": False, "curve": [1, 2]},
         "final_std": {"loss": 0.01, "size": 0.0}, "diverged_seeds": []},
        {"name": "b", "seeds": [0, 1], "final": {"loss": 2.0, "diverged": False},
         "final_std": {"loss": 0.25}, "diverged_seeds": [1]},
    ]  # fmt: skip
    columns, rows = finals_table(records)
    assert columns == ["variant", "loss", "size", "diverged"]  # a list final is not a column
    # no "± 0" where every seed gave the same (a size); the std to 2 digits, as the text and compare
    assert rows == [("a", ["a", "0.5 ± 0.01", 64, False]), ("b", ["b", "2 ± 0.25", None, "1/2 seeds"])]
    columns, rows = finals_table([{"name": "x", "final": {"acc": 1.0}}])
    assert columns == ["variant", "acc", "diverged"] and rows[0][1][2] is False


def test_empty_results_keep_the_hint():
    assert finals_table([]) == (["variant"], [])
    assert "after a run" in HINT


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
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.stop_mid_run(min_step=20, steps="100000", train_samples="16", test_samples="8")
        await pilot.pause(0.3)
        assert dash.active_view == "results"
        view = app.main.query_one(ResultsView)
        captions = [str(c.render()) for c in view.query(".table-caption")]
        assert captions == [FINALS_CAPTION, "norms"]  # the finals first: in view at any size
        table = app.main.query_one("#results-finals", LiveTable)
        assert list(table.columns_shown[:2]) == ["variant", "progress"]
        progress = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert progress[0].startswith("step ") and "train_loss" in progress[0]
        assert progress[1:] == ["waiting"] * (table.row_count - 1)
