"""Headless, a scenario whose data needs scikit-learn where it is not installed: one line naming the
extra to install, exit code 2, nothing on stdout (not even with --json: no run, no document)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# scikit-learn "not installed" in the child: importing it fails and importlib.util.find_spec raises.
WITHOUT_SKLEARN = (
    "import sys\nsys.modules['sklearn'] = None\n"
    "from regtui.cli import main\nsys.argv = ['regtui', *sys.argv[1:]]\nmain()\n"
)


@pytest.mark.parametrize("name", ["digits-overfit", "digits-norms"])
def test_json_run_without_scikit_learn_is_one_line_and_exit_2(name):
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_SKLEARN, "--scenario", name, "--json", "--no-save"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regtui: error: "), run.stderr
    assert "scikit-learn" in lines[0] and "pip install 'regtui[digits]'" in lines[0], lines[0]
