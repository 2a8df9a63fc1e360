"""A tracked run in the run store: the same record, events and document as regtui's own runs.

The record names the user's process (pid and its start time), so the run is ``running`` while the
loop runs and ``interrupted`` if the process dies; its ``plan`` says it was tracked and keeps the
script's command line, which is what runs it again. Opening the store is the one step that may
fail here (a folder that cannot be written): the caller turns that into a warning and trains on.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from datetime import UTC, datetime
from typing import Any

from regtui.registry import TRACK
from regtui.specs import ConfigError
from regtui.store import Recording, RunInfo, open_store
from regtui.store.location import ensure_writable
from regtui.store.process import start_ticks
from regtui.store.record import RUNNING
from regtui.store.recording import DOCUMENT


def command_line() -> str:
    """How the user's script was started (``python train.py --lr 0.1``): what runs the run again."""
    return shlex.join([os.path.basename(sys.executable or "python"), *sys.argv])


def plain_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """The config as the record keeps it: numbers, flags, text and None as given (a nested dict
    flattened to ``outer.inner``); anything else (a tensor, a class, NaN) as its text."""
    out: dict[str, Any] = {}
    for key, value in (config or {}).items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in plain_config(value).items()})
        elif value is None or isinstance(value, (bool, int, str)):
            out[str(key)] = value
        elif isinstance(value, float) and value == value and abs(value) != float("inf"):
            out[str(key)] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float, str)) for v in value):
            out[str(key)] = [v if not isinstance(v, float) or v == v else str(v) for v in value]
        else:
            out[str(key)] = str(value)
    return out


def record(run_id: int, name: str, config: dict[str, Any], device: str, log_every: int) -> RunInfo:
    """The record of a tracked run that begins now in this process (status running)."""
    pid = os.getpid()
    return RunInfo(
        id=run_id,
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        scenario=name,
        experiment=TRACK,
        status=RUNNING,
        device=device,
        seed=0,
        seeds=1,
        params=dict(config),
        changed=dict(config),  # no defaults to differ from: a list shows the whole config
        document=f"{run_id}/{DOCUMENT}",
        pid=pid,
        host=socket.gethostname(),
        pid_start=start_ticks(pid),
        plan={"tracked": True, "command": command_line(), "cwd": os.getcwd(), "log_every": log_every},
    )


def begin(
    runs_dir: str | os.PathLike[str] | None, name: str, config: dict[str, Any], device: str, log_every: int
) -> Recording:
    """Claim an id and start recording; ConfigError (one line) when the store cannot be written."""
    store = open_store(runs_dir)
    try:
        ensure_writable(store.root)
    except ConfigError as exc:
        raise ConfigError(str(exc).split("; choose another")[0] + "; pass runs_dir= or set REGTUI_RUNS_DIR") from None
    info = record(store.claim(), name, config, device, log_every)
    return Recording(store, info)
