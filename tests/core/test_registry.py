"""Adding an experiment is its engine module, its registry entry and its scenario file.

A throwaway kind, defined entirely inside this test, runs headless through the
real CLI and in the real dashboard; nothing in ``regtui/app``, ``cli/`` or
the runner knows about it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from textual.widgets import TabbedContent

from regtui import registry
from regtui.cli import main
from regtui.registry import Kind
from regtui.specs import ExperimentSpec, Param

MODULE = "regtui_throwaway_toy_engine"

ENGINE = '''
"""A toy experiment: a few numbers per variant, no torch needed."""
from regtui.events import Final, Metrics, Summary


def run(plan, ctx):
    for i, r in enumerate(plan.runs):
        ctx.check()
        scale = r.params["scale"]
        steps = (0, 1, 2)
        ctx.emit(Metrics(r.variant, r.seed, steps, {"train_loss": tuple(scale * (3 - s) for s in steps)}))
        ctx.emit(Final(r.variant, r.seed, {"toy_final": scale * 1.25}))
        ctx.progress(i + 1, len(plan.runs))
    ctx.emit(Summary("toy_table", [{"name": "answer", "toy_value": 42.5}]))
'''

SCENARIO = """
experiment = "toy"
title = "Toy experiment"
summary = "A throwaway kind that a test registers."
explanation = "Nothing to learn here."
[params]
scale = 2.0
[[variants]]
name = "small"
scale = 1.0
[[variants]]
name = "large"
scale = 3.0
"""


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The toy kind registered, its engine importable and its scenario file written; all undone after."""
    (tmp_path / f"{MODULE}.py").write_text(ENGINE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = ExperimentSpec("toy", (Param("scale", float, 1.0, "how big the toy numbers are", min=0),))
    registry.register(Kind(spec, MODULE, ("loss", "results", "explain"), lesson=99))
    path = tmp_path / "toy.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    yield path
    registry.unregister("toy")
    sys.modules.pop(MODULE, None)


def test_a_new_kind_runs_headless_through_the_cli(toy: Path):
    result = CliRunner().invoke(main, ["--scenario", str(toy), "--json", "--device", "cpu"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["experiment"] == "toy" and doc["status"] == "completed"
    finals = {v["name"]: v["final"]["toy_final"] for v in doc["variants"]}
    assert finals == {"small": 1.25, "large": 3.75}
    series = {v["name"]: v["series"]["train_loss"] for v in doc["variants"]}
    assert series == {"small": [3.0, 2.0, 1.0], "large": [9.0, 6.0, 3.0]}
    assert doc["summary"]["toy_table"] == [{"name": "answer", "toy_value": 42.5}]


def test_a_new_kind_runs_in_the_dashboard(toy: Path, monkeypatch: pytest.MonkeyPatch):
    from regtui.app.app import make_app

    # This kind is registered in this process only; the dashboard's child trainer imports
    # regtui afresh and would not know it (a kind in registry.py is known to both).
    monkeypatch.setenv("REGTUI_TRAINER", "thread")
    from regtui.app.widgets.results_view import ResultsView

    async def scenario() -> None:
        app = make_app(file=str(toy), devices=["cpu"], min_interval=0.05)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            screen = app.main
            assert screen.entry.scenario is not None and screen.entry.scenario.experiment == "toy"
            assert screen.visible_views() == ["loss", "results", "explain", "history"]  # history: every kind
            await pilot.press("r")
            start = time.perf_counter()
            while screen.run_state is None or screen.run_state.status in ("running", "stopping"):
                assert time.perf_counter() - start < 30, "the run did not end"
                await asyncio.sleep(0.02)
            await pilot.pause(0.2)
            assert screen.run_state.status == "done"
            finals = str(screen.query_one("#finals").render())
            assert "small: toy_final 1.25" in finals and "large: toy_final 3.75" in finals
            screen.query_one(TabbedContent).active = "tab-results"
            await pilot.pause(0.2)
            table = screen.query_one(ResultsView).tables["toy_table"]
            assert [str(c) for c in table.get_row_at(0)] == ["answer", "42.5"]

    asyncio.run(scenario())
