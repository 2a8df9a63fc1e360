"""The regtui command: headless runs, JSON contract, bad input, Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from click.testing import CliRunner

from regtui.cli import main

TINY = {
    "weight-decay": ["iters=20", "hidden=8"],
    "dropout": ["iters=20", "hidden=8", "scaling_n=100"],
    "bn": ["depth=10", "width=16", "train_steps=5"],
    "bn-stats": [],
    "norms": ["steps=3", "train_samples=64", "test_samples=16", "size=4"],
}
TOP_KEYS = {
    "schema",
    "scenario",
    "experiment",
    "title",
    "status",
    "device",
    "seed",
    "torch_version",
    "params",
    "elapsed_s",
    "variants",
    "tables",
    "summary",
}


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def sets(name):
    return [a for s in TINY[name] for a in ("--set", s)]


def run_json(name, *extra):
    code, out, err = invoke("--scenario", name, "--json", "--device", "cpu", *sets(name), *extra)
    assert code == 0, err
    return json.loads(out)


def test_list_names_every_bundled_scenario():
    code, out, _ = invoke("--list")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert set(TINY) <= set(names)
    assert "weight-decay-sweep" in names and "dropout-sweep" in names


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_scenario_runs_headless_to_the_json_contract(name):
    doc = run_json(name)
    assert TOP_KEYS <= set(doc)
    assert doc["schema"] == "regtui.run/1" and doc["status"] == "completed"
    assert doc["scenario"] == name and doc["experiment"] == name and doc["device"] == "cpu"
    assert doc["torch_version"] == torch.__version__
    for item in TINY[name]:
        key, value = item.split("=")
        assert doc["params"][key] == json.loads(value)
    assert doc["variants"], "every scenario reports at least one variant"
    for v in doc["variants"]:
        assert {"name", "params", "series", "final"} <= set(v)
        steps = v["series"].get("step", [])
        assert all(len(col) == len(steps) for col in v["series"].values())


def test_bn_stats_tables_hold_the_tutorial_numbers():
    doc = run_json("bn-stats")
    table = doc["tables"]["bn1d"]
    cols = table["columns"]
    rows = [dict(zip(cols, r)) for r in table["rows"]]
    last = [r for r in rows if r["iteration"] == max(r["iteration"] for r in rows)]
    assert [round(r["running_mean"], 6) for r in last] == [round(0.51 * k, 6) for k in range(1, 6)]
    assert all(abs(r["running_var"] - 0.49) < 1e-6 for r in last)
    assert {"bn1d", "bn2d", "bn3d"} <= set(doc["tables"])


def test_text_summary_without_json():
    code, out, _ = invoke("--scenario", "weight-decay", "--device", "cpu", *sets("weight-decay"))
    assert code == 0
    assert "status completed" in out and "no weight decay" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_out_file_and_determinism(tmp_path):
    out = tmp_path / "run.json"
    a = run_json("weight-decay", "--seed", "5", "--out", str(out))
    b = json.loads(out.read_text())
    c = run_json("weight-decay", "--seed", "5")
    d = run_json("weight-decay", "--seed", "6")
    assert a["variants"] == b["variants"] == c["variants"]
    assert a["variants"][0]["series"]["train_loss"] != d["variants"][0]["series"]["train_loss"]


def test_divergence_is_a_result_with_nulls():
    doc = run_json("weight-decay", "--set", "lr=1000")
    for v in doc["variants"]:
        assert v["final"]["diverged"] is True
        assert None in v["series"]["train_loss"]


def test_sweep_with_seeds_reports_mean_std_and_best():
    doc = run_json("weight-decay", "--sweep", "weight_decay=0,0.1", "--seeds", "2")
    assert [v["name"] for v in doc["variants"]] == ["weight_decay=0", "weight_decay=0.1"]
    for v in doc["variants"]:
        assert v["seeds"] == [0, 1] and len(v["per_seed"]) == 2
        assert "train_loss" in v["final_std"] and "train_loss" in v["series_std"]
    sweep = doc["summary"]["sweep"]
    assert sweep["keys"] == ["weight_decay"] and len(sweep["points"]) == 2
    assert sweep["best"]["test_loss"] == min(p["test_loss"] for p in sweep["points"])


def test_diverging_sweep_points_do_not_spoil_the_others():
    doc = run_json("weight-decay", "--set", "weight_decay=0", "--sweep", "lr=0.01,1000", "--seeds", "2")
    calm, wild = doc["variants"]
    assert wild["name"] == "lr=1000" and wild["diverged_seeds"] == [0, 1] and wild["final"]["diverged"] is True
    assert calm["diverged_seeds"] == [] and calm["final"]["diverged"] is False
    assert all(x is not None for x in calm["series"]["train_loss"] + calm["series_std"]["train_loss"])
    points = {p["variant"]: p for p in doc["summary"]["sweep"]["points"]}
    assert points["lr=1000"]["diverged_seeds"] == 2 and doc["summary"]["sweep"]["best"]["variant"] == "lr=0.01"


BAD = [
    (["--scenario", "nope"], r"unknown scenario 'nope'"),
    (["--scenario", "bn", "--set", "deph=3"], r"unknown parameter 'deph' for bn; did you mean 'depth'"),
    (["--scenario", "bn", "--set", "depth=abc"], r"depth: 'abc' is not a number"),
    (["--scenario", "dropout", "--set", "dropout=1"], r"dropout: 1.0 is not allowed; expected a number >= 0 and < 1"),
    (["--scenario", "weight-decay", "--set", "lr=0"], r"lr: 0.0 is not allowed; expected a number > 0"),
    (["--scenario", "weight-decay", "--set", "momentum=2"], r"momentum: 2.0 is not allowed"),
    (["--scenario", "weight-decay", "--set", "hidden=-1"], r"hidden: -1 is not allowed"),
    (["--scenario", "norms", "--set", "groups=4"], r"groups: 4 does not divide channels = 6"),
    (["--scenario", "bn-stats", "--set", "batch=0"], r"batch: 0 is not allowed"),
    (
        ["--scenario", "weight-decay", "--seeds", "0"],
        r"--seeds: '0' is not allowed; expected an integer >= 1 and <= 1024",
    ),
    (
        ["--scenario", "bn", "--sweep", "init=normal,he"],
        r"init: 'he' is not allowed; expected one of default, normal, kaiming",
    ),
    (
        ["--scenario", "bn", "--sweep", "batchnorm=true,maybe"],
        r"batchnorm: 'maybe' is not allowed; expected true or false",
    ),
    (["--scenario", "weight-decay", "--sweep", "lr="], r"empty value"),
    (
        ["--scenario", "weight-decay", "--sweep", "lrr=1,2"],
        r"unknown parameter 'lrr' for weight-decay; did you mean 'lr'",
    ),
    (["--scenario", "weight-decay", "--sweep", "lr=0.1,abc"], r"lr: 'abc' is not a number"),
    (["--scenario", "weight-decay", "--sweep", "lr"], r"--sweep 'lr': expected key=value"),
    (
        [
            "--scenario",
            "weight-decay",
            "--sweep",
            "lr=" + ",".join(str(0.001 * i) for i in range(1, 40)),
            "--sweep",
            "momentum=" + ",".join(str(0.02 * i) for i in range(30)),
        ],
        r"2 variant\(s\) × 1170 grid point\(s\) × 1 seed\(s\) = 2340 models, more than the limit of 1024",
    ),
    (["--scenario", "weight-decay", "--device", "tpu"], r"--device: 'tpu' is not a device"),
    (["--scenario", "weight-decay", "--jobs", "0"], r"--jobs: '0' is not allowed; expected an integer >= 1 and <= 256"),
    (["--scenario", "weight-decay", "--threads", "two"], r"--threads: 'two' is not an integer"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a[1:])[:40] for a, _ in BAD])
def test_bad_input_is_one_line_exit_2(args, message):
    code, out, err = invoke(*args)
    assert code == 2 and out == ""
    assert err.startswith("regtui: error: ") and err.count("\n") == 1
    assert pytest.importorskip("re").search(message, err), err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_unavailable_cuda_is_reported():
    code, _, err = invoke("--scenario", "bn-stats", "--device", "cuda")
    assert code == 2 and "--device: 'cuda' is not available on this machine; available: cpu" in err  # as typed
    code, _, err = invoke("--scenario", "bn-stats", "--device", "cuda:1")
    assert code == 2 and "--device: 'cuda:1' is not available" in err


def test_jobs_error_mentions_auto():
    code, _, err = invoke("--scenario", "bn-stats", "--jobs", "x")
    assert code == 2 and "--jobs: 'x' is not an integer" in err and "or auto" in err and err.count("\n") == 1


def test_malformed_user_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('experiment = "bn"\n[params\n')
    code, _, err = invoke("--scenario", str(path))
    assert code == 2 and "malformed TOML" in err and "line 2" in err and err.count("\n") == 1


def _regtui(*args, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "regtui", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


def test_real_process_json_and_bad_input():
    proc = _regtui("--scenario", "bn-stats", "--json", "--device", "cpu")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out)["status"] == "completed"
    assert err == ""  # progress goes to stderr only on a terminal
    proc = _regtui("--scenario", "bn", "--set", "init=xavier")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == "" and "Traceback" not in err and err.count("\n") == 1


def test_ctrl_c_prints_valid_interrupted_json():
    proc = _regtui(
        "--scenario",
        "weight-decay",
        "--json",
        "--device",
        "cpu",
        "--set",
        "iters=10000000",
        "--set",
        "hidden=16",
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    time.sleep(5)  # usually training by now; earlier is fine too (the handler is set before torch loads)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert doc["status"] == "interrupted" and "Traceback" not in err
    assert doc["variants"] and doc["scenario"] == "weight-decay"
