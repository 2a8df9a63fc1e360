"""Every test here keeps its runs in its own tmp folder, never in the real home."""

import json

import pytest
from click.testing import CliRunner

from regtui.cli import main

TINY = ("--set", "iters=20", "--set", "hidden=8")


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    """REGTUI_RUNS_DIR points at tmp_path/runs (subprocesses inherit it)."""
    folder = tmp_path / "runs"
    monkeypatch.setenv("REGTUI_RUNS_DIR", str(folder))
    return folder


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def cli():
    """regtui in-process: cli(*args) -> (exit code, stdout, stderr)."""
    return invoke


@pytest.fixture
def run():
    """A tiny headless weight-decay run (extra args appended); returns its JSON document."""

    def go(*extra, scenario="weight-decay"):
        code, out, err = invoke(
            "--scenario", scenario, "--json", "--device", "cpu", *(TINY if scenario == "weight-decay" else ()), *extra
        )
        assert code == 0, err
        return json.loads(out)

    return go


@pytest.fixture
def runs_json():
    """`regtui runs list --json` as Python data (asserts a clean exit)."""

    def go(*extra):
        code, out, err = invoke("runs", "list", "--json", *extra)
        assert code == 0, err
        return json.loads(out)

    return go
