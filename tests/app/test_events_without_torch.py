"""The dashboard reads a run's events without importing torch.

Training runs in a child process that sends its events pickled (see
:mod:`regtui.app.trainer_process`). An event holding an object of a torch class (``torch.__version__``
is a ``TorchVersion``, not a plain str) makes unpickling it import torch in the dashboard's process,
in the middle of its first run: over a second of the GIL, and a heap twice as large for every later
pass of the garbage collector (which then stalls view switches)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from regtui import scenario as sc
from regtui.engine import run_plan

STEPS = ("iters", "steps", "train_steps")  # each experiment's length, set short here


def short_run_events(name: str) -> list[object]:
    scenario = sc.load(sc.find(name))
    names = {p.name for p in scenario.spec.params}
    sets = [f"{key}=20" for key in STEPS if key in names]
    events: list[object] = []
    plan = sc.plan(scenario, sc.parse_sets(scenario.spec, sets))
    run_plan(plan, "cpu", emit=events.append, threads=1)
    return events


@pytest.mark.parametrize("name", sc.bundled_names())
def test_every_event_of_a_run_unpickles_without_torch(name: str, tmp_path: Path) -> None:
    events = short_run_events(name)
    assert type(events[0]).__name__ == "RunStarted" and type(events[-1]).__name__ == "RunFinished"
    path = tmp_path / "events.pickle"
    path.write_bytes(pickle.dumps(events, protocol=pickle.HIGHEST_PROTOCOL))
    code = (
        "import pickle, sys; sys.modules['torch'] = None  # import torch raises ImportError\n"
        f"events = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        "print(len(events), events[0].torch_version)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]
    count, version = done.stdout.split()
    assert int(count) == len(events) and version == events[0].torch_version  # type: ignore[attr-defined]
