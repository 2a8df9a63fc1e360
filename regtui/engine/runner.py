"""Run a plan: set up torch, dispatch to the experiment's module, always finish with RunFinished."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch

from regtui import registry
from regtui.engine.context import Cancelled, Context
from regtui.events import Event, RunFinished, RunStarted
from regtui.scenario import Plan
from regtui.specs import ConfigError


def run_plan(
    plan: Plan,
    device: str = "cpu",
    emit: Callable[[Event], None] = lambda event: None,
    cancel: threading.Event | None = None,
    threads: int | None = 1,
    jobs: int = 1,
    files: Callable[[], Path | None] | None = None,
    store: Path | None = None,
    part: frozenset[int] | None = None,
) -> RunFinished:
    """Run ``plan`` and return the RunFinished event that was also emitted.

    ``device`` must already be resolved (see :func:`regtui.devices.resolve`).
    ``threads`` sets torch's intra-op threads; ``jobs`` lets an experiment train
    up to that many independent model stacks at once in worker threads (the
    headless CLI uses every core; the dashboard keeps 1 so the UI stays free).
    ``files`` says where the run may keep files (its run folder), ``store`` where the run store
    is (see :class:`Context`).
    ``part``: train only these units of the plan (a Ray task's share; see :class:`Context`).
    Cancellation and Ctrl-C give status "interrupted"; an unexpected error
    gives "failed" with the message. Either way the data emitted so far stands.
    """
    # Subnormal momentum buffers slow the λ=0 net ~1.8x; flushing changes only values < 1e-38.
    torch.set_flush_denormal(True)
    if threads:
        # One intra-op thread is robust for these tiny models when anything else runs.
        torch.set_num_threads(threads)
    torch.manual_seed(plan.seed)
    module = importlib.import_module(registry.get(plan.scenario.experiment).engine)
    ctx = Context(torch.device(device), emit, cancel or threading.Event(), max(1, jobs), part=part)
    if files is not None:
        ctx.files = files
    ctx.store = store
    scenario = plan.scenario
    emit(
        RunStarted(
            scenario=scenario.name,
            experiment=scenario.experiment,
            title=scenario.title,
            device=device,
            seed=plan.seed,
            # A plain str: torch's own TorchVersion would make the dashboard import torch to unpickle it.
            torch_version=str(torch.__version__),
            params=dict(plan.params),
            runs=plan.runs,
            seeds=plan.seeds,
            sweep=dict(plan.sweep),
        )
    )
    start = time.perf_counter()
    status, error = "completed", None
    try:
        module.run(plan, ctx)
    except (Cancelled, KeyboardInterrupt):
        status = "interrupted"
    except ConfigError as exc:  # bad input only training could find (a factory): its one line
        status, error = "failed", str(exc)
    except Exception as exc:
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    finished = RunFinished(status, time.perf_counter() - start, error)
    emit(finished)
    return finished
