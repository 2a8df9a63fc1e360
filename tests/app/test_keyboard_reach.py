"""Everything a view holds is reachable by keyboard (issue #8): tab to a table view focuses its table,
Left/Right/Home/End bring every column into view, and a hint says while columns are cut; a stored run
says it is one; the History filter reads without colour; a long form value is shown whole; the status
line never says "loading" once torch is loaded; a run that never starts takes no run id."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, Input, Static, TabbedContent, Tabs

from regtui.app.views.history import HistoryTab
from regtui.app.widgets.live_table import LiveTable
from regtui.app.widgets.status_bar import StatusBar
from regtui.app.widgets.table_sideways import cut_text
from regtui.app.widgets.wide_table import WideTable
from regtui.specs import ConfigError
from regtui.store import open_store

from .conftest import app_for, key, wait_until
from .driver import Dashboard

SIZES = [(80, 24), (120, 40)]
IDS = ["80x24", "120x40"]


def last_column_shown(table: WideTable) -> bool:
    """The last column's text lies inside the table's region on screen (scrolled into view)."""
    x, width = table.column_spans()[-1]
    pad = table.cell_padding
    left_on_screen = table.content_region.x + x - round(table.scroll_x)
    right_on_screen = left_on_screen + width - pad
    return table.content_region.x <= left_on_screen + pad and right_on_screen <= table.content_region.right


def header_line(table: WideTable) -> str:
    return table.render_line(0).text


async def tab_to(pilot, view: str, burst: tuple[str, ...] = ()) -> None:
    """Press tab until ``view`` shows (then the keys of ``burst`` at once, no pause between)."""
    dash = Dashboard(pilot)
    app = pilot.app
    for _ in range(10):
        if dash.active_view == view:
            break
        await pilot.press("tab")
    assert dash.active_view == view
    for name in burst:
        key(app, name)
    await pilot.pause()
    await pilot.pause()


async def reach_the_last_column(pilot, table: WideTable) -> None:
    """The table is focused and cut: the hint says so; End shows the last column, Home the first; Right,
    pressed in a burst, reaches the last column too, one column a press."""
    app = pilot.app
    assert app.focused is table
    columns = len(table.columns)
    last = str(table.ordered_columns[-1].label)
    assert table.cut[1] > 0 and not last_column_shown(table), "the test needs a table wider than the screen"
    assert f"{table.cut[1]} more column" in str(table.border_subtitle) and table.has_class("-cut")
    key(app, "end")
    await pilot.pause()
    assert last_column_shown(table) and last in header_line(table)
    assert table.cut[1] == 0 and "more column" not in str(table.border_subtitle)
    key(app, "home")
    await pilot.pause()
    assert table.scroll_x == 0 and not last_column_shown(table)
    for _ in range(columns):
        key(app, "right")
    await pilot.pause()
    assert last_column_shown(table) and table.scroll_x == table.max_scroll_x
    key(app, "left")
    await pilot.pause()
    assert table.scroll_x < table.max_scroll_x


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_worked_numbers_tab_focuses_the_table_and_every_column_is_reachable(size):
    app = app_for(file="bn-stats")
    async with app.run_test(size=size) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.run_to_end()
        await tab_to(pilot, "worked")
        table = app.main.query_one("#worked-0", WideTable)
        await wait_until(lambda: app.focused is table, 5)  # drawn on showing: focused once mounted
        await reach_the_last_column(pilot, table)
        # Down past the last row: the next section's table.
        key(app, "ctrl+end")
        key(app, "down")
        await pilot.pause()
        assert app.focused is app.main.query_one("#worked-1", WideTable)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_results_tab_then_keys_at_once_reach_the_norms_table_columns(size):
    app = app_for(file="norms")
    async with app.run_test(size=size) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(steps="2")
        await pilot.press("escape")
        await dash.run_to_end()
        await tab_to(pilot, "worked")  # drawn once: Results is then drawn at the moment tab shows it
        await tab_to(pilot, "results")
        norms = app.main.query_one("#result-norms", LiveTable)
        first = next(t for t in app.main.query_one("#results-view").children if isinstance(t, WideTable))
        await wait_until(lambda: app.focused is first, 5)
        for _ in range(10):
            if app.focused is norms:
                break
            key(app, "ctrl+end")
            key(app, "down")
            await pilot.pause()
        await reach_the_last_column(pilot, norms)


async def test_the_tab_row_leads_into_the_view_with_down_or_enter():
    app = app_for(file="bn-stats")
    async with app.run_test(size=(80, 24)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.run_to_end()
        dash.show_view("results")
        await pilot.pause(0.3)
        tabs = app.main.query_one(TabbedContent).query_one(Tabs)
        for keys in (("down",), ("enter",)):
            app.main.set_focus(tabs)
            await pilot.pause()
            await pilot.press(*keys)
            await pilot.pause()
            assert isinstance(app.focused, WideTable) and app.focused.id == "results-finals", keys
        assert dash.run.run_id == 1, "enter on the tab row does not run"


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_running_stats_tables_are_focused_by_tab_and_scroll(size):
    app = app_for(file="bn")
    async with app.run_test(size=size) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(depth="3", width="8", train_steps="2", stats_features="2")
        await pilot.press("escape")
        await dash.run_to_end()
        await tab_to(pilot, "stats")
        tables = [t for t in app.main.query_one("#stats-view").children if isinstance(t, LiveTable)]
        assert tables
        await wait_until(lambda: app.focused is tables[0], 5)
        if tables[0].cut[1]:
            await reach_the_last_column(pilot, tables[0])
        else:  # it fits: the hint stays away
            assert not tables[0].border_subtitle and last_column_shown(tables[0])


async def test_history_list_is_focused_by_tab_and_its_last_column_comes_into_view():
    app = app_for(file="weight-decay")
    async with app.run_test(size=(80, 24)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="30", hidden="8")
        await pilot.press("escape")
        await dash.run_to_end()
        await dash.run_to_end()
        await tab_to(pilot, "history")
        view = app.main.query_one(HistoryTab)
        assert app.focused is view.table and view.table.row_count == 2
        await reach_the_last_column(pilot, view.table)


def test_the_hint_names_the_cut_columns():
    assert cut_text(0, 0) == ""
    assert "3 more columns →" in cut_text(0, 3)
    assert "← 1 column" in cut_text(1, 2) and "2 more columns →" in cut_text(1, 2)


# --- a stored run says it is one ----------------------------------------------------------------


def status_text(app) -> str:
    return Dashboard.of(app).status_text()


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_a_stored_run_is_marked_read_only_until_the_next_run(size):
    app = app_for(file="bn-stats")
    async with app.run_test(size=size) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.run_to_end()
        assert "read-only" not in status_text(app)
        view = app.main.query_one(HistoryTab)
        dash.show_view("history")
        await pilot.pause()
        assert view.open_run(1)
        await pilot.pause()
        marker = "viewing stored run #1 (read-only) — r runs anew"
        assert marker in status_text(app)
        assert app.main.query_one(StatusBar).size.width >= len(status_text(app)), "the marker fits the line"
        if size == (120, 40):
            assert "stored run #1 (read-only)" in str(app.main.query_one("#app-title", Static).render())
        dash.show_view("stats")  # it stays while the user looks around
        await pilot.pause(0.3)
        assert marker in status_text(app)
        await dash.run_to_end()
        assert "read-only" not in status_text(app)
        assert "stored run" not in str(app.main.query_one("#app-title", Static).render())


async def test_picking_another_scenario_clears_the_marker():
    app = app_for(file="bn-stats")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.run_to_end()
        assert app.main.query_one(HistoryTab).open_run(1)
        await pilot.pause()
        assert "read-only" in status_text(app)
        await dash.pick("weight-decay")
        await pilot.pause()
        assert "read-only" not in status_text(app)


# --- the History filter without colour ------------------------------------------------------------


async def test_the_history_filter_reads_without_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(file="bn-stats")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        Dashboard(pilot).show_view("history")
        await pilot.pause()
        box = app.main.query_one("#history-only", Checkbox)

        def shown() -> str:
            return box.render_line(0).text

        off = shown()
        assert "only this scenario: off" in off and "X" not in off
        app.main.query_one(HistoryTab).focus_content()
        await pilot.press("f")
        await pilot.pause()
        on = shown()
        assert box.value and "only this scenario: on" in on and "X" in on
        assert on != off
        await pilot.press("f")
        await pilot.pause()
        assert shown() == off


# --- a long form value is shown whole ---------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_the_bn_init_value_is_shown_whole(size):
    app = app_for(file="bn")
    async with app.run_test(size=size) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        if size == (80, 24):
            await pilot.press("p")  # the form's own tab
        await pilot.pause(0.3)
        form = dash.form
        field = form.query_one("#field-init", Input)
        value = field.value
        assert value.count(",") == 3, value
        echo = form.query_one("#echo-init", Static)
        if len(value) < field.content_size.width:
            assert not echo.display  # it fits: no echo
            assert value in field.render_line(0).text
        else:
            assert echo.display
            text = " ".join(echo.render_line(y).text.strip() for y in range(echo.size.height))
            assert " ".join(value.split()) in " ".join(text.split())
            assert echo.region.right <= form.region.right  # wrapped inside the form, not cut
        # Typing keeps it up to date; a short value needs no echo.
        await dash.set_fields(init="kaiming")
        await pilot.pause()
        assert not echo.display


# --- the status line ---------------------------------------------------------------------------------


async def test_the_status_says_loading_then_ready_never_both():
    from regtui.app.app import make_app

    app = make_app(file="bn-stats", min_interval=0.1)  # no devices given: torch loads
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.device is None
        loading = status_text(app)
        assert "loading torch" in loading and "ready" not in loading
        await wait_until(lambda: app.device is not None, timeout=60)
        await pilot.pause()
        ready = status_text(app)
        assert "ready — r runs" in ready and "loading" not in ready


async def test_the_status_says_when_the_form_stops_a_run():
    app = app_for(file="bn-stats")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        assert "ready — r runs" in status_text(app)
        await dash.set_fields(iters="-1")
        assert "fix the form to run" in status_text(app)


# --- a run that never starts takes no run id ------------------------------------------------------------


async def test_a_dashboard_run_refused_before_it_starts_takes_no_id():
    calls = []

    def refusing(plan, device, emit, cancel, threads):
        calls.append(device)
        if len(calls) == 1:
            raise ConfigError("--device: 'cuda:0' is not available on this machine; available: cpu")
        from regtui.engine import run_plan

        return run_plan(plan, device, emit=emit, cancel=cancel, threads=threads)

    app = app_for(file="bn-stats", runner=refusing)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await pilot.press("escape")
        await dash.run_to_end()
        assert dash.run.status == "failed"
        assert open_store().listing().runs == []
        await dash.run_to_end()
        assert dash.run.status == "done"
        assert [r.id for r in open_store().listing().runs] == [1]


def test_a_headless_run_on_a_missing_device_takes_no_id(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    from click.testing import CliRunner

    from regtui.cli import main

    runs = str(tmp_path / "runs")
    runner = CliRunner()
    bad = runner.invoke(main, ["--scenario", "bn-stats", "--device", "cuda", "--runs-dir", runs, "--json"])
    assert bad.exit_code == 2 and "not available" in bad.output
    assert open_store(runs).listing().runs == []
    good = runner.invoke(main, ["--scenario", "bn-stats", "--runs-dir", runs, "--json"])
    assert good.exit_code == 0, good.output
    assert [r.id for r in open_store(runs).listing().runs] == [1]
