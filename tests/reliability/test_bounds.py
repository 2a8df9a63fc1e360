"""Unbounded and conflicting options are one-line errors before anything runs; values at the edge of
what validation accepts run to a result instead of failing.

In-process through CliRunner, except the FIFO (a subprocess, so a regression that opens it cannot
hang the test run).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from reliability_support import TIMEOUT, one_error_line, strict_json

WD = ("--scenario", "weight-decay")

# id -> (arguments, words the message must contain)
REFUSED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "seed 2**64": ((*WD, "--seed", "18446744073709551616"), ("--seed", "not allowed", "4294967295")),
    "seed -1": ((*WD, "--seed", "-1"), ("--seed", "not allowed")),
    "seed 2**32": ((*WD, "--seed", "4294967296"), ("--seed", "not allowed")),
    "seed text": ((*WD, "--seed", "abc"), ("--seed", "not an integer")),
    "threads 10**7": ((*WD, "--threads", "10000000"), ("--threads", "not allowed", "256")),
    "threads 0": ((*WD, "--threads", "0"), ("--threads", "not allowed")),
    "jobs 100000": ((*WD, "--jobs", "100000"), ("--jobs", "not allowed", "256")),
    "jobs 0": ((*WD, "--jobs", "0"), ("--jobs", "not allowed")),
    "seeds 0": ((*WD, "--seeds", "0"), ("--seeds", "not allowed")),
    "set and sweep": (
        (*WD, "--set", "weight_decay=0.5", "--sweep", "weight_decay=0,0.1"),
        ("weight_decay", "set it or sweep it"),
    ),
    "swept twice": ((*WD, "--sweep", "lr=0.1", "--sweep", "lr=0.2"), ("lr", "swept twice")),
    "sweep empty value": ((*WD, "--sweep", "lr=0.1,,0.2"), ("lr", "empty value")),
    "sweep non-numeric": ((*WD, "--sweep", "init=a"), ("unknown parameter", "init")),
    "set without =": ((*WD, "--set", "lr"), ("--set", "key=value")),
    "unknown param": ((*WD, "--set", "lrr=0.1"), ("unknown parameter", "did you mean 'lr'")),
    "lr 1e308 bn": (("--scenario", "bn", "--set", "lr=1e308"), ("lr", "not allowed", "1e+30")),
    "lr 1e308 norms": (("--scenario", "norms", "--set", "lr=1e308"), ("lr", "not allowed", "1e+30")),
    "lr 1e308 weight-decay": ((*WD, "--set", "lr=1e308"), ("lr", "not allowed")),
    "lr inf": ((*WD, "--set", "lr=inf"), ("lr", "not allowed")),
    "lr nan": ((*WD, "--set", "lr=nan"), ("lr", "not allowed")),
    "eps 5e-324": (("--scenario", "bn-stats", "--set", "eps=5e-324"), ("eps", "not allowed", "1e-30")),
    "iters 1e400": ((*WD, "--set", "iters=1e400"), ("iters", "not allowed")),
    "scenarios-dir missing": (
        ("--list", "--scenarios-dir", "/nonexistent/regtui"),
        ("--scenarios-dir", "not a folder"),
    ),
    "scenario /dev/null": (("--scenario", "/dev/null"), ("/dev/null", "not a regular file")),
    "scenario missing": (("--scenario", "/nonexistent/x.toml"), ("not found",)),
    "scenario unknown name": (("--scenario", "weight-decy"), ("unknown scenario", "did you mean 'weight-decay'")),
    "json without scenario": (("--json",), ("--scenario",)),
    "scenario and file": ((*WD, "other.toml"), ("either --scenario or a FILE",)),
}


@pytest.mark.parametrize("case", REFUSED, ids=REFUSED.keys())
def test_bad_options_are_one_line_and_nothing_runs(cli, forbid_runs, case):
    args, words = REFUSED[case]
    result = cli(*args, "--json") if "--json" not in args and "--list" not in args else cli(*args)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == ""
    message = one_error_line(result.stderr)
    for word in words:
        assert word in message, (word, message)


def test_an_iters_of_5000_digits_is_too_long_not_inf(cli, forbid_runs):
    result = cli(*WD, "--set", "iters=" + "9" * 5000)
    assert result.exit_code == 2
    message = one_error_line(result.stderr)
    assert "iters" in message and "too long" in message, message
    assert "inf" not in message.lower(), message
    assert len(message) < 300, "the message repeats the 5000 digits"


@pytest.mark.parametrize("count", ["2000", "600"])
def test_too_many_seeds_without_a_sweep_does_not_blame_a_sweep(cli, forbid_runs, count):
    # 2000 is above --seeds' own limit; 600 seeds × 2 variants = 1200 models is above the plan's.
    result = cli(*WD, "--seeds", count)
    assert result.exit_code == 2
    message = one_error_line(result.stderr)
    assert not message.startswith("sweep"), message
    assert "seed" in message, message


def test_too_many_models_with_a_sweep_says_sweep(cli, forbid_runs):
    result = cli(*WD, "--sweep", "weight_decay=0,0.1,0.2", "--seeds", "400")
    message = one_error_line(result.stderr)
    assert result.exit_code == 2 and message.startswith("sweep:") and "1200 models" in message, message


@pytest.fixture
def loop_and_folder(tmp_path):
    loop = tmp_path / "loop.toml"
    os.symlink(loop.name, loop)
    return {"directory": (tmp_path, "directory"), "symlink loop": (loop, "symlink loop")}


@pytest.mark.parametrize("what", ["directory", "symlink loop"])
def test_a_scenario_path_that_is_not_a_file_is_one_line(cli, forbid_runs, loop_and_folder, what):
    path, words = loop_and_folder[what]
    result = cli("--scenario", str(path), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert words in one_error_line(result.stderr)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_scenario_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "regtui", "--scenario", str(fifo), "--json"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("regtui opened the FIFO and hung")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "not a regular file" in one_error_line(result.stderr)


# Values at the edge of what validation accepts must run to a result (divergence is a result).
EDGES = {
    "bn lr=1e30": ("--scenario", "bn", "--set", "lr=1e30", "--set", "train_steps=3", "--set", "depth=5"),
    "bn-stats eps=1e-30": ("--scenario", "bn-stats", "--set", "eps=1e-30"),
    "norms lr=1e30": (
        "--scenario",
        "norms",
        "--set",
        "lr=1e30",
        "--set",
        "steps=3",
        "--set",
        "train_samples=8",
        "--set",
        "test_samples=4",
        "--set",
        "batch=4",
        "--set",
        "size=4",
    ),
    "weight-decay lr=1e30": (*WD, "--set", "lr=1e30", "--set", "iters=5", "--set", "hidden=8"),
    "largest seed": (*WD, "--seed", "4294967295", "--seeds", "2", "--set", "iters=3", "--set", "hidden=4"),
}


@pytest.mark.parametrize("case", EDGES, ids=EDGES.keys())
def test_edge_values_run_to_a_result(cli, case):
    result = cli(*EDGES[case], "--json", "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    assert doc["status"] == "completed", doc.get("error")
    assert "error" not in doc
