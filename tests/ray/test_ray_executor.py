"""--executor ray on a real two-node Ray cluster on this machine (one CPU per node).

The plan's stacks are Ray tasks; the numbers must be those of a local run of the same plan
(on the CPU identical, so the documents' figures are compared exactly), the events must
reach the Collector while the tasks train, a killed worker's task is retried with its
repeated events dropped (or its models reported failed by name), and a cancel ends the run
"interrupted". The cluster starts once for the module (about 5 s); every test here runs in
one xdist worker (the ``ray`` group), as two clusters would share the machine's 2 cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from ray.cluster_utils import Cluster  # noqa: E402

from regtui import headless  # noqa: E402
from regtui.engine import run_plan  # noqa: E402
from regtui.engine.ray_executor import run_on_ray, tasks_of  # noqa: E402
from regtui.engine.ray_relay import TASKS_KEY  # noqa: E402
from regtui.events import Event, Metrics, Summary  # noqa: E402
from regtui.report import Collector  # noqa: E402

pytestmark = pytest.mark.xdist_group("ray")

TIMEOUT = 120.0


@pytest.fixture(scope="module")
def cluster():
    """Two nodes of one CPU each, this process connected (run_on_ray then uses it and leaves it up)."""
    cluster = Cluster(
        initialize_head=True,
        connect=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False},
    )
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def make_plan(name: str, seeds: int, *sets: str):
    return headless.prepare(headless.Options(name=name, seeds=seeds, sets=sets, memory_check=False))[1]


def local_document(plan) -> dict[str, Any]:
    collector = Collector()
    assert run_plan(plan, "cpu", emit=collector).status == "completed"
    return collector.document()


def figures(doc: dict[str, Any]) -> dict[str, Any]:
    """What a run computed: every variant's series, finals and curves per seed, and the summaries
    (without the run's timing, status and the Ray task table)."""
    summary = {k: v for k, v in doc["summary"].items() if k != TASKS_KEY}
    return {"variants": doc["variants"], "tables": doc["tables"], "summary": summary}


def per_seed(doc: dict[str, Any]) -> dict[tuple[str, int], Any]:
    """Each model's own record (variant, seed) -> its series and finals."""
    out = {}
    for v in doc["variants"]:
        for seed, record in zip(v["seeds"], v["per_seed"]):
            out[(v["name"], seed)] = record
    return out


def tasks(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["summary"][TASKS_KEY]


class Recorder:
    """The run's emit: a Collector, and a hook called with each event (in the driver's thread)."""

    def __init__(self, hook=None) -> None:
        self.collector = Collector()
        self.hook = hook
        self.pids: dict[tuple[int, int], int] = {}  # (task, attempt) -> pid, from Summary("ray_tasks")

    def __call__(self, event: Event) -> None:
        self.collector(event)
        if isinstance(event, Summary) and event.key == TASKS_KEY:
            for row in event.value:
                if row["pid"] is not None:
                    self.pids[(row["task"], row["attempt"])] = row["pid"]
        if self.hook is not None:
            self.hook(self, event)


@pytest.mark.parametrize(
    ("name", "seeds", "sets", "n_tasks"),
    [
        ("weight-decay", 5, ("iters=200", "hidden=32"), 2),  # the lessons' stacked MLPs: 8 + 2 models
        ("digits-overfit", 4, ("steps=60", "log_every=20"), 2),  # the train kind: 2 stacks of 8
        ("bn-stats", 1, (), 1),  # an experiment without stacks: one task
    ],
)
def test_a_plan_on_two_nodes_gives_the_numbers_of_a_local_run(cluster, name, seeds, sets, n_tasks):
    plan = make_plan(name, seeds, *sets)
    rec = Recorder()
    finished = run_on_ray(plan, "cpu", emit=rec)
    assert finished.status == "completed", finished.error
    doc = rec.collector.document()
    assert figures(doc) == figures(local_document(plan))
    rows = tasks(doc)
    assert len(rows) == n_tasks and {r["state"] for r in rows} == {"completed"}
    assert sum(r["models"] for r in rows) == len(plan.runs)
    if n_tasks > 1:
        assert len({r["node"] for r in rows}) == 2  # both nodes trained (one CPU each, so one task each)


def test_the_largest_tasks_start_first_one_on_each_node(cluster, monkeypatch):
    """digits-overfit's 4 stacks: the two with an active Dropout (random masks: the longest) start first,
    one per node, so neither node gets both long ones (the rule is LPT; regtui.custom_specs.work)."""
    from regtui.engine import ray_relay

    plan = make_plan("digits-overfit", 8, "steps=40", "log_every=20")
    began: list[int] = []
    begin = ray_relay.Relay.begin

    def record(self, task, attempt, *rest):
        began.append(task)
        return begin(self, task, attempt, *rest)

    monkeypatch.setattr(ray_relay.Relay, "begin", record)
    finished = run_on_ray(plan, "cpu")
    assert finished.status == "completed", finished.error
    units = [t.runs[0].variant for t in tasks_of(plan, "cpu")]
    assert units == ["plain", "dropout 0.5", "weight decay", "both"]  # in plan order
    assert set(began[:2]) == {1, 3} and sorted(began) == [0, 1, 2, 3]


def test_the_runs_time_includes_joining_ray(cluster, monkeypatch):
    """The dashboard's clock runs from the key press; the done time must not drop Ray's start."""
    from regtui.engine import ray_executor

    def slow_connect(address):
        time.sleep(0.5)
        return False  # connected already (the module's cluster)

    monkeypatch.setattr(ray_executor, "_connect", slow_connect)
    finished = run_on_ray(make_plan("bn-stats", 1))
    assert finished.status == "completed" and finished.elapsed_s >= 0.5


def test_events_reach_the_collector_while_the_tasks_train(cluster):
    """The first Metrics event cancels the run: had the events come at the end, the models would be complete."""
    plan = make_plan("weight-decay", 5, "iters=20000", "hidden=32")
    cancel = threading.Event()
    first: list[float] = []

    def on_event(rec: Recorder, event: Event) -> None:
        if isinstance(event, Metrics) and not first:
            first.append(time.monotonic())
            cancel.set()

    rec = Recorder(on_event)
    finished = run_on_ray(plan, "cpu", emit=rec, cancel=cancel)
    assert first, "no Metrics event arrived"
    assert finished.status == "interrupted"
    doc = rec.collector.document()
    assert doc["status"] == "interrupted"
    assert {r["state"] for r in tasks(doc)} == {"interrupted"}
    steps = [record["series"]["step"][-1] for record in per_seed(doc).values() if record["series"].get("step")]
    assert steps and max(steps) < 20000  # stopped mid-way, what was trained is kept


def kill_when_training(models: set[tuple[str, int]], attempts: int):
    """A hook that SIGKILLs task 1's worker once its ``models`` sent Metrics, in each of its first ``attempts``."""
    killed: list[int] = []

    def hook(rec: Recorder, event: Event) -> None:
        attempt = len(killed) + 1
        pid = rec.pids.get((1, attempt))
        if (
            isinstance(event, Metrics)
            and pid is not None
            and attempt <= attempts
            and (event.variant, event.seed) in models
        ):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    return hook, killed


# task 1: 8 models, task 2: 2 models; long enough that a kill sent on the first Metrics event relayed
# lands while the attempt still trains (at 600 steps a retry could end before its first event arrived)
KILL_PLAN = ("weight-decay", 5, "iters=6000", "hidden=64")


def test_a_killed_worker_is_retried_and_the_numbers_are_those_of_a_local_run(cluster):
    plan = make_plan(*KILL_PLAN)
    hook, killed = kill_when_training({(r.variant, r.seed) for r in plan.runs[:8]}, attempts=1)  # task 1's models
    rec = Recorder(hook)
    finished = run_on_ray(plan, "cpu", emit=rec)
    assert len(killed) == 1
    assert finished.status == "completed", finished.error
    doc = rec.collector.document()
    assert [(r["attempt"], r["state"]) for r in tasks(doc)] == [(2, "completed"), (1, "completed")]
    assert figures(doc) == figures(local_document(plan))  # the first attempt's events counted once


def test_a_task_whose_worker_dies_twice_fails_its_models_by_name_and_keeps_the_others(cluster):
    plan = make_plan(*KILL_PLAN)
    hook, killed = kill_when_training({(r.variant, r.seed) for r in plan.runs[:8]}, attempts=2)
    rec = Recorder(hook)
    finished = run_on_ray(plan, "cpu", emit=rec)
    assert len(killed) == 2
    assert finished.status == "failed"
    names = [f"{r.variant} · seed {r.seed}" for r in plan.runs]
    assert finished.error.startswith("models failed on Ray: " + ", ".join(names[:8]) + " (its Ray worker died twice)")
    assert finished.error.endswith("the other 2 models completed")
    doc = rec.collector.document()
    assert [r["state"] for r in tasks(doc)] == ["failed", "completed"]
    ours, local = per_seed(doc), per_seed(local_document(plan))
    for r in plan.runs[8:]:  # the other task's models: untouched
        assert ours[(r.variant, r.seed)] == local[(r.variant, r.seed)]


def test_sigint_to_a_headless_ray_run_cancels_its_tasks_and_prints_an_interrupted_document(cluster, tmp_path):
    """What Ctrl-C and `regtui runs stop` send: the run stops its tasks and writes what it has."""
    events = tmp_path / "events.jsonl"
    args = ["--scenario", "weight-decay", "--executor", "ray", "--ray-address", cluster.address]
    args += ["--set", "iters=20000", "--set", "hidden=32", "--seeds", "5", "--json", "--events", str(events)]
    out = tmp_path / "out.json"
    with open(out, "w") as stdout:
        proc = subprocess.Popen(
            [sys.executable, "-m", "regtui", *args], stdout=stdout, stderr=subprocess.PIPE, text=True
        )
    try:
        deadline = time.monotonic() + TIMEOUT
        while '"event": "Metrics"' not in (events.read_text() if events.exists() else ""):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "no Metrics event from the tasks"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=TIMEOUT) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    doc = json.loads(out.read_text())
    assert doc["status"] == "interrupted"
    assert {r["state"] for r in doc["summary"][TASKS_KEY]} == {"interrupted"}
    assert "interrupted" in proc.stderr.read()


def test_the_dashboard_offers_ray_as_a_device_and_its_run_trains_on_the_cluster(cluster, monkeypatch):
    """Ray in the device selector: a run there trains on the cluster and draws from the same Collector."""
    import asyncio

    from textual.widgets import Select

    from regtui.app.app import make_app

    monkeypatch.setenv("REGTUI_TRAINER", "thread")  # this process is the one connected to the cluster
    app = make_app(file="weight-decay", min_interval=0.1)  # no devices given: they are detected

    async def wait(condition, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.05)

    async def use() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait(lambda: app.device is not None, "the devices")
            assert "ray" in app.device_names
            app.screen.query_one("#device", Select).value = "ray"
            await pilot.pause()
            assert app.device == "ray"
            await pilot.press("escape", "r")
            await wait(lambda: app.screen.run_state is not None and app.screen.run_state.status == "done", "the run")
            doc = app.screen.run_state.collector.document()
            assert doc["status"] == "completed" and doc["device"] == "cpu"
            assert {r["state"] for r in tasks(doc)} == {"completed"}
            assert figures(doc) == figures(local_document(app.screen.run_state.plan))

    asyncio.run(use())


def test_the_replay_command_of_a_ray_run_says_executor_ray():
    from regtui import scenario as sc

    plan = make_plan("weight-decay", 1)
    assert "--executor ray --device cpu --json" in sc.replay_command(plan, "ray")
    assert "--executor ray --device cuda --json" in sc.replay_command(plan, "ray:cuda")
