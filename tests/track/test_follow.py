"""A tracked run is followed live while its loop trains: by a Follower, ``regtui runs follow`` and the dashboard.

The loop runs in a real background process (the user's script); no wall-clock asserts: every wait
polls a condition with a generous timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from regtui.store import open_store
from regtui.store.follow import Follower

TIMEOUT = 120.0

SCRIPT = """
import pathlib, sys, time, regtui
stop = pathlib.Path(sys.argv[1])
with regtui.track("my-loop", config={"lr": 0.1}, total_steps=10**9) as run:
    step = 0
    while not stop.exists():
        run.log(step, train_loss=1 / (step + 1))
        if step % 50 == 0:
            run.evaluate(step, lambda: {"test_loss": 0.5, "test_accuracy": 0.75})
        step += 1
        time.sleep(0.002)
"""


@pytest.fixture
def tracked(tmp_path):
    """The script's loop in the background, recording into the test's store: (process, run id, stop file)."""
    stop = tmp_path / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(stop)], stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        store = open_store()
        deadline = time.monotonic() + TIMEOUT
        while not any(r.state == "running" for r in store.listing().runs):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the tracked loop never showed as running"
            time.sleep(0.05)
        (run,) = store.listing().runs
        yield proc, run.id, stop
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def poll_until(follower, condition, what):
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        follower.poll()
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def train_steps(follower):
    if "my-loop" not in follower.collector.variant_names():
        return []
    record = follower.collector.variant_record("my-loop")
    return record["series"]["step"]


def test_a_follower_sees_the_loop_as_it_trains_and_its_end(tracked):
    proc, run_id, stop = tracked
    with Follower(open_store(), run_id) as follower:
        poll_until(follower, lambda: len(train_steps(follower)) > 0, "the first logged steps")
        first = len(train_steps(follower))
        poll_until(follower, lambda: len(train_steps(follower)) > first, "more steps, live")
        assert follower.state == "running"
        record = follower.collector.variant_record("my-loop")
        steps = record["series"]["step"]
        assert steps == list(range(len(steps)))
        assert record["series"]["train_loss"] == [1 / (s + 1) for s in steps]
        stop.touch()
        poll_until(follower, lambda: follower.ended, "the run's end")
        assert follower.state == "completed"
    assert proc.wait(TIMEOUT) == 0


def test_runs_follow_prints_its_progress_and_exits_with_its_status(tracked, tmp_path):
    _, run_id, stop = tracked
    follow = subprocess.Popen(
        [sys.executable, "-m", "regtui", "runs", "follow", str(run_id)], stdout=subprocess.PIPE, text=True
    )
    seen = []
    for line in follow.stdout:  # a line a second; the first may come before the run's first rows
        seen.append(line)
        if "train_loss" in line and "steps/s" in line:  # the first line has no rate yet
            break
    assert "train_loss" in seen[-1] and "steps/s" in seen[-1], seen
    stop.touch()
    assert follow.wait(TIMEOUT) == 0


def test_runs_stop_stops_the_users_loop_as_ctrl_c_and_the_run_is_stopped(tracked):
    """`regtui runs stop ID` on a tracked run: SIGINT to the user's script, its Ctrl-C; the run ends stopped."""
    from regtui.store.control import stop, wait_ended

    proc, run_id, _ = tracked
    store = open_store()
    info = stop(store, run_id)
    assert proc.wait(TIMEOUT) != 0  # the script ended by its KeyboardInterrupt
    ended = wait_ended(store, info, TIMEOUT)
    assert ended is not None and ended.state == "stopped"
    assert store.document(run_id)["status"] == "interrupted"
