"""The README's "Your own training loop" example runs as written: its run is listed, exported to
TensorBoard, and it prints the one warning the README quotes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from regtui.cli import main
from regtui.store import open_store

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("\n## Your own training loop\n", 1)[1].split("\n## ", 1)[0]
CODE = SECTION.split("```python\n", 1)[1].split("```", 1)[0]
QUOTED = re.search(r"It warns once, naming the lesson: `([^`]*)`", " ".join(SECTION.split()))


def test_the_readme_stays_short():
    assert len(README.splitlines()) <= 250


@pytest.mark.numerics
def test_the_readme_example_runs_as_written(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    runs = tmp_path / "runs"
    monkeypatch.setenv("REGTUI_RUNS_DIR", str(runs))
    script = tmp_path / "train.py"
    script.write_text(CODE, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "Warning: regtui.track:" in line]
    assert len(warnings) == 1, done.stderr
    assert "train.py" in warnings[0]  # it points at the user's line
    head, _, tail = QUOTED.group(1).partition(" … ")
    assert head in warnings[0] and tail in warnings[0]

    [info] = open_store(runs).listing().runs
    assert (info.scenario, info.state, info.experiment) == ("digits-mlp", "completed", "track")
    result = CliRunner().invoke(main, ["runs", "list"])
    assert result.exit_code == 0 and "digits-mlp" in result.stdout
    pytest.importorskip("tensorboard")
    result = CliRunner().invoke(
        main, ["runs", "export", str(info.id), "--format", "tensorboard", "--out", tmp_path / "tb"]
    )
    assert result.exit_code == 0, result.stderr
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*"))
