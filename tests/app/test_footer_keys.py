"""No key the footer offers can crash the dashboard (issue 18: ``m`` on Fit, Layers and Sweep exited
with an AttributeError).

For every bundled scenario and every view it shows, before, during and after a run, every key the
footer shows is pressed, one at a time and in a burst; after each the app is still running and no
action failed. The shown keys are read where the Footer reads them: the screen's active bindings
(``check_action`` applied) whose binding is shown.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from textual.keys import key_to_character
from textual.widgets import Footer, TabbedContent, Tabs

from regtui import scenario as sc
from regtui.app.app import ACTION_FAILED, RegtuiApp
from regtui.app.screens.dashboard import DashboardScreen
from regtui.app.widgets.chart import LiveChart
from regtui.app.widgets.fit_chart import FitChart
from regtui.engine import run_plan
from regtui.events import RunFinished

from .conftest import app_for, key, wait_until
from .driver import Dashboard

SCENARIOS = [sc.load(path).name for path in sc.bundled_paths()]  # what `regtui --list` names
# Form fields that make every bundled scenario's run end in well under a second (where it has them).
TINY = {
    "iters": "6",
    "steps": "4",
    "train_steps": "3",
    "log_every": "2",
    "depth": "6",
    "width": "16",
    "hidden": "8",
    "train_samples": "64",
    "test_samples": "32",
    "scaling_n": "100",
}
QUIT = "q"
SIZE = (100, 30)  # the smallest of the wide layout (the 120x40 trial's), and cheaper to draw
NARROW = (80, 24)  # the narrow layout: the form in its own Params view
VIEW_ACTIONS = ("chart", "next_view", "prev_view")  # the screen's actions on the visible view


class HeldRunner:
    """``run_plan`` in the worker thread whose end (its RunFinished) waits until released or stopped:
    the "during a run" keys meet a running run with all its data."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.holding = threading.Event()

    def __call__(self, plan: Any, device: str, *, emit: Any, cancel: threading.Event, threads: int) -> Any:
        def held_emit(event: Any) -> None:
            if isinstance(event, RunFinished):
                self.holding.set()
                while not (self.release.wait(0.01) or cancel.is_set()):
                    pass
            emit(event)

        return run_plan(plan, device, emit=held_emit, cancel=cancel, threads=threads)


def shown_keys(app: RegtuiApp) -> dict[str, object]:
    """The keys the footer shows now (dimmed ones too), as Textual's Footer finds them, each with what
    it acts on: the app (help, the command palette, quit), the screen, the visible view (the
    screen's chart keys and tab), or the widget in the view whose binding it is."""
    screen = app.main
    keys: dict[str, object] = {}
    for name, active in app.screen.active_bindings.items():
        if active.binding.show:
            on_view = active.node is screen and active.binding.action.startswith(VIEW_ACTIONS)
            keys[name] = screen.active_view if on_view else active.node
    if app.ENABLE_COMMAND_PALETTE:
        keys.setdefault(app.COMMAND_PALETTE_BINDING, app)  # the Footer's own palette key
    return keys


def record_notices(app: RegtuiApp, severity: bool = False) -> list[tuple[str, ...]]:
    """(title, message) of every notification from now on; (title, message, severity) with ``severity``."""
    notices: list[tuple[str, ...]] = []
    notify = app.notify

    def recording(message: str, **kwargs: Any) -> None:
        title = kwargs.get("title", "")
        notices.append((title, message, kwargs.get("severity", "information")) if severity else (title, message))
        notify(message, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    return notices


def assert_alive(app: RegtuiApp, notices: list[tuple[str, ...]], after: str) -> None:
    assert app.is_running and app.return_code is None, f"the app ended after {after}"
    failed = [message for title, message, *_ in notices if title == ACTION_FAILED]
    assert not failed, f"after {after}: {failed}"


async def back_to(pilot, view: str) -> bool:
    """Close any pop-up, show ``view`` with its content focused; False when the view is no longer shown."""
    app = pilot.app
    await pilot.pause()  # the dashboard has fitted its tabs (a tab set before that would be undone)
    for _ in range(3):
        if isinstance(app.screen, DashboardScreen):
            break
        await pilot.press("escape")  # help, the command palette, a confirmation: closed
    assert isinstance(app.screen, DashboardScreen), f"{app.screen} did not close on escape"
    screen = app.main
    if view not in screen.visible_views():
        return False
    focused = screen.focused
    if screen.active_view == view and focused is not None and screen.views[view] in focused.ancestors:
        return True  # already there
    screen.query_one(TabbedContent).active = f"tab-{view}"
    if not screen.views[view].focus_content():
        screen.set_focus(screen.query_one(TabbedContent).query_one(Tabs))
    await pilot.pause()
    return True


async def press_every_shown_key(pilot, notices, phase: str, skip: set[str], app_keys: bool) -> dict[str, list[str]]:
    """On every view, each key the footer shows (looked up again after each key). Returns, per view, the
    keys that acted on it (tab aside), for the burst.

    A key that acts on the screen or the app alike on every view (/, p, ?) is pressed on the first
    view only, the app's (help, the command palette) only where ``app_keys``; one that acts on
    the view (m, v, tab, a History key) on each. Tab goes last: it shows the next view.
    """
    dash = Dashboard(pilot)
    app = pilot.app
    done: set[tuple[str, object]] = set()
    view_keys: dict[str, list[str]] = {}
    for view in dash.visible_views():
        while await back_to(pilot, view):
            shown = shown_keys(app)
            view_keys.setdefault(view, [n for n, t in shown.items() if t not in (app, app.main) and n != "tab"])
            todo = [
                (name, target)
                for name, target in shown.items()
                if name not in skip and (name, target) not in done and (app_keys or target is not app)
            ]
            if not todo:
                break
            name, target = min(todo, key=lambda item: item[0] == "tab")
            done.add((name, target))
            await pilot.press(name)
            assert_alive(app, notices, f"{name!r} on {view} {phase}")
            if name == "tab":
                break
    assert done, f"no key shown {phase}"
    return view_keys


async def send_at_once(pilot, notices, names: list[str], what: str) -> None:
    """``names`` sent without waiting for each other (a paste, keys over SSH), then the app is alive."""
    app = pilot.app
    for name in names:
        key(app, name, key_to_character(name))
    for _ in range(3):
        await pilot.pause()
    assert_alive(app, notices, f"the burst {names} {what}")


async def to_a_view_offering(pilot, name: str) -> str:
    """The first view whose footer shows ``name`` (not the narrow layout's form, where letters are text)."""
    dash = Dashboard(pilot)
    for view in dash.visible_views():
        if await back_to(pilot, view) and name in shown_keys(pilot.app):
            return view
    raise AssertionError(f"no view offers {name!r}")


async def start_tiny(pilot) -> None:
    """Tiny sizes in the form (every field of TINY this scenario has): a run ends in well under a second."""
    screen = pilot.app.main
    fields = {name: text for name, text in TINY.items() if name in screen.form.texts}
    for name, text in fields.items():
        screen.form.query_one(f"#field-{name}").value = text
    await pilot.pause()
    assert screen.plan is not None, screen.form_error


@pytest.mark.parametrize(
    ("name", "size"),
    [*((name, SIZE) for name in SCENARIOS), ("weight-decay", NARROW)],
    ids=[*SCENARIOS, "weight-decay-80x24"],
)
async def test_every_footer_key_on_every_view_keeps_the_app_running(name, size):
    runner = HeldRunner()
    app = app_for(file=name, runner=runner)
    async with app.run_test(size=size) as pilot:
        notices = record_notices(app)
        await pilot.pause()
        await start_tiny(pilot)
        screen = app.main

        await press_every_shown_key(pilot, notices, "before a run", {QUIT, "r"}, app_keys=False)
        await to_a_view_offering(pilot, "r")
        await pilot.press("r")
        await wait_until(lambda: runner.holding.is_set(), 30)
        assert screen.run_active()
        await pilot.pause()

        view_keys = await press_every_shown_key(pilot, notices, "during a run", {QUIT, "s"}, app_keys=True)
        # Every view's keys and a tab to the next, all at once.
        views = screen.visible_views()
        await back_to(pilot, views[0])
        await send_at_once(pilot, notices, [k for v in views for k in [*view_keys.get(v, []), "tab"]], "during a run")
        assert screen.run_active(), "a key stopped or replaced the run"

        runner.release.set()
        await wait_until(lambda: screen.run_state is not None and not screen.run_active(), 30)
        await pilot.pause()
        assert screen.run_state.status == "done", screen.run_state.status
        await press_every_shown_key(pilot, notices, "after a run", {QUIT, "r"}, app_keys=False)
        # Every key a view shows at once: r starts another run, s stops it, / p d move the focus.
        await to_a_view_offering(pilot, "r")
        await send_at_once(pilot, notices, [k for k in shown_keys(app) if k != QUIT], "after a run")
        await to_a_view_offering(pilot, QUIT)  # out of any field the burst focused
        await pilot.press(QUIT)
        await wait_until(lambda: not app.is_running, 10)
    assert app.return_code == 0


async def test_m_is_offered_only_by_a_chart_that_has_it():
    """Fit, Layers and Sweep charts have no metric groups: their footer has no m (it crashed the app)."""
    app = app_for(file="weight-decay")
    async with app.run_test(size=SIZE) as pilot:
        dash = Dashboard(pilot)
        notices = record_notices(app)
        await start_tiny(pilot)
        await pilot.press("r")
        await wait_until(lambda: not dash.running(), 30)
        assert await back_to(pilot, "fit")
        keys = shown_keys(app)
        assert "v" in keys and "m" not in keys, keys
        await pilot.press("m")
        assert_alive(app, notices, "m on fit")


async def test_an_empty_chart_offers_no_chart_key_and_its_first_variants_do():
    """The footer follows the visible chart: nothing to cycle or hide before it has variants; once the
    first data name them, v, h and t are on screen without the focus moving."""
    app = app_for(file="weight-decay")
    async with app.run_test(size=SIZE) as pilot:
        assert await back_to(pilot, "fit")
        assert not {"m", "v", "h", "t"} & set(shown_keys(app))
        footer = app.main.query_one(Footer)
        on_screen = lambda: {k.key for k in footer.query("FooterKey")}  # noqa: E731
        assert "v" not in on_screen()
        app.main.query_one(FitChart).set_variants(["no weight decay", "weight decay"])  # a redraw's first data
        await wait_until(lambda: {"v", "h", "t"} <= on_screen(), 10)
        assert "m" not in on_screen()


@pytest.mark.parametrize("where", ["a chart's own key", "a screen key"])
async def test_an_action_that_raises_is_one_error_notice_not_an_exit(monkeypatch, where):
    def broken(self, *args: Any) -> None:
        raise RuntimeError("boom")

    if where == "a chart's own key":
        monkeypatch.setattr(LiveChart, "action_cycle_variant", broken)
        view, name = "loss", "v"
    else:
        monkeypatch.setattr(DashboardScreen, "action_focus_picker", broken)
        view, name = "loss", "slash"
    app = app_for(file="weight-decay")
    async with app.run_test(size=SIZE) as pilot:
        dash = Dashboard(pilot)
        await start_tiny(pilot)
        await pilot.press("r")  # the chart keys need a chart with variants
        await wait_until(lambda: not dash.running(), 30)
        notices = record_notices(app, severity=True)
        assert await back_to(pilot, view)
        assert name in shown_keys(app)
        await pilot.press(name)
        assert app.is_running and app.return_code is None
        assert isinstance(app.screen, DashboardScreen)
        failed = [(title, message, severity) for title, message, severity in notices if title == ACTION_FAILED]
        assert len(failed) == 1 and failed[0][2] == "error", notices
        assert "RuntimeError: boom" in failed[0][1]
        await pilot.press("tab")  # the app goes on
        assert dash.active_view != view
