"""Headless, a scenario whose data needs a package that is not installed (torchvision, for
``[data] augment``): one line naming the extra to install, exit code 2, nothing on stdout (not even
with --json: no run, no document)."""

from __future__ import annotations

import subprocess
import sys

# torchvision "not installed" in the child (whether or not it is): importing it fails and
# importlib.util.find_spec raises.
WITHOUT_TORCHVISION = (
    "import importlib.metadata, sys\nsys.modules['torchvision'] = None\n"
    "importlib.metadata.version = lambda name: '2.13.0+cpu'\n"  # a CPU torch 2.13, whichever is here
    "from regtui.cli import main\nsys.argv = ['regtui', *sys.argv[1:]]\nmain()\n"
)
SCENARIO = """
experiment = "train"
[model]
layers = [{type = "flatten"}, {type = "linear", out = 16}, {type = "relu"}, {type = "linear"}]
[data]
source = "digits"
augment = ["random_crop", "hflip"]
"""


def test_json_run_without_torchvision_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "augmented.toml"
    path.write_text(SCENARIO)
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCHVISION, "--scenario", str(path), "--json", "--no-save"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    assert run.stderr.strip().splitlines() == [
        "regtui: error: data: augment needs torchvision, which is not installed: "
        'pip install "torchvision==0.28.*" --index-url https://download.pytorch.org/whl/cpu'
    ]
