"""Stopping a run from another process: ``regtui runs stop``, and a dashboard following a run.

A headless run stops at its next step on SIGINT and saves what it has as
"interrupted", exactly as after a Ctrl-C in its own terminal; a second signal
stops it at once (``--now``). Before signalling, the record must say the run
is running on this host and the process must be the run's (its start time)
and regtui's headless command or a dashboard's trainer process (its command
line): a pid the system handed to another process, or a dashboard, is never
signalled. A run of ``regtui.track`` is the user's own script: SIGINT is its
Ctrl-C (a KeyboardInterrupt in their loop), which ends the run as stopped.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

from regtui.specs import ConfigError
from regtui.store.process import command_line, is_headless, is_regtui, same_process
from regtui.store.record import RUNNING, RunInfo
from regtui.store.runs import RunStore

TRACKED = "track"  # the kind of a run recorded by regtui.track from the user's own loop
STOP_WAIT_S = 30.0  # how long `regtui runs stop` waits for the run to save and end, by default


def stoppable(store: RunStore, run_id: int | str) -> RunInfo:
    """The run's record, if this process may stop it; else a one-line ConfigError saying why not."""
    info = store.get(run_id)
    if info.status != RUNNING:
        raise ConfigError(f"run {info.id} is not running: it is {info.state}")
    if not info.on_this_host:
        raise ConfigError(
            f"run {info.id} runs on host {info.host}, not this one; stop it there (regtui runs stop {info.id})"
        )
    if not same_process(info.pid, info.pid_start):
        raise ConfigError(f"run {info.id} is not running: its process {info.pid} is gone (it is interrupted)")
    if info.experiment == TRACKED:
        return info  # the user's own script (regtui.track): SIGINT is its Ctrl-C, which ends the run interrupted
    argv = command_line(info.pid or 0)
    if argv is None or not is_regtui(argv):
        shown = " ".join(argv or ["(unreadable)"])[:80]
        raise ConfigError(f"run {info.id}: process {info.pid} is not regtui's ({shown}); it was not signalled")
    if not is_headless(argv):
        raise ConfigError(f"run {info.id} belongs to the dashboard in process {info.pid}; stop it there (s)")
    return info


def stop(store: RunStore, run_id: int | str, now: bool = False) -> RunInfo:
    """Ask the run to stop (SIGINT, as Ctrl-C; ``now``: then SIGTERM, as a second Ctrl-C); its record."""
    info = stoppable(store, run_id)
    pid = info.pid or 0
    try:
        os.kill(pid, signal.SIGINT)
        if now:  # another signal than the first: two SIGINTs sent at once could arrive as one
            os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        raise ConfigError(f"run {info.id} is not running: its process {pid} ended just now") from None
    except PermissionError:
        raise ConfigError(f"run {info.id}: not allowed to signal process {pid} (another user's)") from None
    return info


def wait_ended(
    store: RunStore, info: RunInfo, timeout: float, poll: float = 0.05, clock: Callable[[], float] = time.monotonic
) -> RunInfo | None:
    """The run's record once its process ended, or None if it still runs after ``timeout`` seconds."""
    deadline = clock() + timeout
    while True:
        if not same_process(info.pid, info.pid_start):
            return store.get(info.id)
        if clock() >= deadline:
            return None
        time.sleep(poll)
