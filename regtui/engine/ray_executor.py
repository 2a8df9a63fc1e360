"""Run a plan on a Ray cluster: its stacks as Ray tasks, their events streamed back as they happen.

``regtui --scenario NAME --executor ray`` (and the dashboard's "ray" device) calls
:func:`run_on_ray`. It connects to the cluster at ``--ray-address`` or ``RAY_ADDRESS``, or starts
a Ray on this machine for the run and shuts it down after; then:

- **Tasks**: an experiment whose engine module has ``units(plan, device)`` (the lessons' MLP
  runs, the ``train`` kind) is split into its units, the stacks one process would train
  (:mod:`regtui.engine.stacking`); each unit is one Ray task asking for ``num_cpus=1``, and
  ``num_gpus=1`` with ``--device cuda``. Another experiment is one task. A task runs the
  ordinary :func:`~regtui.engine.runner.run_plan` on its share (``part``), so a model's
  numbers are those of a local run of the same plan: the same seeds, the same stack, the
  same dropout generator (identical on the CPU).
- **Events**: a task sends its events to one actor (:class:`EventHub`, on the driver's node)
  in batches at most :data:`FLUSH_S` apart; the driver drains it every :data:`POLL_S` and
  hands the batches to a :class:`~regtui.engine.ray_relay.Relay`, which emits one run's
  stream (progress summed over the tasks) into the same ``emit`` as a local run: the
  Collector, the run store and the live dashboard see them while the tasks train.
- **Cancel**: the cancel flag (Ctrl-C, the dashboard's ``s``, ``regtui runs stop``) cancels
  every task (``ray.cancel``: a KeyboardInterrupt in a running task, which ends its
  ``run_plan`` as interrupted after its last step; force after :data:`CANCEL_WAIT_S`); the
  run ends "interrupted" with what was relayed.
- **A dead worker**: Ray reruns its task once from the start (``max_retries=1``); the relay
  drops the repeated events (see :mod:`.ray_relay`). A task whose second worker dies too, or
  that fails, leaves its models reported failed by name in the run's error; the others
  finish and keep their results.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import ray
import torch
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from regtui import registry
from regtui.engine.ray_relay import Relay, Task
from regtui.engine.runner import run_plan
from regtui.events import Event, RunFinished, RunSpec, RunStarted
from regtui.scenario import Plan
from regtui.specs import ConfigError

__all__ = ["CANCEL_WAIT_S", "FLUSH_S", "POLL_S", "EventHub", "cluster_device", "run_on_ray", "tasks_of"]

FLUSH_S = 0.25  # a task sends its events at least this often while it emits
POLL_S = 0.25  # the driver drains the hub this often
CANCEL_WAIT_S = 10.0  # a cancelled task still running after this long is killed (force)
CONNECT_TIMEOUT_S = 5.0  # an address that does not answer this fast is refused
DEVICES = "cpu or cuda"


@ray.remote(num_cpus=0)
class EventHub:
    """Where the tasks put their events and the driver takes them: one list, drained whole.

    A task never waits for the hub while it trains: Ray lends the CPU of a task blocked in
    ``ray.get`` to another task, which would then share the core. So an attempt announces
    itself with a token of its own (:meth:`begin`), and the hub numbers the attempts (a
    caller's calls arrive in order, so its events always come after its ``begin``).
    """

    def __init__(self) -> None:
        self.items: list[tuple[Any, ...]] = []
        self.attempts: dict[int, int] = {}  # task -> attempts begun
        self.tokens: dict[str, int] = {}  # an attempt's token -> its number

    def begin(self, task: int, token: str, pid: int, node: str) -> None:
        """A task's attempt starts (Ray's rerun of a task whose worker died is attempt 2)."""
        attempt = self.attempts.get(task, 0) + 1
        self.attempts[task] = attempt
        self.tokens[token] = attempt
        self.items.append(("begin", task, attempt, (pid, node)))

    def push(self, task: int, token: str, events: list[Event]) -> None:
        self.items.append(("events", task, self.tokens[token], events))

    def drain(self) -> list[tuple[Any, ...]]:
        items, self.items = self.items, []
        return items


class _Sender:
    """A task's ``emit``: events batched, sent to the hub at most :data:`FLUSH_S` apart (in order)."""

    def __init__(self, hub: Any, task: int) -> None:
        self.hub, self.task, self.token = hub, task, uuid.uuid4().hex
        node = f"{ray.util.get_node_ip_address()}/{ray.get_runtime_context().get_node_id()[:6]}"
        hub.begin.remote(task, self.token, os.getpid(), node)
        self.batch: list[Event] = []
        self.sent = time.monotonic()
        self.last: Any = None

    def __call__(self, event: Event) -> None:
        self.batch.append(event)
        if time.monotonic() - self.sent >= FLUSH_S:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.last = self.hub.push.remote(self.task, self.token, self.batch)
            self.batch = []
        self.sent = time.monotonic()

    def close(self) -> None:
        """Send the rest and wait until the hub has it all, so the driver drains it with the task's end."""
        self.flush()
        if self.last is not None:
            ray.get(self.last)


@ray.remote(max_retries=1, retry_exceptions=False)
def _train_part(
    plan: Plan, device: str, units: tuple[int, ...] | None, task: int, hub: Any, threads: int
) -> tuple[str, str | None]:
    """One task: its share of the plan trained by run_plan; returns the part's status and error."""
    from regtui import devices

    send = _Sender(hub, task)
    try:
        local = devices.resolve(device)  # cuda: the GPU Ray gave this task (CUDA_VISIBLE_DEVICES)
    except ConfigError as exc:
        return "failed", str(exc)
    part = frozenset(units) if units is not None else None
    finished = run_plan(plan, local, emit=send, threads=threads, part=part)
    send.close()
    return finished.status, finished.error


def tasks_of(plan: Plan, device: str) -> list[Task]:
    """The plan's Ray tasks: one per unit of its engine's ``units(plan, device)``, else the whole plan;
    each with its ``work(plan, runs)`` where the engine estimates one."""
    module = importlib.import_module(registry.get(plan.scenario.experiment).engine)
    units: Callable[[Plan, torch.device], list[list[int]]] | None = getattr(module, "units", None)
    if units is None:
        return [Task(0, None, plan.runs)]
    work: Callable[[Plan, tuple[RunSpec, ...]], float] = getattr(module, "work", lambda plan, runs: 0.0)
    tasks = []
    for i, unit in enumerate(units(plan, torch.device(device))):
        runs = tuple(plan.runs[j] for j in unit)
        tasks.append(Task(i, (i,), runs, work=work(plan, runs)))
    return tasks


def cluster_device(device: str, gpus: float) -> str:
    """The device the tasks train on: cpu or cuda (auto: cuda when the cluster has a GPU); ConfigError else."""
    name = device.strip().lower()
    if name == "auto":
        return "cuda" if gpus > 0 else "cpu"
    if name.startswith("cuda"):
        if gpus <= 0:
            raise ConfigError(f"--device {device}: the Ray cluster has no GPU (use --device cpu)")
        return "cuda"  # each task gets a GPU of Ray's choosing
    if name == "cpu":
        return "cpu"
    raise ConfigError(f"--device {device!r}: tasks on Ray run on {DEVICES} (or auto)")


def _check_reachable(address: str, given: str = "--ray-address") -> None:
    """A one-line ConfigError when nothing listens at ``host:port`` (``ray.init`` would retry for minutes);
    ``given``: where the address came from (the option, or $RAY_ADDRESS)."""
    if address in ("auto", "local"):
        return  # a cluster started on this machine, found by Ray
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"{given}: {address!r} is not HOST:PORT (or auto, or ray://HOST:PORT)")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ConfigError(
            f"{given}: no Ray cluster answers at {address} ({exc.strerror or exc}); start one with ray start --head"
        ) from None


def _connect(address: str | None) -> bool:
    """Connect to the cluster (or start one here); True when this call did, and must disconnect."""
    if ray.is_initialized():
        return False
    given = "--ray-address" if address else "RAY_ADDRESS"
    address = address or os.environ.get("RAY_ADDRESS") or None
    quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address:
        _check_reachable(address, given)
    try:
        if address:
            ray.init(address=address, **quiet)
        else:
            ray.init(include_dashboard=False, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"at {address}" if address else "on this machine"
        raise ConfigError(f"{given}: could not connect to a Ray cluster {where}: {exc}") from None
    return True


def run_on_ray(
    plan: Plan,
    device: str = "cpu",
    emit: Callable[[Event], None] = lambda event: None,
    cancel: threading.Event | None = None,
    threads: int | None = 1,
    address: str | None = None,
) -> RunFinished:
    """Run ``plan`` on a Ray cluster (see the module docstring); returns the RunFinished also emitted.

    ConfigError (before any event) when the cluster cannot be reached or lacks the device.
    """
    start = time.perf_counter()  # the run's time includes starting or joining Ray: the user waits for it too
    connected = _connect(address)
    try:
        gpus = float(ray.cluster_resources().get("GPU", 0))
        device = cluster_device(device, gpus)
        tasks = tasks_of(plan, device)
        return _Driver(plan, device, tasks, emit, cancel or threading.Event(), threads or 1).run(start)
    finally:
        if connected:
            ray.shutdown()


class _Driver:
    """Submits the tasks, relays their events, cancels them; one per run."""

    def __init__(
        self,
        plan: Plan,
        device: str,
        tasks: Sequence[Task],
        emit: Callable[[Event], None],
        cancel: threading.Event,
        threads: int,
    ) -> None:
        self.plan, self.device, self.emit, self.cancel, self.threads = plan, device, emit, cancel, threads
        self.relay = Relay(tasks, emit)
        self.refs: dict[Any, int] = {}  # object ref -> task index, while it runs
        self.cancelled_at: float | None = None  # when the tasks were asked to stop
        self.forced = False  # whether they were killed

    def run(self, start: float) -> RunFinished:
        scenario = self.plan.scenario
        self.emit(
            RunStarted(
                scenario=scenario.name,
                experiment=scenario.experiment,
                title=scenario.title,
                device=self.device,
                seed=self.plan.seed,
                torch_version=str(torch.__version__),
                params=dict(self.plan.params),
                runs=self.plan.runs,
                seeds=self.plan.seeds,
                sweep=dict(self.plan.sweep),
            )
        )
        status, error = "completed", None
        try:
            self._submit()
            while self.refs:
                self._poll()
            self._drain()
        except KeyboardInterrupt:
            self._cancel(force=True)
            status = "interrupted"
        except Exception as exc:  # the cluster went away, the hub died: what was relayed stands
            self._cancel(force=True)
            status, error = "failed", f"Ray: {type(exc).__name__}: {exc}"
        if status == "completed":
            error = self.relay.failure()
            if self.cancel.is_set() or any(t.state == "interrupted" for t in self.relay.tasks):
                status = "interrupted"
            elif error is not None:
                status = "failed"
        finished = RunFinished(status, time.perf_counter() - start, error)
        self.emit(finished)
        return finished

    def _submit(self) -> None:
        gpus = 1 if self.device == "cuda" else 0
        # The hub lives on the driver's node: its events survive any worker node.
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=True)
        self.hub = EventHub.options(scheduling_strategy=here).remote()  # type: ignore[attr-defined]
        train = _train_part.options(num_cpus=1, num_gpus=gpus)
        # Largest first (LPT): Ray gives a freed node the next queued task, so the long ones start
        # early and the short ones fill in (regtui.custom_specs.work); ties keep the plan's order.
        for task in sorted(self.relay.tasks, key=lambda t: -t.work):
            ref = train.remote(self.plan, self.device, task.units, task.index, self.hub, self.threads)
            self.refs[ref] = task.index
        self.relay.emit_tasks()

    def _poll(self) -> None:
        if self.cancel.is_set():
            self._cancel(force=False)
        ready, _ = ray.wait(list(self.refs), num_returns=len(self.refs), timeout=POLL_S)
        self._drain()  # first: a task that ended has sent everything before it returned
        for ref in ready:
            self._ended(ref, self.refs.pop(ref))
        for ref, index in self.refs.items():
            task = self.relay.tasks[index]
            if task.differs and task.state == "running":  # its models are failed already: stop it
                task.state = "failed"
                ray.cancel(ref, force=True)

    def _drain(self) -> None:
        for kind, task, attempt, payload in ray.get(self.hub.drain.remote()):
            if kind == "begin":
                self.relay.begin(task, attempt, *payload)
            else:
                self.relay.events(task, attempt, payload)

    def _ended(self, ref: Any, index: int) -> None:
        try:
            status, error = ray.get(ref)
        except ray.exceptions.TaskCancelledError:
            status, error = "interrupted", None
        except ray.exceptions.WorkerCrashedError:
            status, error = "failed", "its Ray worker died twice"
        except ray.exceptions.RayTaskError as exc:
            status, error = "failed", str(exc.cause) if exc.cause is not None else str(exc).splitlines()[0]
        except ray.exceptions.RayError as exc:
            status, error = "failed", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if self.cancel.is_set() and status != "completed":
            status, error = "interrupted", None
        self.relay.finish(index, status, error)

    def _cancel(self, force: bool) -> None:
        """Cancel every task still running: a KeyboardInterrupt in it, killed once ``force`` or after CANCEL_WAIT_S."""
        now = time.monotonic()
        if self.cancelled_at is None:
            self.cancelled_at = now
        elif self.forced or (not force and now - self.cancelled_at < CANCEL_WAIT_S):
            return  # asked already
        else:
            force = True
        self.forced = force
        for ref in list(self.refs):
            try:
                ray.cancel(ref, force=force)
            except Exception:  # it ended meanwhile, or the cluster is gone: nothing left to stop
                pass
