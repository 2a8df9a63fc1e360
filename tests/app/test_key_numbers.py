"""The numbers a lesson's text cites are on screen without scrolling at 120x40, and at 80x24
too (tables scroll sideways at most one column for the rest): Worked numbers' predicted and
measured values, bn-eval's refusal of a batch of one, the digits' test accuracy, the finals of
adamw and no-decay-groups (their Results view), the status line's note of a divergence, and the
footer's Help and Quit keys. Asserted on the screen's text (``screen_text``)."""

from __future__ import annotations

import pytest

from regtui import registry
from regtui.app.run_state import RunState
from regtui.app.widgets.status_bar import StatusBar
from regtui.app.widgets.worked_view import value_text
from regtui.numbers import fmt

from .conftest import app_for
from .driver import Dashboard
from .screen_text import screen_lines, screen_text

WIDE, NARROW = (120, 40), (80, 24)


async def run(pilot, **fields: str) -> None:
    dash = Dashboard(pilot)
    await pilot.pause()
    await pilot.press("escape")
    if fields:
        await dash.set_fields(**fields)
    await dash.run_to_end(timeout=120)


async def show(pilot, view: str, size: tuple[int, int]) -> str:
    """The screen's text with ``view`` open at ``size``."""
    await pilot.resize_terminal(*size)
    await pilot.pause()
    Dashboard(pilot).show_view(view)
    await pilot.pause(0.3)
    return screen_text(pilot.app)


def line_with(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if label in line)


def finals_header(text: str) -> str:
    """The finals table's header line (not its caption, "final values (one row per variant)")."""
    return next(line for line in text.splitlines() if " variant  " in line)


def finals_row(text: str, name: str) -> str:
    """The finals table's row of a variant (below the header: the title may name a variant too)."""
    lines = text.splitlines()
    below = lines[lines.index(finals_header(text)) + 1 :]
    return next(line for line in below if f" {name}  " in line)


async def test_worked_numbers_show_predicted_and_measured():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await run(pilot, iters="50")
        worked = dash.collector.snapshot(2).summary["worked"]
        label = "zero_gradient_norm_with_momentum"
        for size, sections in ((WIDE, ["no weight decay", "weight decay"]), (NARROW, ["no weight decay"])):
            text = await show(pilot, "worked", size)
            header = line_with(text, "what")
            assert "predicted" in header and "measured" in header, (size, header)
            rows = [line for line in text.splitlines() if label in line]
            for section, row in zip(sections, rows, strict=False):
                item = worked[section][label]
                assert value_text(item["predicted"]) in row and value_text(item["measured"]) in row, (size, row)
            assert len(rows) >= len(sections), (size, text)


async def test_bn_eval_shows_pytorchs_refusal_of_a_batch_of_one():
    app = app_for(file="bn-eval")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await run(pilot)
        rows, _ = dash.collector.rows_since("batch_eval", 0)
        columns = dash.collector.snapshot(2).tables["batch_eval"].columns
        errors = [row[columns.index("error")] for row in rows if row[columns.index("error")]]
        assert errors, "the engine records the refusal"
        start = " ".join(str(errors[0]).split()[:4])  # "Expected more than 1"
        for size in (WIDE, NARROW):
            text = await show(pilot, "stats", size)
            assert start in text, (size, text)


async def test_digits_results_show_the_test_accuracy_first():
    app = app_for(file="digits-overfit")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await run(pilot, steps="4", log_every="2")
        records = dash.collector.snapshot(2).records
        assert registry.get("train").key_finals[0] == "test_accuracy"
        for size in (WIDE, NARROW):
            text = await show(pilot, "results", size)
            header = finals_header(text)
            assert header.split("variant", 1)[1].split()[0] == "acc", header  # test_accuracy, right after the variant
            for rec in records:
                row = finals_row(text, rec["name"])
                assert fmt(rec["final"]["test_accuracy"], 4) in row, (size, row)


@pytest.mark.parametrize(
    ("scenario", "fields", "finals", "headers"),
    [
        ("adamw", {"iters": "50"}, ("weight_norm", "weight_norm_init"), ("weight norm", "weight norm init")),
        (
            "no-decay-groups",
            {"steps": "40"},
            ("gamma_abs", "gamma_norm", "beta_norm", "test_loss"),
            ("gamma abs", "gamma norm", "beta norm", "test loss"),
        ),
        (
            "dropout-before-bn",
            {"steps": "40"},
            ("test_loss", "test_loss_recalibrated", "train_var_ratio", "running_var_ratio"),
            ("test loss", "test loss (recal.)", "train var ratio", "running var ratio"),
        ),
    ],
)
async def test_pitfalls_have_a_results_view_with_their_finals(scenario, fields, finals, headers):
    app = app_for(file=scenario)
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await run(pilot, **fields)
        assert "results" in dash.visible_views()
        records = dash.collector.snapshot(2).records
        text = await show(pilot, "results", WIDE)
        assert all(name in finals_header(text) for name in headers), finals_header(text)
        for rec in records:
            row = finals_row(text, rec["name"])
            assert all(fmt(rec["final"][key], 4) in row for key in finals), row
        # At 80x24 each one is in view, or one → away (the variant's name stays, pinned).
        text = await show(pilot, "results", NARROW)
        app.main.set_focus(app.main.query_one("#results-finals"))
        await pilot.pause()
        await pilot.press("right")
        await pilot.pause(0.2)
        after = screen_text(app)
        for rec in records:
            rows = finals_row(text, rec["name"]) + " " + finals_row(after, rec["name"])
            assert all(fmt(rec["final"][key], 4) in rows for key in finals), rows


async def test_the_status_line_shows_what_the_run_showed_first():
    app = app_for(file="bn")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await run(pilot, train_steps="2")
        note = dash.run.note
        assert note.startswith("normal init went inf/NaN at layer")
        for size in (WIDE, NARROW):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.5)  # the redraw timer's tick (every 0.1 s here) shows the status again
            status = dash.status_text()
            assert status.startswith(f"done · {note}")
            text = " ".join(line.strip() for line in screen_lines(app))
            assert f"done · {note}" in text, (size, status)


async def test_a_long_divergence_note_is_short_and_wraps_rather_than_cut():
    from regtui import scenario as sc
    from regtui.engine import run_plan
    from regtui.report import Collector

    scenario = sc.load(sc.find("weight-decay-sweep"))
    plan = sc.plan(scenario, sc.parse_sets(scenario.spec, ["lr=50", "iters=20", "hidden=8"]))
    collector = Collector()
    run_plan(plan, "cpu", emit=collector, threads=1)
    state = RunState(1, plan, "cpu", collector, status="done")
    diverged = [n for n in collector.variant_names() if collector.variant_record(n, 2)["final"].get("diverged")]
    assert len(diverged) > 3, diverged
    note = state.divergence_note()
    assert note.startswith(f"{len(diverged)} of 8 variants went inf/NaN: {diverged[0]}, {diverged[1]}, …")
    state.note = note
    text = StatusBar().build(state.status_info(), 78).plain
    assert text.startswith(f"done · {note}")  # the words first; the figures after them


@pytest.mark.parametrize("view", ["loss", "results", "history"])
async def test_the_footer_keeps_help_and_quit_at_80x24(view):
    app = app_for(file="weight-decay")
    async with app.run_test(size=NARROW) as pilot:
        await run(pilot, iters="20")
        Dashboard(pilot).show_view(view)
        await pilot.pause(0.3)
        if view == "history":  # its own keys (c, d, f) join the footer with the focus in its table
            from regtui.app.views.history import HistoryTab

            app.main.query_one(HistoryTab).focus_content()
            await pilot.pause(0.3)
        footer = screen_lines(app)[-1]
        assert "? Help" in footer and "q Quit" in footer, footer
        if view == "loss":
            assert "v h t" in footer  # the chart keys, one entry
        await pilot.resize_terminal(100, 30)  # the sidebar layout, not yet room for each key's name
        await pilot.pause(0.3)
        footer = screen_lines(app)[-1]
        assert "? Help" in footer and "q Quit" in footer, footer
        await pilot.resize_terminal(*WIDE)
        await pilot.pause(0.3)
        footer = screen_lines(app)[-1]
        assert "? Help" in footer and "q Quit" in footer
        if view == "loss":
            assert "v Variant" in footer and "t Train/test" in footer  # room for their names
