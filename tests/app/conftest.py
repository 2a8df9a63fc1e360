"""Helpers for the dashboard tests: build the app, edit fields like a user, wait for a run."""

from __future__ import annotations

import asyncio
import inspect
import time
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from regtui.app.app import RegtuiApp, make_app


@pytest.fixture(autouse=True)
def _trainer_in_a_thread(request, monkeypatch):
    """Dashboards train in their worker thread here: a warm child process per test app would import
    torch dozens of times. Tests marked ``child_trainer`` keep the real default (a child process)."""
    if request.node.get_closest_marker("child_trainer") is None:
        monkeypatch.setenv("REGTUI_TRAINER", "thread")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run ``async def`` tests with asyncio.run (no async plugin needed)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None


BAD_TOML = """
experiment = "weight-decay"
title = "Broken"
[params]
lrr = 0.1
"""

GOOD_TOML = """
experiment = "weight-decay"
title = "My tiny weight decay"
summary = "a user's own file"
[params]
hidden = 8
iters = 20
[[variants]]
name = "plain"
weight_decay = 0.0
[[variants]]
name = "decayed"
weight_decay = 0.01
"""


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "broken.toml").write_text(BAD_TOML, encoding="utf-8")
    (folder / "tiny.toml").write_text(GOOD_TOML, encoding="utf-8")
    return folder


def app_for(file: str | None = None, **options) -> RegtuiApp:
    options.setdefault("devices", ["cpu"])  # skip the torch import at startup
    options.setdefault("min_interval", 0.1)
    return make_app(file=file, **options)


async def type_into(pilot, key: str, text: str) -> None:
    """Focus a form field, clear it and type ``text`` key by key, like a user."""
    app = pilot.app
    field = app.main.form.query_one(f"#field-{key}", Input)
    field.focus()
    await pilot.pause()
    field.action_end()
    await pilot.press("ctrl+u")
    for char in text:
        await pilot.press(char)
    await pilot.pause()


async def set_fields(pilot, **values: str) -> None:
    """Set several fields at once (each posts Input.Changed, as typing does)."""
    for key, text in values.items():
        pilot.app.main.form.query_one(f"#field-{key}", Input).value = text
    await pilot.pause()


def key(app, name: str, character: str | None = None) -> None:
    """Send a key without Pilot's wait-for-idle (which waits a full second while training
    keeps the process busy)."""
    app.post_message(events.Key(name, character))


async def wait_until(condition, timeout: float = 30.0, step: float = 0.01) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s")
        await asyncio.sleep(step)
    return time.perf_counter() - start


async def run_to_end(pilot, timeout: float = 60.0) -> None:
    app = pilot.app
    before = app.main.run_state
    await pilot.press("r")
    await pilot.pause()
    assert app.main.run_state is not None and app.main.run_state is not before, "r did not start a run"
    await wait_until(lambda: app.main.run_state.status not in ("running", "stopping"), timeout)
    await settled(pilot)


async def stop_mid_run(pilot, min_step: int = 0, **fields: str):
    """Set ``fields``, run, stop once ``min_step`` steps are done, and wait until the stopped run
    is in the run store too; its RunState."""
    app = pilot.app
    await set_fields(pilot, **fields)
    await pilot.press("r")
    collector = lambda: app.main.collector  # noqa: E731
    await wait_until(lambda: collector() is not None and collector().progress is not None
                     and collector().progress.step >= min_step)  # fmt: skip
    await pilot.press("s")
    await wait_until(lambda: app.main.run_state.status not in ("running", "stopping"))
    await settled(pilot)
    return app.main.run_state


async def settled(pilot, timeout: float = 30.0) -> None:
    """The run that ended is in the run store too (its document is written just after RunEnded)."""
    state = pilot.app.main.run_state
    await wait_until(lambda: state.saved.is_set(), timeout)
    await pilot.pause()
