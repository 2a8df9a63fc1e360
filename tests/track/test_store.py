"""A tracked run is a run of the store: listed, shown, exported, rebuilt after a kill, never breaking the loop."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest
from click.testing import CliRunner

import regtui
from regtui import scenario as sc
from regtui.cli import main
from regtui.specs import ConfigError
from regtui.store import open_store
from regtui.store.reading import plan_of
from regtui.tracking import TrackWarning

TIMEOUT = 120  # seconds for any condition; a hang fails, slowness does not


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def poll(read, done):
    """``read()`` until ``done`` of what it returned (a store being written may not answer yet)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            value = read()
            if done(value):
                return value
        except (ConfigError, KeyError, IndexError):
            pass
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def loop(run, steps=30, evaluate_every=10):
    """A fake loop: train_loss = 1/(step+1) every step, test scalars every ``evaluate_every``."""
    for step in range(steps):
        run.log(step, train_loss=1 / (step + 1))
        if step % evaluate_every == 0:
            run.evaluate(step, lambda step=step: {"test_loss": 2 / (step + 1), "test_accuracy": 0.5})


def test_a_tracked_run_keeps_every_logged_value_its_config_and_status(tmp_path):
    with regtui.track("mine", config={"lr": 0.1, "weight_decay": 1e-4}, runs_dir=tmp_path) as run:
        loop(run)
    store = open_store(tmp_path)
    [info] = store.listing().runs
    assert (info.id, info.scenario, info.experiment, info.state) == (run.id, "mine", "track", "completed")
    assert info.params == {"lr": 0.1, "weight_decay": 1e-4}
    assert info.pid == os.getpid()
    doc = store.document(run.id)
    assert doc["params"] == {"lr": 0.1, "weight_decay": 1e-4}
    [variant] = doc["variants"]
    series = variant["series"]
    assert series["step"] == list(range(30))  # one point per step: the evaluation merged into its step's row
    assert series["train_loss"] == [1 / (s + 1) for s in range(30)]
    assert series["test_loss"] == [2 / (s + 1) if s % 10 == 0 else None for s in range(30)]
    assert variant["final"]["train_loss"] == 1 / 30
    assert variant["final"]["test_loss"] == 2 / 21
    assert variant["final"]["diverged"] is False


def test_the_cli_lists_shows_and_exports_it(tmp_path):
    with regtui.track("mine", config={"lr": 0.1}, runs_dir=tmp_path) as run:
        loop(run)
    code, out, err = cli("runs", "list", "--runs-dir", tmp_path)
    assert code == 0, err
    assert "mine" in out and "completed" in out and "lr=0.1" in out
    code, out, err = cli("runs", "show", run.id, "--runs-dir", tmp_path)
    assert code == 0, err
    assert "again: " in out and "regtui runs rerun" not in out  # run again by its script, not by regtui
    code, out, err = cli(
        "runs", "export", run.id, "--format", "jsonl", "--out", tmp_path / "o.jsonl", "--runs-dir", tmp_path
    )
    assert code == 0, err
    line = json.loads((tmp_path / "o.jsonl").read_text().splitlines()[0])
    assert line["run"]["scenario"] == "mine"
    assert line["document"]["variants"][0]["series"]["train_loss"][:2] == [1.0, 0.5]
    code, out, err = cli("runs", "export", run.id, "--format", "csv", "--out", tmp_path / "csv", "--runs-dir", tmp_path)
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "csv" / "series.csv").open()))
    train = [(int(r["step"]), float(r["value"])) for r in rows if r["metric"] == "train_loss"]
    assert train == [(s, 1 / (s + 1)) for s in range(30)]


def test_a_tensorboard_export_holds_the_series(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with regtui.track("mine", runs_dir=tmp_path) as run:
        loop(run)
    code, _, err = cli(
        "runs", "export", run.id, "--format", "tensorboard", "--out", tmp_path / "tb", "--runs-dir", tmp_path
    )
    assert code == 0, err
    folders = {p.parent for p in (tmp_path / "tb").rglob("events.out.tfevents.*")}
    tags = set()
    for folder in folders:
        acc = EventAccumulator(str(folder))
        acc.Reload()
        tags |= {t.split("/")[-1] for t in acc.Tags()["scalars"]}
    assert {"train_loss", "test_loss"} <= tags


def test_ctrl_c_leaves_a_valid_run_marked_interrupted(tmp_path):
    with pytest.raises(KeyboardInterrupt), regtui.track("mine", runs_dir=tmp_path) as run:
        for step in range(10):
            run.log(step, train_loss=1.0)
            if step == 4:
                raise KeyboardInterrupt
    info = open_store(tmp_path).get(run.id)
    assert info.status == "interrupted" and info.state == "stopped"
    assert open_store(tmp_path).document(run.id)["variants"][0]["series"]["step"] == [0, 1, 2, 3, 4]


def test_an_exception_in_the_loop_is_a_failed_run_and_is_not_swallowed(tmp_path):
    with pytest.raises(ZeroDivisionError), regtui.track("mine", runs_dir=tmp_path) as run:
        run.log(0, train_loss=1.0)
        1 / 0  # noqa: B018
    info = open_store(tmp_path).get(run.id)
    assert info.status == "failed" and "ZeroDivisionError" in info.error


KILLED = """
import os, sys, regtui
run = regtui.track("killed", config={"lr": 0.5}, runs_dir=sys.argv[1])
for step in range(5):
    run.log(step, train_loss=float(step))
run._flush()
print(run.id, flush=True)
sys.stdin.readline()  # killed here
"""


def test_a_killed_process_leaves_an_interrupted_run_rebuilt_from_its_events(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    run_id = int(proc.stdout.readline())
    store = open_store(tmp_path)
    doc = poll(lambda: store.document(run_id), lambda d: d["variants"][0]["series"].get("step") == [0, 1, 2, 3, 4])
    assert doc["status"] == "running" and store.get(run_id).state == "running"
    proc.send_signal(signal.SIGKILL)
    proc.wait(TIMEOUT)
    assert store.get(run_id).state == "interrupted"
    doc = store.document(run_id)
    assert doc["status"] == "interrupted"
    assert doc["variants"][0]["series"]["train_loss"] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_a_store_that_cannot_be_written_is_one_warning_and_the_loop_runs(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.warns(TrackWarning, match="not kept in the run store") as caught:
        run = regtui.track("mine", runs_dir=blocker)
    assert len(caught) == 1
    with run, warnings.catch_warnings():
        warnings.simplefilter("error")
        loop(run)
    assert run.id is None and run.status == "completed"
    assert run.collector.document()["variants"][0]["series"]["step"] == list(range(30))


def test_an_error_inside_logging_is_one_warning_and_logging_goes_on(tmp_path):
    with regtui.track("mine", runs_dir=tmp_path) as run:
        with pytest.warns(TrackWarning, match="train_loss=str is not a number") as caught:
            run.log(0, train_loss="high")
            run.log(1, train_loss=object())
            run.log(2, train_loss=0.5)
    assert len(caught) == 1
    series = open_store(tmp_path).document(run.id)["variants"][0]["series"]
    assert series["step"] == [2] and series["train_loss"] == [0.5]


def test_only_rank_0_records_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    with regtui.track("ddp", runs_dir=tmp_path) as run:
        loop(run)
        assert run.evaluate(0, lambda: 3.0) == 3.0  # the evaluation still runs and answers
    assert run.id is None
    assert open_store(tmp_path).listing().runs == []
    with regtui.track("ddp", runs_dir=tmp_path, all_ranks=True) as run:
        loop(run)
    [info] = open_store(tmp_path).listing().runs
    assert info.scenario == "ddp/rank1"


def test_a_tracked_runs_plan_shows_its_script_and_no_scenario_file_can_claim_the_kind(tmp_path, write_toml):
    with regtui.track("mine", config={"lr": 0.1}, runs_dir=tmp_path) as run:
        loop(run, steps=3)
    store = open_store(tmp_path)
    info = store.get(run.id)
    plan = plan_of(info, store.folder(run.id), {})
    assert plan.scenario.experiment == "track" and plan.variant_names == ["mine"]
    assert sc.replay_command(plan) == info.plan["command"]
    with pytest.raises(ConfigError, match=r"regtui\.track\(\)"):
        sc.load(write_toml('experiment = "track"\n'))


def test_config_values_are_kept_as_json_can_hold_them(tmp_path):
    config = {"lr": 0.1, "nested": {"a": 1}, "odd": math.nan, "layers": (64, 32), "cls": object}
    with regtui.track("mine", config=config, runs_dir=tmp_path) as run:
        run.log(0, train_loss=1.0)
    params = open_store(tmp_path).get(run.id).params
    assert params["lr"] == 0.1 and params["nested.a"] == 1 and params["odd"] == "nan"
    assert params["layers"] == [64, 32] and params["cls"] == str(object)


LIGHT = """
import sys, regtui
{body}
print(sorted({{m.split(".")[0] for m in sys.modules}} & {{"textual", "torch", "rich", "plotext"}}))
"""


@pytest.mark.parametrize(
    "body",
    [
        "",
        "regtui.track",
        textwrap.dedent(
            """
            with regtui.track("light", config={"lr": 0.1}) as run:
                run.log(0, train_loss=1.0)
            """
        ),
    ],
)
def test_importing_regtui_and_tracking_without_a_model_imports_no_torch_or_textual(body):
    out = subprocess.run(
        [sys.executable, "-c", LIGHT.format(body=body)], capture_output=True, text=True, check=True, timeout=TIMEOUT
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
