"""The Worked numbers view: each formula of a run's summary.worked with predicted and measured side by side."""

from __future__ import annotations

from regtui.app.widgets.wide_table import WideTable
from regtui.app.widgets.worked_view import COLUMNS, WorkedView, agreement, worked_sections

from .conftest import app_for, wait_until
from .driver import Dashboard

WIDE = (120, 40)
BN_LINE = "(1 − 0.3)·0.3 + 0.3·1"  # feature 1's running mean after the second update


def cells(view: WorkedView) -> list[list[str]]:
    out = []
    for table in view.query(WideTable):
        for i in range(table.row_count):
            out.append([str(c) for c in table.get_row_at(i)])
    return out


async def test_bn_stats_worked_numbers():
    app = app_for(file="bn-stats")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert "worked" not in dash.visible_views()  # before a run: nothing worked out yet
        await dash.run_to_end()
        assert "worked" in dash.visible_views()
        dash.show_view("worked")
        view = app.main.query_one(WorkedView)
        await wait_until(lambda: view.sections != [])
        await pilot.pause()
        rows = [dict(zip(COLUMNS, row)) for row in cells(view)]
        line = next(r for r in rows if r["formula"] == BN_LINE)
        assert line["what"].strip() == "running_mean"
        assert line["predicted"] == "0.51" and line["measured"] == "0.51" and line["agreement"] == "✓"
        assert [s.title for s in view.sections] == ["bn1d", "bn2d", "bn3d"]
        # Its group row says which update it is.
        index = rows.index(line)
        group = next(r for r in reversed(rows[:index]) if r["predicted"] == "")
        assert group["what"].strip() == "feature 1 · iteration 2"


async def test_weight_decay_worked_numbers_and_a_run_without_them():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="50")
        await dash.run_to_end()
        worked = dash.collector.snapshot(2).summary["worked"]
        dash.show_view("worked")
        view = app.main.query_one(WorkedView)
        await wait_until(lambda: view.sections != [])
        assert [s.title for s in view.sections] == list(worked)
        decay = view.sections[[s.title for s in view.sections].index("weight decay")]
        assert "weight_decay 0.01" in decay.given and "momentum 0.9" in decay.given
        by_label = {r.label: r for r in decay.rows}
        row = by_label["zero_gradient_norm_without_momentum"]
        item = worked["weight decay"]["zero_gradient_norm_without_momentum"]
        assert row.formula == item["formula"]
        assert row.predicted and row.measured and row.agreement == agreement(item["predicted"], item["measured"])
        # Picking another scenario clears the view.
        await dash.pick("norms")
        await pilot.pause()
        assert view.sections == [] and "worked" not in dash.visible_views()


def test_sections_of_every_shape():
    worked = {
        "p": 0.5,
        "draws": [{"kept": 3, "train_output": {"formula": "kept/(1 − p)", "predicted": 6.0, "measured": 6.0}}],
        "mean": {"formula": "E = n", "predicted": 10.0, "measured": 9.9},
        "bn1d": {"input": [3, 5], "eval": [{"feature": 1, "formula": "x", "predicted": 1.0, "measured": 2.0}]},
        "pairs": [{"a": "GroupNorm(6, 6)", "b": "InstanceNorm2d(6)", "formula": "G = C", "max_abs_diff": 0.0}],
    }
    main, bn = worked_sections(worked)
    assert main.title == "" and main.given == ["p 0.5"]
    labels = [(r.label, r.group) for r in main.rows]
    assert labels == [
        ("draws", True),
        ("kept 3", True),
        ("train_output", False),
        ("mean", False),
        ("pairs", True),
        ("a GroupNorm(6, 6) · b InstanceNorm2d(6)", False),
    ]
    assert main.rows[2].agreement == "✓" and main.rows[3].agreement == "-1%"
    assert main.rows[5].note == "max_abs_diff 0" and main.rows[5].predicted == ""
    assert bn.title == "bn1d" and bn.given == ["input [3, 5]"]
    assert [(r.label, r.agreement) for r in bn.rows] == [("eval", ""), ("feature 1", "×2")]
    assert agreement(1e-39, 3.6e-40) != "✓"  # tiny numbers are not equal just for being tiny
    assert agreement(0.0, 0.0) == "✓" and agreement(None, None) == "✓" and agreement(1.0, None) == ""
    assert worked_sections(None) == []
