"""Real processes: runs killed mid-way, Ctrl-C, and several regtui processes saving at once."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from regtui.store import open_store

LONG = ["--scenario", "weight-decay", "--json", "--device", "cpu", "--set", "iters=10000000", "--set", "hidden=16"]


def regtui(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "regtui", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_for_metrics(path, proc, timeout=90):
    """Until the run's events file holds a Metrics line (the run is training)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and '"event": "Metrics"' in path.read_text(errors="replace"):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    pytest.fail("the run never reached training")


def test_a_run_killed_with_sigkill_is_listed_as_interrupted_with_its_data(cli, runs_json, runs_dir):
    proc = regtui(*LONG)
    try:
        wait_for_metrics(runs_dir / "1" / "events.jsonl", proc)
        [record] = runs_json()
        assert record["status"] == "running" and record["pid"] == proc.pid
        code, _, err = cli("runs", "rm", "1")
        assert code == 2 and "still running" in err
    finally:
        proc.kill()
        proc.communicate()
    [record] = runs_json()
    assert record["status"] == "interrupted"
    code, out, err = cli("runs", "show", "1", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "interrupted" and doc["scenario"] == "weight-decay"
    assert [v["name"] for v in doc["variants"]] == ["no weight decay", "weight decay"]
    assert all(len(v["series"]["train_loss"]) > 0 for v in doc["variants"])
    code, text, _ = cli("runs", "show", "1")
    assert code == 0 and "rebuilt from its events" in text and "interrupted" in text
    code, out, err = cli("runs", "export", "1", "--format", "jsonl", "--out", runs_dir.parent / "killed.jsonl")
    assert code == 0, err


def test_ctrl_c_keeps_the_interrupted_document(cli, runs_json, runs_dir):
    proc = regtui(*LONG)
    wait_for_metrics(runs_dir / "1" / "events.jsonl", proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    [record] = runs_json()
    assert record["status"] == "interrupted"
    code, stored, _ = cli("runs", "show", "1", "--json")
    assert code == 0 and json.loads(stored) == json.loads(out)


SAVER = textwrap.dedent("""
    import os, sys, time
    from regtui import scenario as sc
    from regtui.events import Final, Metrics, RunFinished, RunStarted
    from regtui.report import Collector
    from regtui.store import open_store

    go = sys.argv[1]
    while not os.path.exists(go):
        time.sleep(0.001)
    plan = sc.plan(sc.load(sc.find("weight-decay")), {"iters": 3})
    store = open_store()
    for i in range(int(sys.argv[2])):
        recording = store.begin(plan, "cpu")
        collector = Collector()
        events = [RunStarted("weight-decay", "weight-decay", "WD", "cpu", 0, "t", dict(plan.params), plan.runs)]
        for r in plan.runs:
            events.append(Metrics(r.variant, r.seed, (1, 2, 3), {"train_loss": (3.0, 2.0, float(recording.id))}))
            events.append(Final(r.variant, r.seed, {"train_loss": float(recording.id), "pid": os.getpid()}))
        events.append(RunFinished("completed", 0.1))
        for event in events:
            recording(event)
            collector(event)
        recording.finish(collector.document())
        print(recording.id, flush=True)
""")


def test_four_processes_saving_at_once_never_corrupt_the_store(tmp_path, runs_json):
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SAVER, str(go), "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    time.sleep(1.0)  # let every process import and wait at the start line
    go.write_text("")
    ids = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        ids += [int(x) for x in out.split()]
    assert sorted(ids) == list(range(1, 21))  # every id unique, none skipped
    records = runs_json()
    assert sorted(r["id"] for r in records) == list(range(1, 21))
    store = open_store()
    for record in records:
        assert record["status"] == "completed"
        doc = store.document(record["id"])
        finals = {v["final"]["train_loss"] for v in doc["variants"]}
        assert finals == {float(record["id"])}  # each document is its own run's


def test_real_headless_runs_saving_at_once(runs_json):
    procs = [regtui("--scenario", "bn-stats", "--json", "--device", "cpu", "--seed", seed) for seed in range(3)]
    docs = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        docs.append(json.loads(out))
    records = runs_json()
    assert sorted(r["id"] for r in records) == [1, 2, 3]
    stored = sorted((open_store().document(r["id"]) for r in records), key=lambda d: d["seed"])
    assert stored == sorted(docs, key=lambda d: d["seed"])


def test_the_run_history_imports_no_torch(run):
    run()
    code = (
        "import sys\nfrom regtui.cli import main\n"
        "import regtui.store, regtui.cli.runs, regtui.store.export, regtui.store.compare\n"
        "sys.argv = ['regtui', 'runs', 'list']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "weight-decay" in result.stdout
