"""A factory scenario's own Python runs only in the process that trains, never while planning.

The dashboard's form plans on every edit: planning must stay torch-free and must not import
the user's factory (it would run their code, and torch, on the UI thread). The factory is
imported just before training: headless before the run (a bad one is a one-line error,
exit 2), in the dashboard's trainer as the run's one-line error.
"""

import json
import subprocess
import sys
import textwrap

from custom_support import invoke

FACTORY = textwrap.dedent(
    """
    import pathlib
    pathlib.Path(__file__).with_name("factory-ran").write_text("imported")
    import torch
    from torch import nn

    def make():
        return nn.Sequential(nn.Flatten(), nn.Linear(2, 2))
    """
)
SCENARIO = """
experiment = "train"
title = "factory"
[params]
steps = 4
batch = 8
log_every = 2
[model]
factory = "net.py:make"
[data]
source = "moons"
n = 32
[[variants]]
name = "a"
lr = 0.01
[[variants]]
name = "b"
lr = 0.02
"""


def test_planning_and_editing_a_factory_scenario_imports_neither_torch_nor_the_factory(scenario_file):
    path = scenario_file(SCENARIO, net__py=FACTORY)
    code = textwrap.dedent(
        f"""
        import sys
        from regtui import scenario as sc
        s = sc.load(sc.find({str(path)!r}))
        sc.plan(s)
        for sets in (["lr=0.5"], ["lr=0.1,0.2"], ["steps=9", "batch=4"]):  # edits, as the form makes them
            sc.plan(s, sc.parse_sets(s.spec, sets), seeds=2)
        print(sorted(m for m in ("torch", "numpy") if m in sys.modules))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert not (path.parent / "factory-ran").exists()


def test_a_headless_run_imports_the_factory_before_training(scenario_file):
    path = scenario_file(SCENARIO, net__py=FACTORY)
    code, out, err = invoke("--scenario", path, "--json", "--device", "cpu", "--no-save")
    assert code == 0, err
    assert json.loads(out)["status"] == "completed"
    assert (path.parent / "factory-ran").read_text() == "imported"


def test_a_factory_that_fails_is_one_line_at_run_time_not_at_planning(scenario_file):
    path = scenario_file(SCENARIO, net__py="def make():\n    return 42\n")
    from regtui import scenario as sc
    from regtui.engine import run_plan

    plan = sc.plan(sc.load(path))  # planning does not run the factory: no error yet
    headless = invoke("--scenario", path, "--json", "--no-save")
    assert headless[0] == 2 and headless[1] == ""
    lines = headless[2].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regtui: error: model"), headless[2]
    finished = run_plan(plan, "cpu")  # the dashboard's trainer: the run fails with that one line
    assert finished.status == "failed"
    assert finished.error == lines[0].removeprefix("regtui: error: ")
