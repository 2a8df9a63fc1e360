"""`regtui runs list`, `runs show` and the JSON after an edit: per-variant values are listed as
changed, and the variants are named for the values they ran with (issue 18, items 4 and 5)."""

from __future__ import annotations

import re

from regtui.store.record import RunInfo

SMALL_NORMS = ("--set", "steps=2", "--set", "train_samples=16", "--set", "test_samples=8")


def rows(cli) -> list[str]:
    code, out, err = cli("runs", "list")
    assert code == 0, err
    return out.splitlines()[2:]


def test_per_variant_values_are_in_the_changed_column(run, cli, runs_json):
    run("--set", "weight_decay=0.0,0.05")
    run("--set", "dropout=0.0,0.9", "--set", "iters=20", "--set", "hidden=8", scenario="dropout")
    first, second = runs_json()
    assert first["changed"]["weight_decay"] == {"no weight decay": 0.0, "weight decay": 0.05}
    assert second["changed"]["dropout"] == {"no dropout": 0.0, "dropout": 0.9}
    wd_row, dropout_row = rows(cli)
    assert "weight_decay=0,0.05" in wd_row
    assert "dropout=0,0.9" in dropout_row


def test_per_variant_values_equal_to_the_files_are_not_a_change(run, runs_json):
    run("--set", "weight_decay=0.0,0.01")
    [record] = runs_json()
    assert "weight_decay" not in record["changed"]


def test_a_record_of_an_older_version_shows_its_per_variant_set():
    info = RunInfo(
        id=1, created="", scenario="weight-decay", experiment="weight-decay", status="completed", device="cpu",
        seed=0, seeds=1, changed={"iters": 20}, plan={"sets": {"iters": "20", "weight_decay": "0.0,0.05"}},
    )  # fmt: skip
    assert info.changed_text() == "iters=20 weight_decay=0,0.05"


def test_a_cleared_file_sweep_is_a_change(run, runs_json):
    run("--set", "dropout=0.3", "--set", "iters=20", "--set", "hidden=8", scenario="dropout-sweep")
    [record] = runs_json()
    assert record["changed"]["dropout"] == 0.3


def test_norms_at_batch_8_never_says_batch_2(run, cli, runs_json):
    doc = run("--set", "batch=8", *SMALL_NORMS, scenario="norms")
    names = [v["name"] for v in doc["variants"]]
    assert names == ["BatchNorm · batch 8", "LayerNorm · batch 8", "InstanceNorm · batch 8", "GroupNorm · batch 8"]
    assert all(v["params"]["batch"] == 8 for v in doc["variants"])
    [record] = runs_json()
    assert list(record["finals"]) == names
    code, report, err = cli("runs", "show", "1")  # the text report
    assert code == 0, err
    assert "batch 2" not in report and re.search(r"^BatchNorm · batch 8 ", report, re.MULTILINE)
    (row,) = rows(cli)
    assert "batch=8" in row and "batch 2" not in row


def test_an_unedited_norms_run_keeps_its_names(run):
    doc = run(*SMALL_NORMS, scenario="norms")
    assert [v["name"] for v in doc["variants"]][:2] == ["BatchNorm · batch 2", "BatchNorm · batch 64"]
