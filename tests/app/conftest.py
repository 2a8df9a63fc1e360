"""Fixtures for the dashboard tests and app_for to build the app; what a user does on it is in
driver.py (key and wait_until are re-exported for the tests that import them from here)."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest

from regtui.app.app import RegtuiApp, make_app

from .driver import key, wait_until

__all__ = ["app_for", "key", "wait_until"]


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
