"""History's results in view (issue 18, item 7): at 120x40 without scrolling, at 80x24 after at
most one →. Read from the lines the table draws, not from its data."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from regtui.app.views.history import HistoryTab
from regtui.cli import main
from regtui.store import open_store

from .conftest import app_for
from .driver import Dashboard

# Runs of the bundled scenarios, the longest scenario name (weight-decay-sweep) among them.
RUNS = [
    ("weight-decay", "iters=20", "hidden=8"),
    ("dropout", "iters=20", "hidden=8", "dropout=0.0,0.9"),
    ("weight-decay-sweep", "iters=20", "hidden=8"),
    ("norms", "steps=2", "train_samples=16", "test_samples=8"),
    ("bn", "depth=10", "width=16", "train_steps=2"),
]


@pytest.fixture
def stored_runs() -> list[tuple[int, str]]:
    """The runs above, saved by the CLI; (id, results text) of each."""
    from regtui.app.views.history_rows import RESULTS_WIDTH, headline_cut

    for scenario, *sets in RUNS:
        args = ["--scenario", scenario, "--json", "--device", "cpu", *(a for s in sets for a in ("--set", s))]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.stderr
    # a random search: its best point's name is a long headline without items to cut at
    sample = ["--scenario", "weight-decay", "--json", "--set", "iters=20", "--set", "hidden=8", "--sample", "4"]
    result = CliRunner().invoke(
        main, [*sample, "--sweep", "weight_decay=log(1e-4,1e-1)", "--sweep", "dropout=uniform(0,0.6)"]
    )
    assert result.exit_code == 0, result.stderr
    return [(info.id, headline_cut(info.headline(), RESULTS_WIDTH)) for info in open_store().listing().runs]


def drawn(view: HistoryTab) -> dict[int, str]:
    """Each run's table line as drawn now (what the terminal shows)."""
    table = view.table
    top = table.header_height
    return {run_id: table.render_line(top + i).text for i, run_id in enumerate(view.row_ids)}


async def history(pilot) -> HistoryTab:
    Dashboard(pilot).show_view("history")
    await pilot.pause()
    view = pilot.app.main.query_one(HistoryTab)
    view.reload()
    view.focus_content()
    await pilot.pause()
    await pilot.pause()
    return view


async def test_results_in_view_at_120x40(stored_runs):
    app = app_for(file="weight-decay")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        view = await history(pilot)
        lines = drawn(view)
        for run_id, results in stored_runs:
            assert results and results in lines[run_id], (results, lines[run_id])
        assert "scenario" in view.table.render_line(0).text and "results" in view.table.render_line(0).text


async def test_results_in_view_after_one_right_at_80x24(stored_runs):
    app = app_for(file="weight-decay")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        view = await history(pilot)
        lines = drawn(view)
        if not all(results in lines[run_id] for run_id, results in stored_runs):
            await pilot.press("right")
            await pilot.pause()
            lines = drawn(view)
        for run_id, results in stored_runs:
            assert results in lines[run_id], (results, lines[run_id])
            assert lines[run_id].lstrip().startswith(str(run_id))  # the run's id stays in view


def test_a_long_headline_ends_after_its_last_whole_item():
    """One long headline (eight variants) would widen History's results column past the view's edge
    for every row, and a cut column is blanked: it is shortened to whole items and "…" instead."""
    from regtui.app.views.history_rows import RESULTS_WIDTH, headline_cut

    short = "test_loss: no weight decay 0.253 · weight decay 0.203"
    assert headline_cut(short, RESULTS_WIDTH) == short
    long = "test_accuracy: " + " · ".join(f"variant {i} 0.{i}5" for i in range(8))
    cut = headline_cut(long, RESULTS_WIDTH)
    assert len(cut) <= RESULTS_WIDTH and cut.endswith(" …")
    assert long.startswith(cut.removesuffix(" …")) and cut.removesuffix(" …").endswith("0.15")
