"""``regtui --scenario … --detach``: the same headless run, in the background, apart from this terminal.

Bad input is refused here first, as for any run (one line, exit 2). Then this
process claims the run's id in the store, starts ``python -m regtui`` with the
same options and that id (``--run-id``) in a session of its own (so neither
Ctrl-C here nor the SIGHUP of a dropped SSH link reaches it), stdin from
/dev/null and its output in ``detached.log`` in the run's folder, writes the
run's first record (running, its process) and prints the id: the run can be
followed (``regtui runs follow ID``) and stopped (``regtui runs stop ID``) at
once. The run itself is an ordinary headless run: it saves its events, its
document and its status as any other.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from typing import Any

import click

from regtui import headless
from regtui.specs import ConfigError

LOG = "detached.log"  # the run's stdout and stderr (its text report, its warnings), in its folder


def start_detached(opts: headless.Options) -> int:
    """Start the run in the background; print its id on stdout (a hint on stderr); exit code 0."""
    from regtui.store import location, open_store
    from regtui.store.replay import plan_record

    _, plan, out, events = headless.prepare(opts)  # bad input: one line now, not in a log later
    store = open_store(opts.runs_dir)
    location.ensure_writable(store.root)
    run_id = store.claim()
    folder = store.folder(run_id)
    scenario = str(plan_record(plan, opts.device)["scenario"])  # a bundled name, or the file's absolute path
    args = _child_args(opts, scenario, out, events, str(store.root.resolve()), run_id)
    try:
        with open(folder / LOG, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "regtui", *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own session: no terminal's signals reach it
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ConfigError(f"--detach: could not start the run ({exc.strerror or exc})") from None
    _forget(proc)
    try:
        store.create_record(store.new_record(plan, opts.device, run_id, proc.pid))
    except ConfigError:
        with contextlib.suppress(OSError):
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    click.echo(str(run_id))
    click.echo(
        f"regtui: run {run_id} goes on in the background (process {proc.pid}, output in {folder / LOG}); "
        f"regtui runs follow {run_id} · regtui runs stop {run_id}",
        err=True,
    )
    return 0


def _child_args(opts: headless.Options, scenario: str, out: Any, events: Any, runs_dir: str, run_id: int) -> list[str]:
    """The command line of the run in the background: the same run, every path absolute."""
    args = ["--scenario", scenario, "--device", opts.device, "--seed", str(opts.seed)]
    if opts.seeds is not None:
        args += ["--seeds", str(opts.seeds)]
    for text in opts.sets:
        args += ["--set", text]
    for text in opts.sweeps:
        args += ["--sweep", text]
    if opts.sample is not None:
        args += ["--sample", str(opts.sample)]
    if out is not None:
        args += ["--out", str(out)]
    if events is not None:
        args += ["--events", str(events)]
    if not opts.memory_check:
        args.append("--no-memory-check")
    args += ["--threads", str(opts.threads), "--jobs", str(opts.jobs), "--runs-dir", runs_dir]
    if opts.executor != "local":
        args += ["--executor", opts.executor] + (["--ray-address", opts.ray_address] if opts.ray_address else [])
    return [*args, "--run-id", str(run_id)]


def _forget(proc: subprocess.Popen[bytes]) -> None:
    """This process will not wait for the run: its Popen object must not warn that it still runs."""
    proc.returncode = 0
