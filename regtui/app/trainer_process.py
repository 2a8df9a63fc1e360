"""Training in a child process, owned by the dashboard's worker thread.

Why: the UI and a training thread share one GIL, and on a 2-core machine every
redraw stalls the trainer (DESIGN.md: ≈30 ms per redraw). A child Python has its
own interpreter and its own core, so the charts can redraw several times a
second while training keeps headless speed.

How: :class:`TrainerProcess` keeps one *warm* child (``python -m
regtui.app.trainer_process``) that has already imported torch and waits on its
stdin. ``run(plan, device, emit=..., cancel=..., threads=...)`` has the same
signature and result as :func:`regtui.engine.run_plan`: it is called from the
worker thread, sends the plan (pickled) to the child, which runs ``run_plan``
and writes every event as one JSON line (:mod:`regtui.event_log`) to its
stdout; the worker thread decodes each line and passes it to ``emit`` (the
Collector), so the dashboard sees exactly the events a headless run makes.
Cancelling closes the child's stdin; the child's cancel flag is set by that
end-of-file, so it stops at the next step like an in-thread run and still
reports RunFinished("interrupted"). A child that dies without one becomes a
"failed" RunFinished with its last stderr line. After each run a fresh warm
child is started for the next one (a run may change torch's process-wide state).

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

    def _take(self) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
        with self._lock:
            if self._child is None or self._child.poll() is not None:
                self._spawn()
            child, stderr = self._child, self._stderr
            self._child, self._stderr = None, None
        assert child is not None and stderr is not None
        return child, stderr

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
        from regtui.event_log import decode
        from regtui.events import RunFinished

        cancel = cancel or threading.Event()
        child, stderr = self._take()
        start = time.perf_counter()
        finished: RunFinished | None = None
        try:
            assert child.stdin is not None and child.stdout is not None
            _send(child, ("run", plan, device, threads))
            fd = child.stdout.fileno()
            buffer = b""
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
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break  # the child closed its stdout: it exited
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if not line.strip():
                        continue
                    heard = True
                    event = decode(line.decode("utf-8"))
                    if isinstance(event, RunFinished):
                        finished = event
                    emit(event)
        finally:
            reuse = finished is not None and not cancel.is_set() and not buffer and child.poll() is None
            code: int | None = None
            why = ""
            if reuse:
                with self._lock:
                    if self._child is None and not self._closed:
                        self._child, self._stderr = child, stderr  # warm for the next run
                        child = None  # type: ignore[assignment]
            if child is not None:
                code = _end(child, kill=finished is not None)
                why = _last_line(stderr)
                stderr.close()
                self.prepare()  # the next run's warm child
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


def _send(child: subprocess.Popen[bytes], message: tuple[Any, ...]) -> None:
    """One frame to the child: 8-byte length, then the pickled message."""
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        assert child.stdin is not None
        child.stdin.write(len(payload).to_bytes(8, "big") + payload)
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
    from regtui.event_log import EventLog

    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # the first optimizer imports torch._dynamo
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

    threading.Thread(target=read_frames, daemon=True).start()
    out = open(sys.stdout.fileno(), "w", encoding="utf-8", closefd=False)
    log = EventLog(out)
    while (item := plans.get()) is not None:
        (plan, device, threads), cancel = item
        try:
            run_plan(plan, device, emit=log, cancel=cancel, threads=threads)
        except BrokenPipeError:
            return 0  # the parent went away
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
