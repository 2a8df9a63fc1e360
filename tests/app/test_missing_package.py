"""A scenario whose data needs a package that is not installed (issue 18, item 3; today torchvision
for ``[data] augment``): the status says what is missing and how to install it (not "fix the form":
the form is fine), the notice shows the install command whole (``[vision]`` is not markup), and the
next r looks again rather than remembering the refusal."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from typing import Any

from textual.content import Content
from textual.widgets import Static

from regtui.app.widgets.status_bar import StatusBar

from .conftest import app_for
from .driver import Dashboard

INSTALL = 'pip install "torchvision==0.28.*" --index-url https://download.pytorch.org/whl/cpu'
SCENARIO = """
title = "Digits, augmented"
experiment = "train"
[params]
steps = 4
log_every = 2
batch = 16
[model]
layers = [{type = "flatten"}, {type = "linear", out = 16}, {type = "relu"}, {type = "linear"}]
[data]
source = "digits"
augment = ["hflip"]
"""


def shown(message: str, markup: bool = True) -> str:
    """The text a notification shows for ``message``."""
    return Content.from_markup(message).plain if markup else message


async def test_augment_without_torchvision_says_so_and_looks_again_at_the_next_r(tmp_path, monkeypatch):
    installed = importlib.util.find_spec("torchvision") is not None
    monkeypatch.setitem(sys.modules, "torchvision", None)  # not installed: import and find_spec fail
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "2.13.0+cpu")  # a CPU torch 2.13 here
    path = tmp_path / "augmented.toml"
    path.write_text(SCENARIO)
    app = app_for(file=str(path))
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
        status = str(screen.query_one(StatusBar).render())
        assert "needs torchvision" in status and INSTALL in status, status
        assert "fix the form" not in status and "ready" not in status, status
        note = str(screen.form.query_one("#form-error", Static).render())
        assert "torchvision" in note and INSTALL in note, note

        await pilot.press("r")
        assert screen.run_state is None
        assert [n for n in notices if "torchvision" in n and INSTALL in n], notices

        # Installed meanwhile (in another terminal): the next r looks again, and runs where it is there.
        monkeypatch.delitem(sys.modules, "torchvision")
        refused = len(notices)
        if not installed:
            await pilot.press("r")
            assert screen.run_state is None and len(notices) == refused + 1, notices  # looked again: still absent
            return
        assert screen.plan is None  # nothing looked yet: r does
        await dash.run_to_end()
        assert screen.run_state.status == "done", screen.run_state.error
        assert "needs" not in str(screen.query_one(StatusBar).render())
