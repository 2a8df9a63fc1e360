import pytest


@pytest.fixture(autouse=True)
def _run_history_in_tmp(tmp_path, monkeypatch):
    """Runs the tests save go to a temporary store, never the user's (subprocesses inherit it)."""
    monkeypatch.setenv("REGTUI_RUNS_DIR", str(tmp_path / "runs"))


@pytest.fixture
def write_toml(tmp_path):
    """Write a scenario file and return its path."""

    def write(text: str, name: str = "mine.toml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def wd_file(write_toml):
    return write_toml(
        """
experiment = "weight-decay"
title = "WD"
summary = "two nets"
[params]
hidden = 8
iters = 5
[[variants]]
name = "no weight decay"
weight_decay = 0.0
[[variants]]
name = "weight decay"
weight_decay = 0.01
""",
        "wd.toml",
    )
