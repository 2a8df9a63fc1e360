"""The dashboard on a GPU box: --device cuda trains in the child process on the GPU and draws it.

Skipped where no CUDA device exists (CI has none); run by benchmarks/gpu_check.sh on a lent GPU.
"""

from __future__ import annotations

import math

import pytest
import torch

from regtui.engine import run_plan
from regtui.report import Collector

from .conftest import app_for
from .driver import Dashboard

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.child_trainer,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]


async def test_dashboard_trains_on_the_gpu_and_matches_a_headless_gpu_run():
    app = app_for(file="weight-decay", device="cuda")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(iters="300")
        await dash.run_to_end(timeout=120)
        state = dash.run
        assert state.status == "done", state.status
        shown = state.collector.document()
        plan = state.plan
    assert shown["device"].startswith("cuda")
    collector = Collector()
    run_plan(plan, shown["device"], emit=collector, threads=1)
    headless = collector.document()
    for a, b in zip(shown["variants"], headless["variants"]):
        for x, y in zip(a["series"]["train_loss"], b["series"]["train_loss"]):
            assert math.isclose(x, y, rel_tol=1e-5, abs_tol=1e-7)  # same device, same seed
