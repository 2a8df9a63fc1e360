"""The dashboard names variants for the values they ran with (issue 18, items 4, 5 and 9a): norms
at batch 8 is "BatchNorm · batch 8" in the finals, "acc b8" in the Results table and batch=8 in
History; a per-variant field with one value says the variants merge; History shows per-variant
values."""

from __future__ import annotations

from textual.widgets import Static

from regtui.app.views.history import HistoryTab
from regtui.app.views.history_rows import COLUMNS
from regtui.app.widgets.live_table import LiveTable, short_header
from regtui.app.widgets.results_view import ResultsView

from .conftest import app_for
from .driver import Dashboard

WIDE = (120, 40)
SMALL_NORMS = {"steps": "2", "train_samples": "16", "test_samples": "8"}


async def history_rows(pilot) -> list[dict[str, str]]:
    app = pilot.app
    Dashboard(pilot).show_view("history")
    await pilot.pause()
    view = app.main.query_one(HistoryTab)
    view.reload()
    await pilot.pause()
    table = view.table
    return [dict(zip(COLUMNS, (str(c) for c in table.get_row_at(i)))) for i in range(table.row_count)]


def hint(app, key: str) -> str:
    dash = Dashboard.of(app)
    return str(dash.form.query_one(f"#hint-{key}", Static).render())


async def test_norms_at_batch_8_is_named_for_batch_8_everywhere():
    app = app_for(file="norms")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert hint(app, "batch").startswith("  per variant: BatchNorm · batch 2")
        await dash.type_into("batch", "8")
        # one value in a per-variant field: the hint says so, and how many variants remain
        assert "one value: all 8 variants run with it" in hint(app, "batch") and "8 → 4" in hint(app, "batch")
        # the norm field's hint names each variant as it now runs: no "batch 2" or "batch 64" left
        norm = hint(app, "norm").removeprefix("  per variant: ").split(", ")
        assert norm == [
            f"{n} · batch 8" for n in ("BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm") for _ in (2, 64)
        ]
        await dash.set_fields(**SMALL_NORMS)
        await pilot.press("escape")
        await dash.run_to_end()
        names = dash.collector.variant_names()
        assert names == ["BatchNorm · batch 8", "LayerNorm · batch 8", "InstanceNorm · batch 8", "GroupNorm · batch 8"]
        app.main.query_one("#views").active = "tab-results"
        await pilot.pause(0.3)
        finals = app.main.query_one("#results-finals", LiveTable)
        assert [str(finals.get_row_at(i)[0]) for i in range(finals.row_count)] == names
        norms = app.main.query_one(ResultsView).tables["norms"]
        joined = [c for c in norms.columns_shown if c.startswith("test_accuracy")]
        assert joined == ["test_accuracy (batch 8)"] and short_header(joined[0]) == "acc b8"
        (row,) = await history_rows(pilot)
        assert "batch=8" in row["changed"] and "batch 2" not in row["results"]


async def test_the_hint_follows_the_field_back_to_one_value_per_variant():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.type_into("weight_decay", "0.05")
        assert "one value: all 2 variants run with it (they merge: 2 → 1)" in hint(app, "weight_decay")
        await dash.type_into("weight_decay", "0.0, 0.05")
        # each variant named as it now runs: "weight decay" (0.01) runs with 0.05
        assert hint(app, "weight_decay") == "  per variant: no weight decay, weight_decay=0.05"


async def test_history_shows_per_variant_values():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="20", hidden="8", weight_decay="0.0, 0.05")
        await pilot.press("escape")
        await dash.run_to_end()
        (row,) = await history_rows(pilot)
        assert row["changed"].split() == ["hidden=8", "iters=20", "weight_decay=0,0.05"]
        assert "weight_decay=0.05" in row["results"]  # the edited variant's label: its value
