"""Tables a newcomer can read: the JSON's column order, short headers, 4 significant digits,
sideways scrolling by keyboard, highlights only on cells the last update changed."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from regtui.app.widgets.live_table import HOT, LiveTable, short_header
from regtui.numbers import fmt

from .conftest import app_for
from .driver import Dashboard


async def test_bn_stats_tables_fit_80x24_in_the_json_order():
    app = app_for(file="bn-stats")
    async with app.run_test(size=(80, 24)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.run_to_end()
        app.main.query_one("#views").active = "tab-stats"
        await pilot.pause(0.3)
        snapshot = dash.collector.snapshot(2)
        tables = list(app.main.query(LiveTable))
        assert tables
        for table in tables:
            name = next(n for n in snapshot.tables if table.id == f"table-{n}")
            assert table.columns_shown == snapshot.tables[name].columns  # the JSON's order
            assert "batch_var_unbiased" in table.columns_shown
            assert table.virtual_size.width <= table.size.width, "every column in view at 80x24"
            assert not table.hot, "after a run nothing is lit up: every row was new, none changed"


async def test_norms_results_short_digits_and_sideways_scroll():
    app = app_for(file="norms")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.run_to_end(timeout=120)
        app.main.query_one("#views").active = "tab-results"
        await pilot.pause(0.3)
        table = app.main.query_one("#result-norms", LiveTable)
        row = [str(c) for c in table.get_row_at(0)]
        accuracy = row[table.columns_shown.index("test_accuracy (batch 2)")]
        assert len(accuracy.replace("0.", "").lstrip("0")) <= 4, accuracy
        assert table.max_scroll_x > 0
        app.main.set_focus(table)
        await pilot.pause()
        await pilot.press("right", "right", "right")
        await pilot.pause(0.5)
        assert table.scroll_x > 0
        await pilot.press("end")  # row cursor to the last row; sideways: keep pressing right
        for _ in range(200):
            if table.scroll_x >= table.max_scroll_x:
                break
            await pilot.press("right")
        assert table.scroll_x == table.max_scroll_x, "the last column is reachable by keyboard"


def test_short_headers():
    assert short_header("running_mean") == "run mean"
    assert short_header("batch_var_unbiased") == short_header("batch_var") == "b var N-1"  # both unbiased
    assert short_header("batch_mean") == "b mean"
    assert short_header("test_accuracy (batch 64)") == "acc b64"
    assert short_header("output_std") == "output std"


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable()


async def test_only_changed_cells_light_up():
    async with OneTable().run_test() as pilot:
        table = pilot.app.query_one(LiveTable)
        table.set_columns(["k", "a", "b"])
        table.upsert([("r1", (1, 2, 3))])
        assert table.hot == set(), "a new row is new, not changed"
        table.upsert([("r1", (1, 2, 4)), ("r2", (5, 6, 7))])
        assert table.hot == {("r1", "b")}
        lit = table.get_row_at(0)[2]
        assert isinstance(lit, Text) and str(lit) == "4" and lit.style == HOT
        assert table.get_row_at(0)[1] == "2" and table.get_row_at(1) == ["5", "6", "7"]
        table.upsert([("r1", (1, 2, 4))])
        assert table.hot == set() and table.get_row_at(0)[2] == "4", "unchanged since: cooled down"


async def test_down_on_the_last_row_reaches_the_next_table():
    app = app_for(file="bn-stats")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.run_to_end()
        app.main.query_one("#views").active = "tab-stats"
        await pilot.pause(0.3)
        tables = [t for t in app.main.query_one("#stats-view").children if isinstance(t, LiveTable)]
        assert len(tables) == 3
        app.main.set_focus(tables[0])
        await pilot.pause()
        for _ in range(tables[0].row_count):
            await pilot.press("down")
        assert app.focused is tables[1]
        await pilot.press("up")
        assert app.focused is tables[0]


async def test_a_prose_cell_wraps_whole_in_a_narrowed_column():
    """A prose column narrowed to what the view leaves (here 28 cells) wraps every cell longer than
    it, not only the cells longer than WRAP_AT: a 30-character cell is shown whole on two lines."""
    async with OneTable().run_test(size=(36, 12)) as pilot:
        table = pilot.app.query_one(LiveTable)
        table.set_columns(["name", "note"])
        table.upsert([("a", ["x", "a" * 50]), ("b", ["y", "b" * 30])])
        await pilot.pause()
        note = table.ordered_columns[1]
        assert note.width is not None and note.width < 30, "the view leaves the note less than 30 cells"
        drawn = [table.render_line(y).text for y in range(table.header_height, table.virtual_size.height)]
        assert sum(line.count("a") for line in drawn) == 50 and sum(line.count("b") for line in drawn) == 30


def test_whole_floats_print_as_integers():
    assert fmt(10000.0) == "10000" == fmt(10000)
    assert fmt(9766.0) == "9766"
    assert fmt(10050.0) == "10050"
    assert fmt(-3.0) == "-3"
    assert fmt(1e6) == "1e+06"  # a million and beyond: still 4 significant digits
    assert fmt(12345.6) == "1.235e+04"
    assert fmt(0.000123456) == "0.0001235"
    assert fmt(float("inf")) == "inf" and fmt(float("nan")) == "nan"
