"""A headless run (``regtui --scenario NAME``): nothing lost, nothing hangs.

The experiment runs in a worker thread while the main thread waits and owns
the signals. The first Ctrl-C, SIGTERM or SIGHUP (an SSH disconnect) stops
the run at its next step; a second one stops it at once. Either way the
output is the valid document of what was collected, marked "interrupted",
and the exit code says which signal (130, 143, 129). While the output is
being written, signals are ignored, so stdout never holds half a document.
Torch is imported in the worker by :func:`import_torch`, which spares the
process the garbage collector's passes over torch's objects, then and at exit.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import click

from regtui.output import is_terminal, say
from regtui.specs import ConfigError

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
SIGNAL_EXITS: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}
if hasattr(signal, "SIGHUP"):
    SIGNAL_EXITS[signal.SIGHUP] = 129


@dataclass(frozen=True)
class Options:
    name: str
    as_json: bool = False
    device: str = "auto"
    seed: int = 0
    seeds: int | None = None
    sets: tuple[str, ...] = ()
    sweeps: tuple[str, ...] = ()
    sample: int | None = None  # --sample N: random search over the --sweep ranges
    out: str | None = None
    events: str | None = None
    threads: int = 1
    jobs: int = 1
    memory_check: bool = True
    save: bool = True  # keep the run in the run history (regtui.store)
    runs_dir: str | None = None  # the history's folder; None: $REGTUI_RUNS_DIR or the XDG data folder
    run_id: int | None = None  # record into this id, claimed by the process that started this one (--detach)
    base: str | None = None  # the folder the scenario's relative paths resolve against (a rerun: the original's)
    executor: str = "local"  # or "ray": the plan's stacks as tasks on a Ray cluster (regtui.engine.ray_executor)
    ray_address: str | None = None  # the cluster's address; None: $RAY_ADDRESS, else a Ray started for the run


_early_code: list[int] = []  # a signal that came before run() installed its handlers
_before_early: dict[int, Any] = {}  # the handlers catch_early_signals replaced


def _on_early_signal(signum: int, frame: Any) -> None:
    if not _early_code:
        _early_code.append(SIGNAL_EXITS[signum])


def catch_early_signals() -> None:
    """Called first thing by the CLI: a signal before :func:`run` starts means "stop at once"."""
    if threading.current_thread() is threading.main_thread() and not _before_early:
        for signum in SIGNAL_EXITS:
            _before_early[signum] = signal.signal(signum, _on_early_signal)


def release_early_signals(exiting: bool = False) -> None:
    """Undo :func:`catch_early_signals` once the command is done. ``exiting``: the process ends
    now, and a signal during the interpreter's shutdown must not kill it with the document written."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum, handler in _before_early.items():
        signal.signal(signum, signal.SIG_IGN if exiting else handler)
    _before_early.clear()
    _early_code.clear()


class _StopNow(Exception):
    """Raised in the main thread by a second signal: stop waiting for the run."""


class Signals:
    """First signal: cancel at the next step. Second: stop now. While writing: ignored."""

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.code: int | None = None
        self.writing = False
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        for signum in SIGNAL_EXITS:
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        # No locks in here (threading.Event.set takes one): a second signal can arrive while
        # this handler runs and would wait on it forever. The main loop sets the cancel flag.
        if self.writing:
            return  # the document is being written whole; exit right after
        if self.code is None:
            self.code = SIGNAL_EXITS[signum]
        else:
            raise _StopNow()


def run(opts: Options) -> int:
    """Run a scenario headless; returns the exit code (ConfigError for bad input)."""
    cancel = threading.Event()
    signals = Signals(cancel)
    if _early_code:
        signals.code = _early_code[0]
        cancel.set()
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:  # before anything slow, so an early Ctrl-C also ends with valid output
        signals.install()
    try:
        return _run(opts, cancel, signals)
    except ConfigError as exc:
        if opts.run_id is not None:  # its id was printed already: the record says why it never ran
            from regtui.store import open_store

            open_store(opts.runs_dir).mark_failed(opts.run_id, str(exc))
        raise
    finally:
        if in_main:
            signals.restore()


def import_torch() -> None:
    """Import torch without the garbage collector's passes over it, then freeze what it made.

    The import creates about 250k objects and almost no garbage (about 1 MB), yet the collector's
    passes during it cost about 0.1 s; frozen (``gc.freeze``), those objects are skipped by every
    later collection and left alone by the interpreter's shutdown, which otherwise tears them down
    (about 0.3 s). The process's CPU time drops by about 0.45 s (2-core CPU, torch 2.13).
    """
    if "torch" in sys.modules:
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        import torch  # noqa: F401
    finally:
        if enabled:
            gc.enable()
    gc.freeze()


class _Worker(threading.Thread):
    """Resolves the device and runs the plan; torch is imported here, off the main thread."""

    def __init__(
        self, plan: Any, opts: Options, emit: Callable[[Any], None], cancel: threading.Event, scenario: Any = None
    ) -> None:
        super().__init__(daemon=True, name="regtui-run")
        self.plan, self.opts, self.emit, self.cancel = plan, opts, emit, cancel
        self.files: Callable[[], Any] | None = None  # the run's folder in the store, once it is recorded
        self.store: Any = None  # the run store's folder (resume reads stored runs there)
        self.scenario = scenario  # its factories are imported and tried here first (user code)
        self.in_user_code = False  # a factory being tried: it may never return, so a signal stops at once
        self.finished: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            import_torch()  # first: a factory imports torch too
            scenario = self.scenario
            if scenario is not None and any("factory" in table for table in scenario.tables.values()):
                # The file's own code runs only here, in the process that trains, just before training.
                from regtui.engine.custom import check

                self.in_user_code = True
                try:
                    check(scenario.tables, scenario.folder, self.plan.runs, memory_check=self.opts.memory_check)
                except SystemExit as exc:  # bad input found in the user's code: one line, exit 2
                    raise ConfigError(f"{_error_text(exc)} while its model or data was made") from None
                self.in_user_code = False
            if self.opts.executor == "ray":  # the device is the cluster's, resolved there
                from regtui.engine.ray_executor import run_on_ray

                self.finished = run_on_ray(
                    self.plan,
                    self.opts.device,
                    emit=self.emit,
                    cancel=self.cancel,
                    threads=self.opts.threads,
                    address=self.opts.ray_address,
                )
                return
            from regtui import devices

            device = devices.resolve(self.opts.device)
            if scenario is not None and scenario.tables:  # amp and compile on this device, before the run
                from regtui.engine.custom import check_device

                check_device(self.plan.runs, device)
            from regtui.engine import run_plan

            self.finished = run_plan(
                self.plan,
                device,
                emit=self.emit,
                cancel=self.cancel,
                threads=self.opts.threads,
                jobs=self.opts.jobs,
                files=self.files,
                store=self.store,
            )
        except BaseException as exc:  # reported by the main thread
            self.error = exc


def prepare(opts: Options) -> tuple[Any, Any, Any, Any]:
    """What a run checks before anything starts, torch-free: its scenario, plan, --out and --events paths.

    ConfigError for bad input. ``regtui --detach`` calls it too, so bad input is said before it returns.
    """
    from regtui import memory
    from regtui import scenario as sc
    from regtui.output import check_writable

    scenario = sc.load(sc.find(opts.name), base=None if opts.base is None else Path(opts.base))
    plan = sc.plan(
        scenario,
        sc.parse_sets(scenario.spec, opts.sets),
        sc.parse_sweeps(scenario.spec, opts.sweeps),
        opts.seed,
        opts.seeds,
        opts.sample,
    )
    out = check_writable("--out", opts.out) if opts.out is not None else None
    events = check_writable("--events", opts.events) if opts.events is not None else None
    if opts.memory_check:
        memory.check(plan)
    if not opts.save and any(r.params.get("checkpoint", "none") != "none" for r in plan.runs):
        raise ConfigError(
            "checkpoint: the checkpoints are kept in the run's folder of the run history; "
            "run it saved (without --no-save) or with checkpoint = none"
        )
    if opts.executor == "ray":
        kept = next(
            (k for r in plan.runs for k in ("checkpoint", "resume") if r.params.get(k, "none") not in (0, "none")), None
        )
        if kept is not None:
            raise ConfigError(
                f"{kept}: Ray tasks keep no files in the run's folder (checkpoints); "
                f"run it without --executor ray, or without {kept}"
            )
    if scenario.tables and any(r.params.get("resume") for r in plan.runs):
        from regtui.custom_specs.checkpoints import check_resume

        check_resume(plan.runs, _runs_root(opts))  # a stored run's checkpoints, before anything starts
    return scenario, plan, out, events


def _runs_root(opts: Options) -> Any:
    """The run store's folder (``--runs-dir``, else the default), whether or not this run is kept there."""
    from regtui.store.location import resolve

    return resolve(opts.runs_dir)


def _run(opts: Options, cancel: threading.Event, signals: Signals) -> int:
    scenario, plan, out, events = prepare(opts)
    from regtui.event_log import EventLog
    from regtui.report import Collector

    collector = Collector()
    sinks: list[Callable[[Any], None]] = [collector]
    log = EventLog(open(events, "w", encoding="utf-8")) if events else None  # closed below
    if log:
        sinks.append(log)
    from regtui.store.saving import RunSaver

    # The store is opened now (ConfigError before the run when it cannot be written); the run's id
    # is claimed with its first event, so a run that never starts takes none.
    store = _store_for_saving(opts)
    saver = RunSaver(plan, opts.device, save=store is not None, store=store, run_id=opts.run_id)
    sinks[0] = saver.sink(collector)
    progress = _ProgressLine(collector) if is_terminal(sys.stderr) else None

    def emit(event: Any) -> None:
        for sink in sinks:
            sink(event)
        if progress:
            progress.tick()

    worker = _Worker(plan, opts, emit, cancel, scenario)
    worker.files = lambda: saver.recording.folder if saver.recording is not None else None
    worker.store = _runs_root(opts)
    started_at = time.perf_counter()
    worker.start()
    stopped_now = False
    try:
        while worker.is_alive():
            if signals.code is not None and not cancel.is_set():
                cancel.set()  # the first signal: stop at the next step
                if worker.in_user_code:
                    raise _StopNow()  # a factory has no steps: stop at once
            worker.join(0.05)
    except _StopNow:
        stopped_now = True
        if collector.started is not None and collector.finished is None:
            from regtui.events import RunFinished

            # The run's thread never got to say how long it ran: say it for it (elapsed_s was null).
            emit(RunFinished("interrupted", time.perf_counter() - started_at))
    signals.writing = True
    if progress:
        progress.close()
    if isinstance(worker.error, ConfigError):
        saver.discard()  # bad input found by the worker (the device): no run happened
        raise worker.error
    code = _exit_code(worker, signals)
    if worker.error is not None and collector.started is not None and collector.finished is None:
        from regtui.events import RunFinished

        # What escaped the engine (sys.exit in the scenario's own code): the run failed, and says why.
        emit(RunFinished("failed", time.perf_counter() - started_at, _error_text(worker.error)))
    doc = collector.document(compact=True)
    _finish_saving(saver, doc)  # the store first: a broken or full stdout never loses the run
    code = _write(doc, opts.as_json, out, code, saver.saved_id)
    if log:
        log.flush()
        if log.error is not None:
            say(
                f"regtui: error: --events: could not write {events} ({log.error.strerror or log.error}); "
                "the file ends where the disk refused it, the run went on"
            )
            code = code or EXIT_FAILED
    if stopped_now:  # the run's thread may be deep in a torch call: do not wait for it
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError):
                stream.flush()
        os._exit(code)
    if log:
        log.close()
    return code


def _store_for_saving(opts: Options) -> Any:
    """The run history to keep the run in (None with --no-save); ConfigError when it cannot be written.

    The run's id is claimed with its first event (``RunStore.begin``), so that bad input found
    by the worker (a device this machine does not have) leaves no run behind and takes no id.
    """
    if not opts.save:
        return None
    from regtui.store import location, open_store

    store = open_store(opts.runs_dir)
    location.ensure_writable(store.root)
    if opts.run_id is not None:
        store.check_claimed(opts.run_id)
    return store


def _finish_saving(saver: Any, doc: dict[str, Any]) -> None:
    """Write the document into the history; a failure is a warning (the document is on stdout already)."""
    saver.finish(doc)
    for warning in dict.fromkeys(saver.warnings):
        click.echo(f"regtui: warning: {warning}", err=True)
    if is_terminal(sys.stderr) and not saver.warnings and saver.saved_id is not None:
        click.echo(f"regtui: saved as run {saver.saved_id} (regtui runs show {saver.saved_id})", err=True)


def _exit_code(worker: _Worker, signals: Signals) -> int:
    finished = worker.finished
    if worker.error is not None or (finished is not None and finished.status == "failed"):
        error = _error_text(worker.error) if worker.error is not None else finished.error
        say(f"regtui: run failed: {error}")
        return EXIT_FAILED
    if finished is None or finished.status == "interrupted":
        click.echo("regtui: interrupted; the output holds the data collected so far", err=True)
        return signals.code or EXIT_INTERRUPTED
    return 0


def _error_text(error: BaseException) -> str:
    """A run's failure in one line; ``sys.exit`` in user code (a factory) is a failure too, never an exit."""
    if isinstance(error, SystemExit):
        return f"the scenario's own code called sys.exit({error.code!r})"
    return f"{type(error).__name__}: {error}" if not str(error) else str(error)


def _write(doc: dict[str, Any], as_json: bool, out: Any, code: int, saved_id: int | None = None) -> int:
    """--out first (atomically), then stdout, which gets the document even when --out fails. A stdout
    that is closed, broken or full is one line on stderr and exit 1 (the run is in the store)."""
    from regtui.json_writer import write_json
    from regtui.output import write_atomic, write_stdout
    from regtui.text_report import terminal_columns, text_report

    def document(stream: TextIO) -> None:  # streamed: a long run's text is never held whole
        write_json(doc, stream)
        stream.write("\n")

    if out is not None:
        try:
            write_atomic(out, document)
        except OSError as exc:
            say(f"regtui: error: --out: could not write {out}: {exc.strerror or exc}; the document is on stdout")
            code = code or EXIT_FAILED
    width = terminal_columns()
    failed = write_stdout(document if as_json else lambda stream: stream.write(text_report(doc, width=width) + "\n"))
    if failed is not None:
        kept = f"; the run is kept: regtui runs show {saved_id}" if saved_id is not None else ""
        kept = kept or ("; the document is in --out" if out is not None and code != EXIT_FAILED else "")
        say(
            f"regtui: error: could not write the {'document' if as_json else 'report'} to stdout "
            f"({failed.strerror or failed}){kept}"
        )
        code = code or EXIT_FAILED
    return code


def rebuild(path: str, as_json: bool, out: str | None) -> int:
    """The document of an --events file, rebuilt by feeding its events to a Collector."""
    from regtui.event_log import read
    from regtui.output import check_writable
    from regtui.report import Collector

    target = check_writable("--out", out) if out is not None else None
    collector = Collector()
    for event in read(path):
        collector(event)
    if collector.started is None:
        raise ConfigError(f"--rebuild: {path} holds no regtui events (written by --events?)")
    return _write(collector.document(), as_json, target, 0)


class _ProgressLine:
    """A progress line on a terminal's stderr, about ten times a second."""

    def __init__(self, collector: Any) -> None:
        self.collector = collector
        self.last = 0.0
        self.start = time.perf_counter()

    def tick(self) -> None:
        progress = self.collector.progress
        now = time.perf_counter()
        if progress is None or now - self.last < 0.1:
            return
        self.last = now
        frac = progress.step / progress.total if progress.total else 0.0
        bar = "#" * int(frac * 30)
        sys.stderr.write(f"\r[{bar:<30}] {progress.step}/{progress.total} {progress.phase}  {now - self.start:5.1f}s")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
