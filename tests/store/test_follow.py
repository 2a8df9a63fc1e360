"""Following a run from another process (regtui.store.follow): real runs, real kills, a hand-made folder.

No wall-clock asserts: every wait polls a condition with a generous timeout.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from regtui import headless
from regtui.event_log import encode
from regtui.events import Metrics, Progress, RunSpec, RunStarted
from regtui.specs import ConfigError
from regtui.store import open_store
from regtui.store.follow import Follower, Rate, newest_running
from regtui.store.process import start_ticks
from regtui.store.record import RunInfo

TIMEOUT = 120  # seconds for any condition; a hang fails, slowness does not
RUN = ["--scenario", "weight-decay", "--device", "cpu", "--set", "hidden=16"]


def regtui(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "regtui", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def poll_until(followers, condition, what, proc=None):
    """Poll every follower every 0.05 s until ``condition()``; the events each poll returned, per follower."""
    seen = [[] for _ in followers]
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        for f, events in zip(followers, seen):
            events.extend(f.poll())
        if condition():
            break
        if proc is not None and proc.poll() is not None and not all(f.ended for f in followers):
            for f, events in zip(followers, seen):  # it ended: one more poll says how
                events.extend(f.poll())
            if condition():
                break
            pytest.fail(f"the run ended (rc {proc.returncode}) before {what}: {proc.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
    return seen


def kill(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_two_followers_started_before_the_run_see_all_of_it(runs_dir):
    """Both exist before the run's process does (its id claimed first, as --detach does); each
    collector ends with the document the run saved: the whole stream, its last events included."""
    store = open_store(runs_dir)
    store.root.mkdir(parents=True)
    run_id = store.claim()
    followers = [Follower(store, run_id), Follower(store, run_id)]
    assert [f.poll() for f in followers] == [[], []] and not any(f.ended for f in followers)  # no record yet
    proc = regtui(*RUN, "--set", "iters=20000", "--run-id", run_id)
    _, plan, _, _ = headless.prepare(headless.Options("weight-decay", sets=("hidden=16", "iters=20000")))
    store.create_record(store.new_record(plan, "cpu", run_id, proc.pid))  # what --detach writes
    try:
        seen = poll_until(followers, lambda: all(f.ended for f in followers), "the run's end", proc)
        assert proc.wait(TIMEOUT) == 0, proc.stderr.read()
    finally:
        kill(proc)
    stored = json.loads((runs_dir / str(run_id) / "run.json").read_text())
    for follower, events in zip(followers, seen):
        assert follower.state == "completed" and follower.info.status == "completed"
        assert sum(isinstance(e, Metrics) for e in events) > 2  # read from the stream as it went, not the document
        doc = follower.collector.document()
        assert doc["status"] == "completed" and follower.collector.finished.status == "completed"
        assert [v["name"] for v in doc["variants"]] == [v["name"] for v in stored["variants"]]
        for mine, saved in zip(doc["variants"], stored["variants"]):
            assert mine["series"]["step"] == saved["series"]["step"]  # every step, none lost at the end
            assert mine["series"]["train_loss"] == saved["series"]["train_loss"]
            assert mine["final"] == saved["final"]
            assert mine["curves"] == saved["curves"]  # the last fit curve too (held back, then written at the end)
        assert follower.bad_lines == 0


def test_a_followed_run_killed_with_sigkill_is_interrupted_and_keeps_what_was_read(runs_dir):
    proc = regtui(*RUN, "--set", "iters=10000000")
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (runs_dir / "1" / "events.jsonl").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        follower = Follower(open_store(runs_dir), 1)
        poll_until([follower], lambda: "metrics" in follower.collector.data_kinds(), "its first metrics", proc)
        assert follower.state == "running" and follower.info.pid == proc.pid
        steps = len(follower.collector.variant_record("weight decay")["series"]["step"])
    finally:
        kill(proc)
    poll_until([follower], lambda: follower.ended, "the follower to see the kill")
    assert follower.state == "interrupted"
    assert follower.collector.finished.status == "interrupted"
    assert len(follower.collector.variant_record("weight decay")["series"]["step"]) >= steps > 0
    (info,) = open_store(runs_dir).listing().runs
    assert info.state == "interrupted" and info.status == "running"  # its record never ended


def test_a_follower_of_a_run_that_ended_gets_its_document(runs_dir, run):
    doc = run()
    follower = Follower(open_store(runs_dir), 1)
    assert follower.poll() == [] and follower.state == "completed"
    mine = follower.collector.document()
    assert mine["status"] == "completed"
    assert [v["final"] for v in mine["variants"]] == [v["final"] for v in doc["variants"]]


def test_newest_running_is_one_line_when_none_runs(runs_dir, run):
    run()
    with pytest.raises(ConfigError, match="no run is running"):
        newest_running(open_store(runs_dir))


# --- a hand-made run folder: its "process" is a sleep we can kill -------------------------------


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait()


def made_run(runs_dir, pid, status="running", **more):
    folder = runs_dir / "1"
    folder.mkdir(parents=True)
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
        host=socket.gethostname(),
        pid_start=start_ticks(pid),
        **more,
    )
    (folder / "meta.json").write_text(info.to_json())
    return folder, info


STARTED = RunStarted("weight-decay", "weight-decay", "WD", "cpu", 0, "2", {}, (RunSpec("a", 0, {}),), sweep={})


def line(event):
    return (encode(event) + "\n").encode()


def test_only_complete_lines_are_read_and_a_cut_line_waits_for_its_end(runs_dir, sleeper):
    folder, info = made_run(runs_dir, sleeper.pid)
    follower = Follower(open_store(runs_dir), 1)
    assert follower.poll() == [] and follower.state == "running"  # no events file yet
    first, second = line(STARTED), line(Metrics("a", 0, (1, 2), {"loss": (0.5, 0.25)}))
    with open(folder / "events.jsonl", "wb") as stream:
        stream.write(first + second[:17])
        stream.flush()
        assert follower.poll() == [STARTED]
        assert follower.poll() == []  # the cut line is not an event (nor a bad line) yet
        stream.write(second[17:])
        stream.flush()
        (event,) = follower.poll()
        assert follower.bad_lines == 0
        stream.write(b"not an event\n" + line(Progress(2, 10)))
        stream.flush()
        assert follower.poll() == [Progress(2, 10)] and follower.bad_lines == 1  # a damaged line is skipped
    assert event.values == {"loss": (0.5, 0.25)}
    assert follower.collector.variant_record("a")["series"]["loss"] == [0.5, 0.25]
    info.status, info.elapsed_s = "completed", 3.5
    (folder / "meta.json").write_text(info.to_json())
    assert follower.poll() == [] and follower.state == "completed"
    assert follower.collector.finished.status == "completed"  # the record said it; the stream did not
    assert follower.elapsed_s() == 3.5


def test_a_dead_process_is_interrupted_at_the_next_poll(runs_dir, sleeper):
    folder, _ = made_run(runs_dir, sleeper.pid)
    (folder / "events.jsonl").write_bytes(line(STARTED))
    follower = Follower(open_store(runs_dir), 1)
    follower.poll()
    assert follower.state == "running"
    sleeper.kill()
    sleeper.wait()
    follower.poll()
    assert follower.state == "interrupted" and follower.collector.finished.status == "interrupted"
    assert follower.collector.started == STARTED


def test_a_pid_that_now_belongs_to_another_process_is_not_the_run(runs_dir, sleeper):
    made_run(runs_dir, sleeper.pid)
    info = json.loads((runs_dir / "1" / "meta.json").read_text())
    info["pid_start"] -= 1  # the run's process started earlier: this pid was handed out again since
    (runs_dir / "1" / "meta.json").write_text(json.dumps(info))
    follower = Follower(open_store(runs_dir), 1)
    follower.poll()
    assert follower.state == "interrupted"
    assert open_store(runs_dir).get(1).state == "interrupted"


def test_a_stopped_run_is_stopped_and_a_failed_one_failed(runs_dir, sleeper):
    folder, info = made_run(runs_dir, sleeper.pid, status="interrupted")
    follower = Follower(open_store(runs_dir), 1)
    follower.poll()
    assert follower.state == "stopped"
    info.status, info.error = "failed", "boom"
    (folder / "meta.json").write_text(info.to_json())
    follower = Follower(open_store(runs_dir), 1)
    follower.poll()
    assert follower.state == "failed"


def test_a_folder_it_cannot_read_is_one_line(runs_dir, sleeper):
    with pytest.raises(ConfigError, match="no such run"):
        Follower(open_store(runs_dir), 1)
    folder, _ = made_run(runs_dir, sleeper.pid)
    (folder / "events.jsonl").mkdir()
    follower = Follower(open_store(runs_dir), 1)
    with pytest.raises(ConfigError, match=r"events.jsonl is not a regular file") as caught:
        follower.poll()
    assert "\n" not in str(caught.value)
    (folder / "meta.json").write_text("{not json")
    with pytest.raises(ConfigError, match="damaged"):
        Follower(open_store(runs_dir), 1)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_a_folder_without_read_permission_is_one_line(runs_dir, sleeper):
    folder, _ = made_run(runs_dir, sleeper.pid)
    folder.chmod(0)
    try:
        with pytest.raises(ConfigError, match="cannot read its folder"):
            Follower(open_store(runs_dir), 1)
    finally:
        folder.chmod(0o755)


def test_steps_per_second_and_the_time_left_come_from_the_progress_seen():
    now = [100.0]
    rate = Rate(lambda: now[0])
    rate.add(Progress(100, 1000))
    assert rate.steps_per_s() is None and rate.eta_s() is None  # one sample says nothing
    now[0] += 2.0
    rate.add(Progress(500, 1000))
    assert rate.steps_per_s() == pytest.approx(200.0)
    assert rate.eta_s() == pytest.approx(2.5)  # 500 steps left at 200 a second
    now[0] += 10.0
    rate.add(Progress(600, 1000))
    rate.add(Progress(600, 1000))
    assert rate.steps_per_s() == pytest.approx(100 / 10)  # over the window: the sample just before it is the base
    rate.add(Progress(5, 20, phase="eval"))  # another phase: another unit, measured afresh
    assert rate.steps_per_s() is None
