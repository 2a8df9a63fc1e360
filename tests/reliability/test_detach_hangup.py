"""A run started with --detach outlives its terminal: a dropped link (the terminal hangs up) does not touch it.

The shell runs on a real pseudo-terminal; closing its master side is what an SSH
disconnect does: the kernel sends SIGHUP to the terminal's session, and the
shell passes it on to its jobs. The detached run, in a session of its own, goes on
and ends as it would have.
"""

from __future__ import annotations

import os
import pty
import shlex
import signal
import sys
from pathlib import Path

from reliability_support import wait_until

from regtui.store import open_store
from regtui.store.process import pid_alive


def test_a_detached_run_goes_on_when_its_terminal_hangs_up(tmp_path: Path, runs_dir: Path) -> None:
    run = ["--scenario", "weight-decay", "--device", "cpu", "--set", "hidden=16", "--set", "iters=60000"]
    command = shlex.join([sys.executable, "-m", "regtui", *run, "--detach"])
    id_file = tmp_path / "id"
    pid, master = pty.fork()
    if pid == 0:  # the child: a shell on the terminal, as a login over SSH would have
        os.execvp("bash", ["bash", "--norc", "--noprofile", "-c", f"{command} > {id_file}; exec sleep 600"])
    try:
        wait_until(lambda: id_file.exists() and id_file.read_text().strip().isdigit(), "the run's id")
        run_id = int(id_file.read_text())
        store = open_store(runs_dir)
        info = store.get(run_id)
        wait_until(lambda: (runs_dir / str(run_id) / "events.jsonl").exists(), "the run to start")
        assert os.getsid(info.pid or 0) != os.getsid(pid)  # not in the terminal's session
    finally:
        os.close(master)  # the link drops: the terminal hangs up
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGHUP  # the shell got it
    wait_until(lambda: store.get(run_id).status != "running", "the run to end", timeout=300)
    assert store.get(run_id).state == "completed"  # not stopped: SIGHUP never reached it
    wait_until(lambda: not pid_alive(info.pid), "its process to exit")
