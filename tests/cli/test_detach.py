"""`regtui --scenario … --detach`: the same headless run in the background, its id printed at once."""

import json
import os

import pytest
from click.testing import CliRunner

from regtui.cli import main
from regtui.store import open_store
from regtui.store.process import same_process

RUN = ["--scenario", "weight-decay", "--device", "cpu", "--set", "hidden=16"]


def test_a_detached_run_is_an_ordinary_run_in_the_store(regtui, runs_dir, wait_until):
    """Its id on stdout at once; then the same document a headless run of the same command gives."""
    code, out, err = regtui(*RUN, "--set", "iters=3000", "--detach")
    assert code == 0, err
    assert out == "1\n"
    assert len(err.splitlines()) == 1 and "regtui runs follow 1" in err and "regtui runs stop 1" in err
    info = open_store(runs_dir).get(1)
    assert info.status == "running" and info.plan["sets"] == {"hidden": "16", "iters": "3000"}
    code, out, err = regtui("runs", "follow", "1")  # until it ends: its state is the exit code
    assert code == 0, err
    assert out.splitlines()[-1].startswith("run 1 completed")
    wait_until(lambda: not same_process(info.pid, info.pid_start), "the run's process to end")
    detached = json.loads((runs_dir / "1" / "run.json").read_text())
    assert not (runs_dir / "1" / "events.jsonl").exists()
    code, out, err = regtui(*RUN, "--set", "iters=3000", "--json")  # the same run, headless, in this terminal
    assert code == 0, err
    headless = json.loads(out)
    assert list(detached) == list(headless)
    for key in ("status", "scenario", "params", "device", "seed"):
        assert detached[key] == headless[key]
    for mine, theirs in zip(detached["variants"], headless["variants"], strict=True):
        assert mine["series"] == theirs["series"] and mine["final"] == theirs["final"]  # same machine, same build
    (first, second) = open_store(runs_dir).listing().runs
    assert (first.state, second.state) == ("completed", "completed")
    assert (first.changed, first.plan["command"]) == (second.changed, second.plan["command"])
    assert "weight decay" in (runs_dir / "1" / "detached.log").read_text()  # its text report


def test_a_detached_run_that_cannot_start_is_failed_and_says_why(regtui, runs_dir):
    """The device is checked by the run itself (it needs torch): the id is printed, then the record says why."""
    code, out, err = regtui(*RUN, "--device", "cuda:99", "--detach")
    assert code == 0 and out == "1\n", err
    code, out, err = regtui("runs", "follow", "1")
    assert code == 1
    assert out.splitlines()[-1].startswith("run 1 failed") and "cuda:99" in out
    (info,) = open_store(runs_dir).listing().runs
    assert info.state == "failed" and "cuda:99" in info.error
    code, out, err = regtui("runs", "show", "1")
    assert code == 2 and err.startswith("regtui: error: run 1 failed before it started: --device") and not out
    assert "cuda:99" in (runs_dir / "1" / "detached.log").read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--json"], "--detach: --json prints on this terminal"),
        (["--no-save"], "--detach keeps the run in the run store"),
        (["--out", "-"], "--out -: a run in the background has no terminal"),
        (["--events", "/dev/stdout"], "--events /dev/stdout: a run in the background has no terminal"),
        (["--set", "hidden=0"], "hidden"),
        (["--set", "nope=1"], "nope"),
    ],
)
def test_detach_refuses_what_makes_no_sense_in_one_line_before_anything_starts(runs_dir, extra, message):
    result = CliRunner().invoke(main, [*RUN, "--detach", *extra])
    assert result.exit_code == 2
    assert result.stderr.startswith("regtui: error: ") and len(result.stderr.splitlines()) == 1
    assert message in result.stderr
    assert not runs_dir.exists() or not [p for p in os.listdir(runs_dir) if p.isdigit()]  # no run claimed


def test_detach_needs_a_scenario(runs_dir):
    result = CliRunner().invoke(main, ["--detach"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "regtui: error: --detach needs --scenario NAME: the dashboard cannot run in the background"
    ]


def test_run_id_is_only_for_the_run_detach_starts(regtui, runs_dir):
    code, _, err = regtui(*RUN, "--set", "iters=5", "--json")
    assert code == 0, err
    code, _, err = regtui(*RUN, "--set", "iters=5", "--run-id", "1")
    assert code == 2 and "run 1 holds a run already" in err
    assert open_store(runs_dir).get(1).state == "completed"  # untouched
