"""Export: tidy CSV that pandas reads with no options, JSON lines, and TensorBoard event files read back."""

import json
import math
import sys

import pytest

pd = pytest.importorskip("pandas")


def test_csv_is_tidy_and_holds_every_value(run, cli, tmp_path):
    a = run("--seeds", "2")
    b = run(scenario="bn-stats")
    c = run("--set", "depth=10", "--set", "width=16", "--set", "train_steps=5", scenario="bn")
    out = tmp_path / "csv"
    code, _, err = cli("runs", "export", "1", "2", "3", "--format", "csv", "--out", out)
    assert code == 0, err
    series = pd.read_csv(out / "series.csv")
    assert list(series.columns) == ["run", "variant", "seed", "step", "metric", "value"]
    for variant in a["variants"]:
        for entry in variant["per_seed"]:
            got = series[
                (series.run == 1)
                & (series.variant == variant["name"])
                & (series.seed == entry["seed"])
                & (series.metric == "train_loss")
            ].sort_values("step")
            assert got.step.tolist() == entry["series"]["step"]
            assert got.value.tolist() == pytest.approx(entry["series"]["train_loss"], rel=1e-15)
    finals = pd.read_csv(out / "finals.csv")
    assert list(finals.columns) == ["run", "variant", "seed", "metric", "value"]
    row = finals[
        (finals.run == 1) & (finals.seed == 1) & (finals.metric == "test_loss") & (finals.variant == "weight decay")
    ]
    per_seed = next(v for v in a["variants"] if v["name"] == "weight decay")["per_seed"][1]["final"]
    assert row.value.item() == pytest.approx(per_seed["test_loss"], rel=1e-15)
    assert set(finals[finals.metric == "diverged"].value) == {0}  # flags as 1/0, so value stays numeric
    assert finals.value.dtype == float
    tables = pd.read_csv(out / "tables.csv")
    assert list(tables.columns) == ["run", "table", "row", "column", "value", "text"]
    assert tables.value.dtype == float  # numbers in value, text (variant and layer names) in text
    bn1d = b["tables"]["bn1d"]
    assert len(tables[(tables.run == 2) & (tables.table == "bn1d")]) == len(bn1d["rows"]) * len(bn1d["columns"])
    wide = tables[(tables.run == 2) & (tables.table == "bn1d")].pivot(index="row", columns="column", values="value")
    assert wide["running_mean"].tolist() == pytest.approx(
        [r[bn1d["columns"].index("running_mean")] for r in bn1d["rows"]]
    )
    layers = pd.read_csv(out / "layers.csv")
    assert list(layers.columns) == ["run", "variant", "seed", "step", "layer", "stat", "value"]
    mine = layers[(layers.run == 3) & (layers.stat == "std") & (layers.variant == c["variants"][0]["name"])]
    std = mine[mine.step.isna()]  # bn's measuring pass before training
    assert std.value.tolist() == pytest.approx(c["variants"][0]["layers"]["std"], nan_ok=True)
    history = c["variants"][0]["layers_steps"]  # and every training step's profile after it
    assert sorted(set(mine.step.dropna().astype(int))) == history["step"]
    curves = pd.read_csv(out / "curves.csv")
    assert len(curves[curves.run == 1]) == sum(len(v["curves"]["fit"]["x"]) for v in a["variants"])
    params = pd.read_csv(out / "params.csv")
    assert set(params[params.run == 1].param) >= {"lr", "weight_decay", "iters"}
    runs = pd.read_csv(out / "runs.csv")
    assert runs.run.tolist() == [1, 2, 3] and runs.scenario.tolist() == ["weight-decay", "bn-stats", "bn"]


DIVERGES = ("--set", "depth=10", "--set", "width=16", "--set", "train_steps=5", "--set", "lr=1e6")


def test_csv_tables_hold_the_summary_tables_too(run, cli, tmp_path):
    doc = run("--set", "steps=20", scenario="norms")
    code, _, err = cli("runs", "export", "1", "--format", "csv", "--out", tmp_path / "csv")
    assert code == 0, err
    tables = pd.read_csv(tmp_path / "csv" / "tables.csv")
    norms = tables[tables.table == "summary.norms"]
    records = doc["summary"]["norms"]
    assert norms.row.nunique() == len(records)
    for i, record in enumerate(records):
        mine = norms[norms.row == i].set_index("column")
        for column, value in record.items():
            if isinstance(value, bool):
                assert mine.value[column] == int(value)
            elif isinstance(value, (int, float)):
                assert mine.value[column] == pytest.approx(value, rel=1e-15)
            elif value is None:
                assert math.isnan(mine.value[column]) and not isinstance(mine.text[column], str)
            else:
                assert mine.text[column] == (value if isinstance(value, str) else json.dumps(value))


def test_csv_empty_cells_for_diverged_values(run, cli, tmp_path):
    run(*DIVERGES, scenario="bn")
    code, _, err = cli("runs", "export", "1", "--format", "csv", "--out", tmp_path / "csv")
    assert code == 0, err
    series = pd.read_csv(tmp_path / "csv" / "series.csv")
    assert series.value.isna().any() and series.value.dtype == float


def test_jsonl_holds_one_run_per_line(run, cli, tmp_path):
    docs = [run(), run("--seed", "1")]
    out = tmp_path / "runs.jsonl"
    code, _, err = cli("runs", "export", "2", "1", "--format", "jsonl", "--out", out)
    assert code == 0, err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [x["run"]["id"] for x in lines] == [2, 1]
    assert [x["document"] for x in lines] == docs[::-1]
    assert all(x["schema"] == "regtui.export/1" and x["run"]["status"] == "completed" for x in lines)


def test_jsonl_into_a_folder_writes_a_file_there(run, cli, tmp_path):
    doc = run()
    for out in (tmp_path / "new", tmp_path / "existing"):
        if out.name == "existing":
            out.mkdir()
        code, _, err = cli("runs", "export", "1", "--format", "jsonl", "--out", f"{out}/")
        assert code == 0, err
        assert out.is_dir() and [p.name for p in out.iterdir()] == ["runs.jsonl"]
        assert json.loads((out / "runs.jsonl").read_text())["document"] == doc
    code, _, err = cli("runs", "export", "1", "--format", "jsonl", "--out", tmp_path / "existing")  # no slash
    assert code == 0, err and (tmp_path / "existing" / "runs.jsonl").is_file()


def test_layers_csv_names_every_layer_at_every_logging_step(cli, tmp_path):
    scenario = tmp_path / "mine.toml"
    scenario.write_text(
        'experiment = "train"\ntitle = "t"\n[params]\nsteps = 30\nlog_every = 10\n'
        '[data]\nsource = "moons"\nn = 80\n'
        '[model]\nlayers = [{type = "linear", out = 8}, {type = "relu"}, {type = "linear"}]\n'
    )
    code, out, err = cli("--scenario", scenario, "--json", "--device", "cpu", "--seeds", "2")
    assert code == 0, err
    doc = json.loads(out)
    code, _, err = cli("runs", "export", "1", "--format", "csv", "--out", tmp_path / "csv")
    assert code == 0, err
    layers = pd.read_csv(tmp_path / "csv" / "layers.csv")
    names = [x["name"] for x in doc["summary"]["model"]["layers"]]
    assert len(names) == 3 and list(dict.fromkeys(layers.layer)) == names
    for entry in doc["variants"][0]["per_seed"]:
        mine = layers[(layers.seed == entry["seed"]) & (layers.stat == "std")]
        assert sorted(set(mine.step)) == [10, 20, 30]
        at_20 = mine[mine.step == 20].set_index("layer").value
        assert [at_20[n] for n in names] == pytest.approx(entry["layers_steps"]["std"][1], rel=1e-12)


def test_export_to_a_bad_place_is_one_line(run, cli, tmp_path):
    run()
    a_file = tmp_path / "f"
    a_file.write_text("")
    code, _, err = cli("runs", "export", "1", "--format", "csv", "--out", a_file)
    assert code == 2 and err.count("\n") == 1 and "is a file" in err
    code, _, err = cli("runs", "export", "1", "--format", "jsonl", "--out", tmp_path / "missing" / "x.jsonl")
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err


def test_tensorboard_event_files_read_back(run, cli, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    doc = run("--seeds", "2", "--set", "lr=0.02")
    out = tmp_path / "tb"
    code, _, err = cli("runs", "export", "1", "--format", "tensorboard", "--out", out)
    assert code == 0, err
    folders = sorted(p.name for p in (out / "1").iterdir())
    assert folders == ["no_weight_decay", "weight_decay"]  # one TensorBoard run per variant
    for variant, folder in zip(doc["variants"], ["no_weight_decay", "weight_decay"]):
        acc = EventAccumulator(str(out / "1" / folder))
        acc.Reload()
        for metric in ("train_loss", "test_loss", "train_loss_std"):
            source = variant["series_std" if metric.endswith("_std") else "series"]
            values = source[metric.removesuffix("_std")]
            scalars = acc.Scalars(metric)
            assert [s.step for s in scalars] == variant["series"]["step"]
            assert [s.value for s in scalars] == pytest.approx(values, rel=1e-6)  # float32 in the file
        final = acc.Scalars("final/test_loss")
        assert final[0].value == pytest.approx(variant["final"]["test_loss"], rel=1e-6)
        content = acc.PluginTagToContent("hparams")["_hparams_/session_start_info"]
        hparams = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info.hparams
        assert hparams["lr"].number_value == pytest.approx(0.02)
        assert hparams["weight_decay"].number_value == pytest.approx(variant["params"]["weight_decay"])
        assert hparams["scenario"].string_value == "weight-decay" and hparams["run"].number_value == 1
        assert hparams["seeds"].number_value == 2 and hparams["seed_list"].string_value == "0,1"
    assert list(out.glob("events.out.tfevents.*"))  # the hparams experiment, at the top


def test_tensorboard_has_no_point_where_the_json_has_null(run, cli, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    doc = run(*DIVERGES, scenario="bn")
    code, _, err = cli("runs", "export", "1", "--format", "tensorboard", "--out", tmp_path / "tb")
    assert code == 0, err
    for variant in doc["variants"]:
        acc = EventAccumulator(str(tmp_path / "tb" / "1" / variant["name"].replace(" ", "_")))
        acc.Reload()
        series = variant["series"]
        held = [step for step, value in zip(series["step"], series["train_loss"]) if value is not None]
        assert [s.step for s in acc.Scalars("train_loss")] == held
        assert not any(math.isnan(s.value) for s in acc.Scalars("train_loss"))
        tags = acc.Tags()["scalars"]
        for metric, value in variant["final"].items():
            if value is None:  # first_nonfinite_step of a net that never diverged, a non-finite loss
                assert f"final/{metric}" not in tags
    assert any(None in v["series"]["train_loss"] for v in doc["variants"])  # the test saw a null
    assert any(v["final"]["first_nonfinite_step"] is None for v in doc["variants"])


def test_without_tensorboard_the_export_names_the_extra(run, cli, tmp_path, monkeypatch):
    run()
    for name in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard now fails
    code, out, err = cli("runs", "export", "1", "--format", "tensorboard", "--out", tmp_path / "tb")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "pip install 'regtui[tensorboard]'" in err
    assert not (tmp_path / "tb").exists()
