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
Cancelling sends "stop", which sets the child's cancel flag (as does the end of
its stdin), so it stops at the next step like an in-thread run and still
reports RunFinished("interrupted"). A child that dies without one becomes a
"failed" RunFinished with its last stderr line. A child whose run completed
stays warm for the next run; after any other end it is ended, and a fresh one
is started (in the background: the run that ended does not wait for it).

``subprocess`` only (no multiprocessing: inside a running Textual app it failed
with ``bad value(s) in fds_to_keep``). POSIX only (``select`` on a pipe);
elsewhere, or with ``REGTUI_TRAINER=thread``, :func:`make_trainer` returns None
and the dashboard trains in its worker thread as before.
"""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import IO, Any

POLL_S = 0.05  # how often the worker thread looks at the cancel flag while the child is quiet
KILL_AFTER_S = 3.0  # a cancelled child that has not finished by then is killed
PIPE_BYTES = 1 << 20  # the child's stdout pipe, where Linux allows (its default is 64 KiB)
READ_BYTES = 1 << 18  # the most read from it at once


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
        """The app is closing: end the idle child (a running one ends when its stdin closes)."""
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
        if child is not None:
            _end(child, kill=True)

    # --- one run ----------------------------------------------------------------------------

    def run(
        self,
        plan: Any,
        device: str = "cpu",
        emit: Callable[[Any], None] = lambda e: None,
        cancel: threading.Event | None = None,
        threads: int | None = 1,
    ) -> Any:
        """Like :func:`regtui.engine.run_plan`, with the training in the warm child."""
        from regtui.events import RunFinished

        cancel = cancel or threading.Event()
        child, stderr = self._take()
        start = time.perf_counter()
        finished: RunFinished | None = None
        frames = _Frames()
        try:
            assert child.stdin is not None and child.stdout is not None
            _send(child, ("run", plan, device, threads))
            fd = child.stdout.fileno()
            heard = False  # any event yet (a child still importing torch has sent none)
            stop_sent_at: float | None = None
            while finished is None:
                if cancel.is_set() and stop_sent_at is None:
                    stop_sent_at = time.perf_counter()
                    _send(child, ("stop",))  # the child's cancel flag
                    if not heard:
                        child.kill()  # not started yet: nothing to wait for
                if stop_sent_at is not None and time.perf_counter() - stop_sent_at > KILL_AFTER_S:
                    child.kill()
                ready, _, _ = select.select([fd], [], [], POLL_S)
                if not ready:
                    continue
                chunk = os.read(fd, READ_BYTES)
                if not chunk:
                    break  # the child closed its stdout: it exited
                for event in frames.feed(chunk):
                    heard = True
                    if isinstance(event, RunFinished):
                        finished = event
                    emit(event)
        finally:
            reuse = finished is not None and not cancel.is_set() and not frames.pending and child.poll() is None
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
        if finished is None:
            status = "interrupted" if cancel.is_set() else "failed"
            error = (
                None
                if cancel.is_set()
                else f"the training process exited with code {code}" + (f": {why}" if why else "")
            )
            finished = RunFinished(status, time.perf_counter() - start, error)
            emit(finished)
        return finished


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


def _child_main() -> int:
    import queue

    import torch  # the slow imports happen while the child waits for a plan

    from regtui.engine import run_plan

    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # the first optimizer imports torch._dynamo
    _import_engines()
    events = os.dup(sys.stdout.fileno())  # the frames' own descriptor
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print goes to stderr, never between frames
    stdin = sys.stdin.buffer
    plans: queue.Queue[tuple[Any, threading.Event] | None] = queue.Queue()
    current = [threading.Event()]

    def read_frames() -> None:
        # The only reader of stdin: a run goes to the main thread, a stop sets that run's
        # cancel flag, the end of the file (the app closed or died) stops everything.
        while True:
            head = stdin.read(8)
            if len(head) < 8:
                break
            message = pickle.loads(stdin.read(int.from_bytes(head, "big")))
            if message[0] == "run":
                current[0] = threading.Event()
                plans.put((message[1:], current[0]))
            elif message[0] == "stop":
                current[0].set()
        current[0].set()
        plans.put(None)

    def emit(event: Any) -> None:
        _write_all(events, _frame(event))  # a blocking write: the event is in the pipe when it returns

    threading.Thread(target=read_frames, daemon=True).start()
    while (item := plans.get()) is not None:
        (plan, device, threads), cancel = item
        try:
            run_plan(plan, device, emit=emit, cancel=cancel, threads=threads)
        except BrokenPipeError:
            return 0  # the parent went away
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
    sys.exit(_child_main())
