"""Startup as a newcomer meets it: nothing imports torch before the first frame, the
dashboard says it is loading, and a Run pressed meanwhile waits for torch instead of failing."""

from __future__ import annotations

import subprocess
import sys

from regtui.app.app import make_app

from .conftest import wait_until
from .driver import Dashboard


def test_the_dashboard_imports_no_torch():
    code = (
        "import sys, regtui.cli, regtui.app.app; from regtui.app.app import make_app; make_app(); "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


async def test_loading_state_and_a_queued_run():
    started = []

    def runner(plan, device, emit, cancel, threads):
        started.append(device)
        from regtui.engine import run_plan

        return run_plan(plan, device, emit=emit, cancel=cancel, threads=threads)

    app = make_app(file="bn-stats", runner=runner, min_interval=0.1)  # no devices given: detection runs
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        assert app.device is None  # the first frame comes before torch
        assert "loading torch" in dash.status_text()
        await pilot.press("escape", "r")
        if app.device is None:  # still loading: the run is queued, not started on a guessed device
            assert dash.run_queued and dash.run is None
            assert "run queued" in dash.status_text()
        await wait_until(lambda: app.device is not None, timeout=60)
        await wait_until(lambda: dash.run is not None and dash.run.status == "done", 60)
        assert started == [app.device]
