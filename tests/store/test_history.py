"""Every headless run is kept: list, show, compare, rm, rerun, and the existing invocations unchanged."""

import json
import re

import pytest

from regtui.store import default_dir, open_store
from regtui.store.location import resolve


def without_time(doc):
    return {k: v for k, v in doc.items() if k != "elapsed_s"}


def test_a_headless_run_is_saved_whole(run, cli, runs_json, runs_dir):
    doc = run("--set", "weight_decay=0.05", "--seed", "3")
    [record] = runs_json()
    assert record["id"] == 1 and record["status"] == "completed" and record["scenario"] == "weight-decay"
    assert record["changed"] == {"iters": 20, "hidden": 8, "weight_decay": 0.05}
    assert record["seed"] == 3 and record["device"] == "cpu"
    [variant] = doc["variants"]  # setting weight_decay merges the two variants into one
    assert record["finals"] == {variant["name"]: variant["final"]}
    assert record["headline"].startswith("test_loss")
    code, out, _ = cli("runs", "show", "1", "--json")
    assert code == 0 and json.loads(out) == doc
    assert sorted(p.name for p in (runs_dir / "1").iterdir()) == ["meta.json", "run.json"]  # events gone


def test_list_text_shows_id_scenario_status_changes_and_results(run, cli):
    run("--set", "weight_decay=0.05")
    run("--sweep", "lr=0.01,0.02", "--seeds", "2")
    code, out, err = cli("runs", "list")
    assert code == 0, err
    header, _, first, second = out.splitlines()
    assert header.split() == ["id", "when", "scenario", "status", "changed", "results"]
    assert first.startswith("1 ") and "weight-decay" in first and "completed" in first
    assert "weight_decay=0.05" in first and re.search(r"test_loss \S+$", first)
    assert "lr=[0.01,0.02]" in second and "seeds=2" in second
    code, out2, _ = cli("runs")  # no subcommand: the list
    assert code == 0 and out2 == out


def test_list_on_a_terminal_cuts_each_run_to_one_line_of_its_width(run, cli, monkeypatch):
    import regtui.text_report

    run("--set", "weight_decay=0.05")
    run("--sweep", "lr=0.01,0.02", "--seeds", "2")
    _, whole, _ = cli("runs", "list")  # a pipe: whole lines
    monkeypatch.setattr(regtui.text_report, "terminal_columns", lambda: 60)
    code, out, err = cli("runs", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 4 and all(len(line) <= 60 for line in lines)
    assert [line.removesuffix("…") for line in lines] == [
        line[: len(cut.removesuffix("…"))] for line, cut in zip(whole.splitlines(), lines)
    ]
    assert any(line.endswith("…") for line in lines) and max(len(line) for line in whole.splitlines()) > 60


def test_list_filters_by_scenario(run, runs_json):
    run()
    run(scenario="bn-stats")
    assert [r["scenario"] for r in runs_json()] == ["weight-decay", "bn-stats"]
    assert [r["id"] for r in runs_json("--scenario", "bn-stats")] == [2]
    assert runs_json("--scenario", "norms") == []


def test_no_save_and_runs_dir(run, runs_json, runs_dir, tmp_path):
    run("--no-save")
    assert runs_json() == [] and not runs_dir.exists()
    elsewhere = tmp_path / "elsewhere"
    run("--runs-dir", elsewhere)
    assert runs_json() == [] and [r["id"] for r in runs_json("--runs-dir", elsewhere)] == [1]


def test_the_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("REGTUI_RUNS_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_dir() == tmp_path / "data" / "regtui" / "runs"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_dir() == tmp_path / "home" / ".local" / "share" / "regtui" / "runs"
    monkeypatch.setenv("REGTUI_RUNS_DIR", str(tmp_path / "mine"))
    assert default_dir() == tmp_path / "mine" and resolve(str(tmp_path / "x")) == tmp_path / "x"


def test_show_text_is_the_text_report_with_the_run(run, cli):
    run()
    code, out, _ = cli("runs", "show", "1")
    assert code == 0
    assert out.startswith("run 1 · ") and "regtui runs rerun 1" in out
    assert "status completed" in out and "no weight decay" in out


def test_compare_puts_finals_side_by_side_with_the_differences(run, cli):
    a = run()
    b = run("--set", "lr=0.02", "--seed", "1")
    code, out, err = cli("runs", "compare", "1", "2", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert [r["id"] for r in result["runs"]] == [1, 2]
    assert result["differences"] == {"seed": [0, 1], "lr": [0.01, 0.02]}
    row = next(r for r in result["finals"] if r["variant"] == "weight decay" and r["metric"] == "test_loss")
    assert row["values"] == [a["variants"][1]["final"]["test_loss"], b["variants"][1]["final"]["test_loss"]]
    code, text, _ = cli("runs", "compare", "1", "2")
    assert code == 0 and "run 1" in text and "run 2" in text and re.search(r"lr\s+0.01\s+0.02", text)


def test_compare_shows_the_values_the_variants_ran_with(run, cli):
    """The default run's variants use weight_decay 0 and 0.01; --set weight_decay=0.05 merges them into one.
    The base params say 0 for the default run, which is not what its 'weight decay' variant ran with."""
    run()
    run("--set", "weight_decay=0.05")
    code, out, err = cli("runs", "compare", "1", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["differences"]["weight_decay"] == ["per variant: 0, 0.01", 0.05]
    code, text, _ = cli("runs", "compare", "1", "2")
    assert re.search(r"weight_decay\s+per variant: 0, 0.01\s+0.05", text)


def test_compare_text_gives_a_spread_over_seeds_as_the_run_text_does(run, cli):
    run("--seeds", "2")
    run("--seeds", "3")
    code, out, err = cli("runs", "compare", "1", "2", "--json")
    assert code == 0, err
    row = next(r for r in json.loads(out)["finals"] if r["metric"] == "test_loss")
    mean, std = row["values"][0], row["std"][0]
    code, text, _ = cli("runs", "compare", "1", "2")
    line = next(line for line in text.splitlines() if re.match(rf"\s*{re.escape(row['variant'])}\s+test_loss\s", line))
    assert f"{mean:.4g} ± {std:.2g}" in line  # the std to 2 digits, as `runs show` and the dashboard
    diverged = next(line for line in text.splitlines() if re.match(r"\s*\S.*\sdiverged\s", line))
    assert "±" not in diverged


def test_rm_removes_only_what_it_is_given(run, cli, runs_json, runs_dir):
    for _ in range(3):
        run()
    code, _, err = cli("runs", "rm", "1", "3")
    assert code == 0, err
    assert [r["id"] for r in runs_json()] == [2] and not (runs_dir / "1").exists()
    run()
    assert [r["id"] for r in runs_json()] == [2, 4]  # an id is never handed out twice
    code, _, err = cli("runs", "rm", "2", "9")  # all or nothing
    assert code == 2 and err.count("\n") == 1 and "run 9: no such run" in err
    assert [r["id"] for r in runs_json()] == [2, 4]


def test_rerun_gives_the_same_document_on_the_cpu(run, cli, runs_json):
    first = run("--set", "weight_decay=0.05", "--sweep", "lr=0.01,0.02", "--seeds", "2", "--seed", "7")
    code, out, err = cli("runs", "rerun", "1", "--json")
    assert code == 0, err
    assert without_time(json.loads(out)) == without_time(first)
    records = runs_json()
    assert [r["id"] for r in records] == [1, 2] and records[1]["changed"] == records[0]["changed"]


def test_rerun_of_a_user_file_uses_the_copy_kept_with_the_run(wd_file, cli):
    code, out, err = cli("--scenario", wd_file, "--json", "--device", "cpu")
    assert code == 0, err
    wd_file.write_text("not toml any more [")
    code, again, err = cli("runs", "rerun", "1", "--json")
    assert code == 0, err
    assert without_time(json.loads(again)) == without_time(json.loads(out))


def test_a_failed_run_is_kept_as_failed(run, cli, runs_json, monkeypatch):
    import regtui.engine.weight_decay as engine

    def boom(plan, ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "run", boom)
    code, out, _ = cli("--scenario", "weight-decay", "--json", "--device", "cpu")
    assert code == 1 and json.loads(out)["status"] == "failed"
    [record] = runs_json()
    assert record["status"] == "failed" and "boom" in record["error"]


def test_bad_input_before_the_run_leaves_no_run(cli, runs_json):
    code, _, _ = cli("--scenario", "weight-decay", "--set", "lr=0")
    assert code == 2
    code, _, _ = cli("--scenario", "bn-stats", "--device", "cuda:7")
    assert code == 2
    assert runs_json() == []


ONE_LINE = [
    (["runs", "show", "42"], r"run 42: no such run in .*; 'regtui runs list' shows the runs"),
    (["runs", "show", "abc"], r"'abc' is not a run id"),
    (["runs", "compare", "1", "42"], r"run 42: no such run"),
    (["runs", "compare", "1"], r"give at least two different run ids"),
    (["runs", "export", "42", "--format", "csv", "--out", "x"], r"run 42: no such run"),
    (["runs", "export", "1", "--format", "xml", "--out", "x"], r"'xml' is not one of 'csv', 'jsonl', 'tensorboard'"),
    (["runs", "rerun", "42"], r"run 42: no such run"),
    (["runs", "rm", "42"], r"run 42: no such run"),
    (["runs", "nope"], r"No such command 'nope'"),
]


@pytest.mark.parametrize("args, message", ONE_LINE, ids=[" ".join(a[1:3]) for a, _ in ONE_LINE])
def test_bad_run_ids_are_one_line_errors(run, cli, args, message):
    run()
    code, out, err = cli(*args)
    assert code == 2 and out == "", out
    assert err.startswith("regtui: error: ") and err.count("\n") == 1 and re.search(message, err), err


def test_an_unwritable_runs_folder_is_one_line_before_the_run(cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, out, err = cli("--scenario", "bn-stats", "--json", "--runs-dir", blocker / "runs")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "runs folder" in err and "--no-save" in err
    code, out, err = cli("--scenario", "bn-stats", "--json", "--runs-dir", blocker / "runs", "--no-save")
    assert code == 0 and json.loads(out)["status"] == "completed"


def test_a_damaged_document_hides_no_other_run(run, cli, runs_json, runs_dir):
    for _ in range(3):
        run()
    (runs_dir / "2" / "run.json").write_bytes(b"\x00garbage{")
    assert [r["id"] for r in runs_json()] == [1, 2, 3]
    code, out, err = cli("runs", "show", "2")
    assert code == 2 and out == "" and err.count("\n") == 1 and "run 2: its document" in err and "damaged" in err
    code, _, err = cli("runs", "compare", "1", "2")
    assert code == 2 and "run 2" in err
    assert cli("runs", "show", "3")[0] == 0
    assert cli("runs", "rm", "2")[0] == 0 and [r["id"] for r in runs_json()] == [1, 3]


def test_a_damaged_record_is_one_line_and_the_others_are_listed(run, cli, runs_dir):
    for _ in range(3):
        run()
    (runs_dir / "index.sqlite").unlink()  # nothing to fall back on but the folders
    (runs_dir / "2" / "meta.json").write_text("{")
    code, out, err = cli("runs", "list", "--json")
    assert code == 2 and err.count("\n") == 1 and "run 2: its record" in err
    assert [r["id"] for r in json.loads(out)] == [1, 3]


def test_a_corrupted_index_is_one_line_and_reindex_brings_every_run_back(run, cli, runs_dir):
    for _ in range(2):
        run()
    (runs_dir / "index.sqlite").write_bytes(b"this is not a database" * 100)
    code, out, err = cli("runs", "list", "--json")
    assert code == 2 and err.count("\n") == 1 and "corrupted" in err and "regtui runs reindex" in err
    assert [r["id"] for r in json.loads(out)] == [1, 2]  # listed from their folders all the same
    assert cli("runs", "show", "1")[0] == 0
    code, out, err = cli("--scenario", "bn-stats", "--json", "--device", "cpu")  # a run still works and is kept
    assert code == 0 and json.loads(out)["status"] == "completed" and "warning" in err
    code, _, err = cli("runs", "reindex")
    assert code == 0 and "reindexed 3 run(s)" in err
    assert list(runs_dir.glob("index.sqlite.corrupt-*"))  # kept aside, not deleted
    code, out, err = cli("runs", "list", "--json")
    assert code == 0 and err == "" and [r["id"] for r in json.loads(out)] == [1, 2, 3]
    assert [r.id for r in open_store().listing().runs] == [1, 2, 3]


EXISTING = [
    (["--list"], 0, "weight-decay"),
    (["--version"], 0, "regtui"),
    (["--help"], 0, "regtui runs --help"),
    (["runs", "--help"], 0, "rerun"),
    (["mine.toml"], 2, "the dashboard needs a terminal"),  # a FILE still goes to the dashboard
    (["--json"], 2, "need --scenario NAME"),
    (["--no-save"], 2, "the dashboard needs a terminal"),  # the dashboard takes --no-save and --runs-dir too
]


@pytest.mark.parametrize("args, code, text", EXISTING, ids=[" ".join(a) for a, _, _ in EXISTING])
def test_existing_invocations_still_work(cli, args, code, text):
    got, out, err = cli(*args)
    assert got == code and text in out + err


def test_rebuild_still_works(cli, tmp_path):
    events = tmp_path / "ev.jsonl"
    code, out, _ = cli("--scenario", "bn-stats", "--json", "--device", "cpu", "--events", events)
    assert code == 0
    code, rebuilt, _ = cli("--rebuild", events, "--json")
    assert code == 0 and without_time(json.loads(rebuilt)) == without_time(json.loads(out))


def test_the_folder_wins_over_a_stale_running_row(run, runs_json):
    run()
    store = open_store()
    stale = store.get(1)
    stale.status, stale.pid = "running", 0
    store.index.upsert(stale.to_row())  # as if the run's last index write was lost
    [record] = runs_json()
    assert record["status"] == "completed"
