"""The process behind a running run: is it still there, still the same one, and is it regtui's.

A run's record names its process by host, pid and the process's start time in
clock ticks since boot (``/proc/PID/stat``, field 22: immune to changes of the
wall clock). A pid that the system handed to another process after the run
died then does not keep the run "running", and ``regtui runs stop`` never
signals a stranger. Where there is no ``/proc`` (macOS) the start time is
unknown and only the pid is checked; the command line then comes from ``ps``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# The options that make a regtui command line a headless run (which stops at its next step on SIGINT).
_HEADLESS = ("--scenario", "-s", "--run-id")
# The dashboard's trainer process (regtui.app.trainer_process): it trains and saves a dashboard's run, and
# stops it at its next step on SIGINT, like a headless run; it goes on when its dashboard quits or hangs up.
TRAINER_MODULE = "regtui.app.trainer_process"


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id runs (a zombie, killed but not yet reaped, counts as gone)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    fields = _stat_fields(pid)
    return fields is None or fields[0] != "Z"


def start_ticks(pid: int | None) -> int | None:
    """When the process started, in clock ticks since boot (None: no such process, or no /proc)."""
    fields = _stat_fields(pid) if pid else None
    try:
        return int(fields[19]) if fields else None  # field 22 of stat; fields[0] is field 3 (the state)
    except (IndexError, ValueError):
        return None


def same_process(pid: int | None, started: int | None) -> bool:
    """Whether ``pid`` runs and is the process that started at ``started`` ticks (None: not recorded)."""
    if not pid_alive(pid):
        return False
    if started is None:
        return True
    now = start_ticks(pid)
    return now is None or now == started


def command_line(pid: int) -> list[str] | None:
    """The process's arguments (None when it is gone or they cannot be read)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        if Path("/proc/self/cmdline").exists():
            return None  # /proc works: the process is gone
        return _ps_command_line(pid)
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part] or None


def is_regtui(argv: list[str]) -> bool:
    """Whether a command line runs regtui: ``python -m regtui …`` or the ``regtui`` script."""
    for i, arg in enumerate(argv[:3]):
        if os.path.basename(arg) in ("regtui", "regtui.exe"):
            return True
        if arg == "-m" and i + 1 < len(argv) and argv[i + 1] in ("regtui", TRAINER_MODULE):
            return True
    return False


def is_headless(argv: list[str]) -> bool:
    """Whether a regtui command line is a run that stops at its next step on SIGINT: a headless run
    (``--scenario``, ``runs rerun``) or a dashboard's trainer process; not the dashboard itself."""
    if TRAINER_MODULE in argv[:3]:
        return True
    start = next((i for i, a in enumerate(argv) if os.path.basename(a) in ("regtui", "regtui.exe")), 0) + 1
    args = argv[start:]
    if args[:2] == ["runs", "rerun"]:
        return True
    return any(a in _HEADLESS or a.startswith("--scenario=") or a.startswith("--run-id=") for a in args)


def _stat_fields(pid: int | None) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rpartition(")")[2].split()
    except OSError:
        return None


def _ps_command_line(pid: int) -> list[str] | None:
    """The command line from ``ps`` where there is no /proc (split at spaces: enough to tell regtui)."""
    ps = shutil.which("ps")
    if ps is None:
        return None
    try:
        out = subprocess.run([ps, "-o", "command=", "-p", str(pid)], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.split() or None
