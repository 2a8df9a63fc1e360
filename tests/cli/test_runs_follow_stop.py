"""`regtui runs follow` and `regtui runs stop`: a run in another process, followed and stopped with real signals."""

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys

import pytest

from regtui.store import open_store
from regtui.store.process import start_ticks
from regtui.store.record import RunInfo

LONG = ["--scenario", "weight-decay", "--device", "cpu", "--set", "hidden=16", "--set", "iters=10000000"]
PROGRESS = re.compile(
    r"^run 1 · \d+/20000000 model-steps train · \d+ model-steps/s · \d+:\d\d · ETA \d+:\d\d(:\d\d)? · "
    r"no weight decay: train_loss \S+ test_loss \S+ · weight decay: train_loss \S+ test_loss \S+$",
    re.M,
)


def training(runs_dir):
    """Whether run 1 streams metrics (it is past its start)."""
    try:
        return '"event": "Metrics"' in (runs_dir / "1" / "events.jsonl").read_text(errors="replace")
    except FileNotFoundError:
        return False


def test_follow_prints_progress_and_exits_with_the_state_of_a_run_that_runs_stop_stopped(
    spawn, regtui, runs_dir, wait_until
):
    run = spawn(*LONG, "--json")
    wait_until(lambda: training(runs_dir), "run 1 to train")
    follow = spawn("runs", "follow")  # no id: the newest running run
    wait_until(lambda: PROGRESS.search(follow.out()), "a progress line with steps/s, ETA and metrics")
    code, out, err = regtui("runs", "list")
    assert code == 0 and re.search(r"^1 .* running ", out, re.M), out
    code, out, err = regtui("runs", "stop", "1")
    assert code == 0, err
    assert err == "regtui: run 1 stopped (regtui runs show 1)\n"
    assert run.wait() == 130  # as after a Ctrl-C in its own terminal
    assert json.loads(run.out())["status"] == "interrupted"  # its JSON document, on its stdout, whole
    assert follow.wait() == 130
    assert follow.out().splitlines()[-1].startswith("run 1 stopped")
    code, out, _ = regtui("runs", "list")
    assert re.search(r"^1 .* stopped ", out, re.M), out
    code, out, _ = regtui("runs", "list", "--json")
    (record,) = json.loads(out)
    assert (record["state"], record["status"]) == ("stopped", "interrupted")  # the record keeps the document's word
    code, out, _ = regtui("runs", "show", "1")
    assert code == 0 and out.startswith("run 1 · ") and " · stopped · " in out.splitlines()[0]


def test_ctrl_c_stops_following_not_the_run_and_stop_now_ends_it(spawn, regtui, runs_dir, wait_until):
    run = spawn(*LONG)
    wait_until(lambda: training(runs_dir), "run 1 to train")
    follow = spawn("runs", "follow", "1")
    wait_until(lambda: PROGRESS.search(follow.out()), "a progress line")
    os.kill(follow.pid, signal.SIGINT)
    assert follow.wait() == 130
    assert follow.err() == "regtui: stopped following run 1; it goes on (regtui runs follow 1)\n"
    info = open_store(runs_dir).get(1)  # still running: its record says so and its process lives
    assert info.state == "running" and run.poll() is None
    piped = subprocess.run(  # a reader that goes away: follow ends quietly
        ["bash", "-c", f"set -o pipefail; {shlex.quote(sys.executable)} -m regtui runs follow 1 | head -1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (piped.returncode, piped.stderr) == (0, "") and piped.stdout.startswith("run 1 · ")
    assert run.poll() is None
    code, _, err = regtui("runs", "stop", "1", "--now", "--wait", "0")
    assert code == 0 and err == f"regtui: asked run 1 (process {run.pid}) to stop at once\n"
    assert run.wait() == 130
    assert open_store(runs_dir).get(1).state == "stopped"


def test_stop_says_when_the_run_has_not_ended_after_its_wait(spawn, regtui, runs_dir, wait_until):
    """A run that cannot act on the signal yet (here: paused with SIGSTOP) is still stopping when the wait ends."""
    run = spawn(*LONG)
    wait_until(lambda: training(runs_dir), "run 1 to train")
    os.kill(run.pid, signal.SIGSTOP)
    try:
        code, _, err = regtui("runs", "stop", "1", "--wait", "0.5")
    finally:
        os.kill(run.pid, signal.SIGCONT)  # it resumes, sees the SIGINT and stops at its next step
    assert code == 1
    assert err == "regtui: run 1 is still stopping after 0.5 s; 'regtui runs stop 1 --now' stops it at once\n"
    assert run.wait() == 130
    assert open_store(runs_dir).get(1).state == "stopped"


def test_follow_says_interrupted_when_the_run_is_killed(spawn, regtui, runs_dir, wait_until):
    run = spawn(*LONG)
    wait_until(lambda: training(runs_dir), "run 1 to train")
    follow = spawn("runs", "follow", "1")
    wait_until(lambda: PROGRESS.search(follow.out()), "a progress line")
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    _, out, _ = regtui("runs", "list", "--json")  # at once: no wait after its death
    assert json.loads(out)[0]["state"] == "interrupted"
    assert follow.wait() == 130
    last = follow.out().splitlines()[-1]
    assert last.startswith("run 1 interrupted") and "no weight decay: train_loss" in last  # what it drew is kept
    _, out, _ = regtui("runs", "list")
    assert re.search(r"^1 .* interrupted ", out, re.M), out


# --- what cannot be followed or stopped: one line, exit 2 --------------------------------------


def one_line(code, out, err):
    assert code == 2 and not out
    assert err.startswith("regtui: error: ") and len(err.splitlines()) == 1 and "Traceback" not in err
    return err.removeprefix("regtui: error: ").strip()


def made_run(runs_dir, pid, host=None, status="running"):
    (runs_dir / "1").mkdir(parents=True)
    info = RunInfo(
        id=1,
        created="2026-12-04T10:00:00Z",
        scenario="weight-decay",
        experiment="weight-decay",
        status=status,
        device="cpu",
        seed=0,
        seeds=1,
        pid=pid,
        host=host or socket.gethostname(),
        pid_start=start_ticks(pid),
    )
    (runs_dir / "1" / "meta.json").write_text(info.to_json())


@pytest.fixture
def stranger(tmp_path):
    """A process that is not a regtui run (it sleeps) and one that looks like the dashboard (named regtui)."""
    (tmp_path / "bin").mkdir()
    os.symlink("/bin/sleep", tmp_path / "bin" / "regtui")
    procs = [subprocess.Popen(["sleep", "600"]), subprocess.Popen([str(tmp_path / "bin" / "regtui"), "600"])]
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def test_stop_refuses_in_one_line(regtui, runs_dir, stranger):
    sleeper, dashboard = stranger
    assert one_line(*regtui("runs", "stop", "1")).startswith("run 1: no such run")
    made_run(runs_dir, sleeper.pid)
    assert one_line(*regtui("runs", "stop", "1")) == (
        f"run 1: process {sleeper.pid} is not regtui's (sleep 600); it was not signalled"
    )
    assert sleeper.poll() is None
    (runs_dir / "1" / "meta.json").unlink()
    made_run(runs_dir.parent / "other", dashboard.pid)
    (runs_dir / "1" / "meta.json").write_text((runs_dir.parent / "other" / "1" / "meta.json").read_text())
    message = one_line(*regtui("runs", "stop", "1"))
    assert message == f"run 1 belongs to the dashboard in process {dashboard.pid}; stop it there (s)"
    assert dashboard.poll() is None
    info = json.loads((runs_dir / "1" / "meta.json").read_text())
    (runs_dir / "1" / "meta.json").write_text(json.dumps({**info, "host": "elsewhere"}))
    assert one_line(*regtui("runs", "stop", "1")).startswith("run 1 runs on host elsewhere, not this one")
    (runs_dir / "1" / "meta.json").write_text(json.dumps({**info, "pid": 2**22 + 12345}))
    assert one_line(*regtui("runs", "stop", "1")).endswith("is gone (it is interrupted)")
    (runs_dir / "1" / "meta.json").write_text(json.dumps({**info, "status": "completed"}))
    assert one_line(*regtui("runs", "stop", "1")) == "run 1 is not running: it is completed"


def test_follow_refuses_in_one_line(regtui, runs_dir, stranger):
    assert one_line(*regtui("runs", "follow")) == "no run is running; 'regtui runs list' shows the runs"
    assert one_line(*regtui("runs", "follow", "7")).startswith("run 7: no such run")
    assert one_line(*regtui("runs", "follow", "x")).startswith("'x' is not a run id")
    made_run(runs_dir, stranger[0].pid)
    (runs_dir / "1" / "events.jsonl").mkdir()
    message = one_line(*regtui("runs", "follow", "1"))
    assert message.endswith("events.jsonl is not a regular file; it cannot be followed")
