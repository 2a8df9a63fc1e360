"""Training in a child process, owned by the dashboard's worker thread.

Why: the UI and a training thread share one GIL, and on a 2-core machine every
redraw stalls the trainer (≈30 ms per redraw, measured: docs/architecture.md). A child Python has its
own interpreter and its own core, so the charts can redraw several times a
second while training keeps headless speed.

How: :class:`TrainerProcess` keeps one *warm* child (``python -m
regtui.app.trainer_process``) that has already imported torch and the engines
and waits on its stdin. ``run(plan, device, emit=..., cancel=..., threads=...)``
has the same signature and result as :func:`regtui.engine.run_plan`: it is
called from the worker thread, sends the plan (pickled) to the child, which
runs ``run_plan`` and writes every event as one pickled frame (8-byte length,
then the pickle) to its stdout; the worker thread unpickles each and passes it
to ``emit`` (the Collector), so the dashboard sees exactly the events a
headless run makes. Pickle rather than JSON lines: a tenth of the encoding
time in the child (which trains meanwhile) and a third of the decoding time in
the parent, half the bytes, and the very objects the engine emitted. The
child's stray prints (a library's, a custom engine's) go to its stderr: its
stdout carries frames only. Where Linux allows, that pipe holds 1 MiB, not
64 KiB, so a parent busy for a moment (a redraw holding the GIL, the run store
opened at the first event) never holds the training up on a full pipe.
Cancelling sends "stop", which sets the child's cancel flag, so it stops at
the next step like an in-thread run and still reports RunFinished("interrupted").
A child that dies without one becomes a "failed" RunFinished with its last
stderr line. A child whose run completed
stays warm for the next run; after any other end it is ended, and a fresh one
is started (in the background: the run that ended does not wait for it).

The child also keeps the run in the run store (``saving``): it is the run's
process in its record, so the run does not need the dashboard. Its own
session keeps a terminal's signals away from it; when the dashboard goes (a
quit that keeps the run, the SSH link dropped, a crash) its stdin ends, and a
run under way goes on: it stops sending frames, saves as usual and exits.
Without a run, the end of stdin ends the child. SIGINT or SIGTERM (``regtui
runs stop``) stops the run at its next step, as ``s`` does; a second one ends
the child at once (the run is then interrupted, its events kept).

``subprocess`` only (no multiprocessing: inside a running Textual app it failed
with ``bad value(s) in fds_to_keep``). POSIX only (``select`` on a pipe);
elsewhere, or with ``REGTUI_TRAINER=thread``, :func:`make_trainer` returns None
and the dashboard trains in its worker thread as before.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

POLL_S = 0.05  # how often the worker thread looks at the cancel flag while the child is quiet
KILL_AFTER_S = 3.0  # a cancelled child that has not finished by then is killed
PIPE_BYTES = 1 << 20  # the child's stdout pipe, where Linux allows (its default is 64 KiB)
READ_BYTES = 1 << 18  # the most read from it at once


@dataclass
class Saving:
    """A run the child keeps in the run store (``runs_dir``: None, the default store); what the
    parent learns of it: its id once the recording began (``on_id`` is called with it, in the
    worker thread) and the saving's warnings once the run is saved."""

    runs_dir: str | None = None
    on_id: Callable[[int], None] = lambda run_id: None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Recorded:
    """Child to parent: the run is recorded under this id in the store."""

    id: int


@dataclass(frozen=True)
class Saved:
    """Child to parent: the run's document is written (or could not be: the warnings say why)."""

    id: int | None
    warnings: tuple[str, ...] = ()


def wanted() -> bool:
    """Whether the dashboard trains in a child process (POSIX, and not REGTUI_TRAINER=thread)."""
    return os.name == "posix" and os.environ.get("REGTUI_TRAINER", "process").lower() != "thread"


def own_core() -> bool:
    """Whether a child can train on a core the UI does not need (two or more usable cores)."""
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except AttributeError:
        return (os.cpu_count() or 1) >= 2


class TrainerProcess:
    """One warm child at a time; ``run`` is called from one worker thread at a time."""

    shares_gil = False  # the UI does not slow this trainer down through the GIL

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._closed = False
        self._renewing: threading.Thread | None = None  # ending the last run's child, starting the next
        self._leaving = threading.Event()  # the dashboard goes and leaves the run under way to its child

    # --- the warm child ---------------------------------------------------------------------

    def prepare(self) -> None:
        """Start a warm child now if there is none (cheap: fork + exec; the child imports torch)."""
        with self._lock:
            if self._closed or (self._child is not None and self._child.poll() is None):
                return
            self._spawn()

    def _spawn(self) -> None:
        stderr = tempfile.TemporaryFile()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._child = subprocess.Popen(
            [sys.executable, "-m", "regtui.app.trainer_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            close_fds=True,
            start_new_session=True,
            env=env,
        )
        self._stderr = stderr
        if self._child.stdout is not None:
            _widen(self._child.stdout.fileno())

    def _take(self) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
        renewing = self._renewing
        if renewing is not None:
            renewing.join()  # the warm child it starts is this run's
        with self._lock:
            if self._child is None or self._child.poll() is not None:
                self._spawn()
            child, stderr = self._child, self._stderr
            self._child, self._stderr = None, None
        assert child is not None and stderr is not None
        return child, stderr

    def _renew(self, child: subprocess.Popen[bytes] | None = None, stderr: IO[bytes] | None = None) -> None:
        """End ``child`` (if any) and start the next run's warm child, in a thread: the run that ended
        does not wait for either. The next ``_take`` waits for that thread (a fork, milliseconds)."""

        def renew() -> None:
            if child is not None:
                _end(child, kill=True)
            if stderr is not None:
                stderr.close()
            self.prepare()

        thread = threading.Thread(target=renew, name="regtui-trainer-renew", daemon=True)
        with self._lock:
            self._renewing = thread
        thread.start()

    def close(self) -> None:
        """The app is closing: end the idle child. A run under way was stopped (the cancel flag)
        or left to go on (:meth:`leave`); its child saves it and exits on its own."""
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
        if child is not None:
            _end(child, kill=True)

    def leave(self) -> None:
        """The dashboard goes and the run under way goes on without it: the worker stops reading
        its child and closes its pipes; the child saves the run in the store and exits."""
        self._leaving.set()

    # --- one run ----------------------------------------------------------------------------

    def run(
        self,
        plan: Any,
        device: str = "cpu",
        emit: Callable[[Any], None] = lambda e: None,
        cancel: threading.Event | None = None,
        threads: int | None = 1,
        saving: Saving | None = None,
    ) -> Any:
        """Like :func:`regtui.engine.run_plan`, with the training in the warm child (which also
        saves the run when ``saving`` is given: it returns once the run is saved)."""
        from regtui.events import RunFinished

        cancel = cancel or threading.Event()
        child, stderr = self._take()
        start = time.perf_counter()
        finished: RunFinished | None = None
        saved = saving is None  # nothing to wait for after the RunFinished
        frames = _Frames()
        left = False
        try:
            assert child.stdin is not None and child.stdout is not None
            save = None if saving is None else (saving.runs_dir,)
            _send(child, ("run", plan, device, threads, save))
            fd = child.stdout.fileno()
            heard = False  # any event yet (a child still importing torch has sent none)
            stop_sent_at: float | None = None
            while finished is None or not saved:
                if self._leaving.is_set():
                    left = True  # the child goes on alone
                    break
                if cancel.is_set() and stop_sent_at is None:
                    stop_sent_at = time.perf_counter()
                    _send(child, ("stop",))  # the child's cancel flag
                    if not heard:
                        child.kill()  # not started yet: nothing to wait for
                if finished is None and stop_sent_at is not None and time.perf_counter() - stop_sent_at > KILL_AFTER_S:
                    child.kill()
                ready, _, _ = select.select([fd], [], [], POLL_S)
                if not ready:
                    continue
                chunk = os.read(fd, READ_BYTES)
                if not chunk:
                    break  # the child closed its stdout: it exited
                for event in frames.feed(chunk):
                    heard = True
                    if isinstance(event, Recorded | Saved):
                        saved = _note(saving, event) or saved
                        continue
                    if isinstance(event, RunFinished):
                        finished = event
                    emit(event)
        finally:
            if left:
                _close(child.stdin)  # no stop: the run goes on; the child exits after it
                _close(child.stdout)
                child = None  # type: ignore[assignment]
            reuse = (
                child is not None
                and finished is not None
                and saved
                and not cancel.is_set()
                and not frames.pending
                and child.poll() is None
            )
            code: int | None = None
            why = ""
            if reuse:
                with self._lock:
                    if self._child is None and not self._closed:
                        self._child, self._stderr = child, stderr  # warm for the next run
                        child = None  # type: ignore[assignment]
            if child is not None and finished is None:
                code = _end(child, kill=False)  # it has exited, or is told to by its stdin's end
                why = _last_line(stderr)
                stderr.close()
                self._renew()
            elif child is not None:
                self._renew(child, stderr)  # the run is over: its child ends in the background
        if finished is None and not left:
            status = "interrupted" if cancel.is_set() or code in _STOPPED else "failed"
            error = (
                None
                if status == "interrupted"
                else f"the training process exited with code {code}" + (f": {why}" if why else "")
            )
            finished = RunFinished(status, time.perf_counter() - start, error)
            emit(finished)
        return finished


_STOPPED = (-signal.SIGINT, -signal.SIGTERM)  # a child ended by a second stop signal: interrupted, not failed


def _note(saving: Saving | None, message: Recorded | Saved) -> bool:
    """What the child said of the run's saving, noted in ``saving``; whether the run is saved."""
    if saving is None:
        return True
    if isinstance(message, Recorded):
        saving.on_id(message.id)
        return False
    saving.warnings = list(message.warnings)
    return True


class _Frames:
    """The parent's side of the child's stdout: bytes in, the events of the frames completed so far out."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> bool:
        """Whether part of a frame is still waiting for its end."""
        return bool(self._buffer)

    def feed(self, chunk: bytes) -> list[Any]:
        buffer = self._buffer
        buffer += chunk
        events, at = [], 0
        with memoryview(buffer) as view:
            while len(buffer) - at >= 8:
                size = int.from_bytes(view[at : at + 8], "big")
                if len(buffer) - at - 8 < size:
                    break
                events.append(pickle.loads(view[at + 8 : at + 8 + size]))
                at += 8 + size
        del buffer[:at]
        return events


def _frame(obj: Any) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return len(payload).to_bytes(8, "big") + payload


def _widen(fd: int) -> None:
    """A pipe of PIPE_BYTES where the OS allows it (Linux); else it stays as it is."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _send(child: subprocess.Popen[bytes], message: tuple[Any, ...]) -> None:
    """One frame to the child: 8-byte length, then the pickled message."""
    try:
        assert child.stdin is not None
        child.stdin.write(_frame(message))
        child.stdin.flush()
    except (OSError, ValueError):
        pass  # the child died: the caller learns it from its stdout's end


def _close(stream: IO[bytes] | None) -> None:
    if stream is not None:
        try:
            stream.close()
        except OSError:
            pass


def _end(child: subprocess.Popen[bytes], kill: bool) -> int | None:
    _close(child.stdin)
    if kill:
        child.kill()
    try:
        return child.wait(KILL_AFTER_S)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()


def _last_line(stream: IO[bytes]) -> str:
    try:
        stream.seek(0)
        lines = [ln.strip() for ln in stream.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def make_trainer() -> TrainerProcess | None:
    """The dashboard's trainer: a child process where that works, else None (train in the worker thread)."""
    return TrainerProcess() if wanted() else None


# --- the child ----------------------------------------------------------------------------------


class _Cancel(threading.Event):
    """A run's cancel flag that a signal handler can set: a handler must not take the Event's lock
    (a second signal arriving inside it would wait on that lock forever)."""

    signalled = False

    def is_set(self) -> bool:
        return self.signalled or super().is_set()


class _Child:
    """The child's state: its current run's cancel flag, and whether its parent still listens."""

    def __init__(self, events: int) -> None:
        self.events = events  # the frames' own descriptor
        self.cancel = _Cancel()
        self.running = False  # a run is training (a signal stops it); not while idle or saving
        self.parent_gone = False

    def send(self, message: Any) -> None:
        """A frame to the parent; once it has gone (a broken pipe), nothing more."""
        if self.parent_gone:
            return
        try:
            _write_all(self.events, _frame(message))  # a blocking write: it is in the pipe when it returns
        except OSError:
            self.parent_gone = True  # the dashboard went: the run goes on alone

    def on_signal(self, signum: int, frame: Any) -> None:
        """SIGINT/SIGTERM (``regtui runs stop``): stop the run at its next step; a second: end now."""
        if not self.running:
            return  # idle, or saving the run that ended: it finishes
        if not self.cancel.signalled:
            self.cancel.signalled = True
            return
        signal.signal(signum, signal.SIG_DFL)  # the run is interrupted; its events are in the store
        os.kill(os.getpid(), signum)

    def run(self, plan: Any, device: str, threads: int | None, save: tuple[str | None] | None) -> None:
        """One run: trained, sent frame by frame, and kept in the store by this process."""
        from regtui.engine.executors import run_choice
        from regtui.events import RunFinished
        from regtui.report import Collector
        from regtui.store.saving import RunSaver

        collector = Collector()
        saver = RunSaver(plan, device, save=save is not None, runs_dir=save[0] if save else None)
        sink = saver.sink(collector)
        told: list[int] = []

        def emit(event: Any) -> None:
            sink(event)
            if not told and saver.id is not None:
                told.append(saver.id)
                self.send(Recorded(saver.id))
            self.send(event)

        start, error = time.perf_counter(), None
        self.running = True
        try:
            run_choice(  # device: or ray, ray:cuda
                plan,
                device,
                emit=emit,
                cancel=self.cancel,
                threads=threads,
                files=lambda: saver.recording.folder if saver.recording is not None else None,
                store=_store_root(save),
            )
        except Exception as exc:  # run_plan reports failures itself; this is a failure of emit
            error = f"{type(exc).__name__}: {exc}"
        finally:
            self.running = False
        if collector.finished is None:
            emit(RunFinished("failed", time.perf_counter() - start, error))
        saver.end(collector, error=error)
        self.send(Saved(saver.saved_id if saver.saved_id is not None else saver.id, tuple(saver.warnings)))


def _child_main() -> int:
    import queue

    import torch  # the slow imports happen while the child waits for a plan

    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # the first optimizer imports torch._dynamo
    _import_engines()
    child = _Child(os.dup(sys.stdout.fileno()))
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print goes to stderr, never between frames
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, child.on_signal)
    stdin = sys.stdin.buffer
    plans: queue.Queue[tuple[Any, ...] | None] = queue.Queue()

    def read_frames() -> None:
        # The only reader of stdin: a run goes to the main thread, a stop sets that run's cancel
        # flag. The end of the file (the app closed, or died) lets a run under way finish.
        while True:
            head = stdin.read(8)
            if len(head) < 8:
                break
            message = pickle.loads(stdin.read(int.from_bytes(head, "big")))
            if message[0] == "run":
                child.cancel = _Cancel()
                plans.put(message[1:])
            elif message[0] == "stop":
                child.cancel.set()
        plans.put(None)

    threading.Thread(target=read_frames, daemon=True).start()
    while (item := plans.get()) is not None:
        plan, device, threads, save = item
        child.run(plan, device, threads, save)
    return 0


def _import_engines() -> None:
    """Import every experiment's engine now, while the child waits (else the first run pays it: ≈10 ms)."""
    import importlib

    from regtui import registry

    for kind in registry.kinds():
        try:
            importlib.import_module(kind.engine)
        except Exception:  # the run that needs it reports the problem
            pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


if __name__ == "__main__":
    # The module again under its own name: the frames it pickles (Recorded, Saved) must unpickle
    # in the parent as regtui.app.trainer_process's classes, not __main__'s.
    from regtui.app import trainer_process

    sys.exit(trainer_process._child_main())


def _store_root(save: tuple[str | None] | None) -> Any:
    """The run store's folder the dashboard saves in (where ``resume`` finds stored runs); None: the default."""
    if not save or not save[0]:
        return None
    from pathlib import Path

    return Path(save[0]).expanduser()
