"""The digits scenarios where scikit-learn is not installed (issue 18, item 3): the status says what is
missing and how to install it (not "fix the form": the form is fine), the notice shows the install
command whole (``[digits]`` is not markup), and once it is installed, r runs without picking the
scenario again."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from textual.content import Content
from textual.widgets import Static

from regtui.app.widgets.status_bar import StatusBar

from .conftest import app_for
from .driver import Dashboard

INSTALL = "pip install 'regtui[digits]'"


def shown(message: str, markup: bool = True) -> str:
    """The text a notification shows for ``message``."""
    return Content.from_markup(message).plain if markup else message


@pytest.mark.parametrize("name", ["digits-norms", "digits-overfit"])
async def test_digits_without_scikit_learn_says_so_and_runs_once_installed(name, monkeypatch):
    installed = sys.modules.get("sklearn")
    monkeypatch.setitem(sys.modules, "sklearn", None)  # not installed: import and find_spec fail
    app = app_for(file=name)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        notices: list[str] = []
        notify = app.notify

        def recording(message: str, **kwargs: Any) -> None:
            notices.append(shown(message, kwargs.get("markup", True)))
            notify(message, **kwargs)

        monkeypatch.setattr(app, "notify", recording)
        await pilot.pause()
        screen = app.main
        await dash.set_fields(steps="4", log_every="2")  # a short run, once it can run
        status = str(screen.query_one(StatusBar).render())
        assert "needs scikit-learn" in status and INSTALL in status, status
        assert "fix the form" not in status and "ready" not in status, status
        note = str(screen.form.query_one("#form-error", Static).render())
        assert "scikit-learn" in note and INSTALL in note, note

        await pilot.press("r")
        assert screen.run_state is None
        assert any("scikit-learn" in n and INSTALL in n for n in notices), notices

        # Installed meanwhile (in another terminal): the next r looks again and runs.
        if installed is None:
            monkeypatch.delitem(sys.modules, "sklearn")
        else:
            monkeypatch.setitem(sys.modules, "sklearn", installed)
        assert screen.plan is None  # nothing looked yet: r does
        await dash.run_to_end()
        assert screen.run_state.status == "done", screen.run_state.error
        assert "needs" not in str(screen.query_one(StatusBar).render())
