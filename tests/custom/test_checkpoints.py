"""Checkpoints: torch.save of state dicts in the run folder, handed out by `runs export --format checkpoint`,
and `resume`, whose numbers on the CPU are those of one run that never stopped."""

import json

import pytest
import torch
from custom_support import invoke
from torch import nn

TEXT = """
experiment = "train"
[params]
steps = 60
batch = 16
log_every = 10
lr = 0.05
schedule = "step"
step_size = 25
gamma = 0.5
{extra}
[model]
layers = [{{type = "linear", out = 16}}, {{type = "relu"}}, {{type = "dropout", p = 0.2}}, {{type = "linear"}}]
[data]
source = "moons"
n = 200
"""


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    folder = tmp_path / "runs"
    monkeypatch.setenv("REGTUI_RUNS_DIR", str(folder))
    return folder


def run(path, *extra):
    code, out, err = invoke("--scenario", path, "--json", "--device", "cpu", *extra)
    assert code == 0, err
    return json.loads(out)


def per_seed(doc):
    """(variant's place, seed) -> its series and finals (a --set renames the variants, not their order)."""
    return {
        (i, e["seed"]): e
        for i, v in enumerate(doc["variants"])
        for e in v.get("per_seed") or [v | {"seed": v["seeds"][0]}]
    }


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_resume_continues_with_the_numbers_of_an_uninterrupted_run(optimizer, scenario_file):
    path = scenario_file(TEXT.format(extra=f"optimizer = '{optimizer}'\ncheckpoint = 'final'"))
    whole = run(path, "--seeds", "2", "--set", "stack_runs=off")  # run 1
    run(path, "--seeds", "2", "--set", "stack_runs=off", "--set", "steps=30")  # run 2: stops at step 30
    resumed = run(path, "--seeds", "2", "--set", "resume=2")  # run 3: 30 more steps from run 2's checkpoints
    assert {r["alone_because"] for r in resumed["summary"]["stacking"]} == {"a resumed run trains alone"}
    a, b = per_seed(whole), per_seed(resumed)
    for key, entry in b.items():
        assert entry["series"]["step"] == [40, 50, 60]
        for metric, values in entry["series"].items():
            assert values == a[key]["series"][metric][3:], metric  # the same numbers, exactly
        for metric in ("train_loss", "test_loss", "weight_norm"):
            assert entry["final"][metric] == a[key]["final"][metric]
        assert entry["final"]["resumed_from_step"] == 30


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_stacked_runs_checkpoint_resumes_as_its_run_would_go_on(optimizer, scenario_file):
    """A stack keeps its optimizer state stacked: its checkpoint holds each model's as torch.optim's."""
    text = TEXT.format(extra=f"optimizer = '{optimizer}'\ncheckpoint = 'final'").replace("p = 0.2", "p = 0.0")
    path = scenario_file(text)
    whole = run(path, "--seeds", "2", "--set", "stack_runs=off")  # run 1, alone
    stacked = run(path, "--seeds", "2", "--set", "stack_runs=on", "--set", "steps=30")  # run 2, a stack
    assert {r.get("models") for r in stacked["summary"]["stacking"]} == {2}
    resumed = run(path, "--seeds", "2", "--set", "resume=2")
    a, b = per_seed(whole), per_seed(resumed)
    for key, entry in b.items():
        for metric in ("weight_norm/0.linear", "weight_norm/3.linear", "test_loss"):
            assert entry["series"][metric] == pytest.approx(a[key]["series"][metric][3:], rel=1e-4)


def test_checkpoint_files_hold_state_dicts_torch_loads(scenario_file, runs_dir):
    path = scenario_file(TEXT.format(extra="checkpoint = 'best'\npatience = 100"))
    doc = run(path)
    final = torch.load(runs_dir / "1" / "checkpoints" / "0.default.seed0.final.pt", weights_only=True)
    best = torch.load(runs_dir / "1" / "checkpoints" / "0.default.seed0.best.pt", weights_only=True)
    v = doc["variants"][0]
    assert final["step"] == 60 and best["step"] == v["final"]["best_val_step"]
    assert best["val_loss"] == pytest.approx(v["final"]["best_val_loss"], rel=1e-12)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    model.load_state_dict(final["model"])
    norm = torch.sqrt(sum((q.double() ** 2).sum() for q in model.parameters())).item()
    assert norm == pytest.approx(v["final"]["weight_norm"], rel=1e-6)  # the engine's norm is float32
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    opt.load_state_dict(final["optimizer"])  # torch.optim's own format
    model.load_state_dict(best["model"])


def test_export_hands_out_one_checkpoint(scenario_file, runs_dir, tmp_path):
    path = scenario_file(TEXT.format(extra="checkpoint = 'final'"))
    run(path, "--seeds", "2")
    out = tmp_path / "model.pt"
    code, _, err = invoke("runs", "export", "1", "--format", "checkpoint", "--out", out)
    assert code == 2 and err.count("\n") == 1 and "0.default.seed0.final.pt, 0.default.seed1.final.pt" in err
    code, _, err = invoke(
        "runs", "export", "1", "--format", "checkpoint", "--out", out, "--checkpoint", "0.default.seed1.final.pt"
    )
    assert code == 0, err
    assert out.read_bytes() == (runs_dir / "1" / "checkpoints" / "0.default.seed1.final.pt").read_bytes()
    run(path)
    code, _, err = invoke("runs", "export", "2", "--format", "checkpoint", "--out", tmp_path / "one.pt")
    assert code == 0, err
    assert torch.load(tmp_path / "one.pt", weights_only=True)["seed"] == 0


def test_faults_are_one_line(scenario_file):
    path = scenario_file(TEXT.format(extra="checkpoint = 'final'"))
    code, out, err = invoke("--scenario", path, "--json", "--device", "cpu", "--no-save")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "checkpoint: the checkpoints are kept in the run's folder" in err
    code, out, err = invoke("--scenario", path, "--json", "--device", "cpu", "--set", "resume=7")
    assert code == 2 and out == "" and err.count("\n") == 1  # refused before it starts
    assert "resume: run 7 has no final checkpoint of variant 1 ('resume=7' here) seed 0" in err
    run(path)  # run 1
    code, out, err = invoke("--scenario", path, "--json", "--device", "cpu", "--set", "resume=1")
    assert code != 0 and "steps = 60 leaves nothing to train" in (err + out)
    code, _, err = invoke("--scenario", path, "--json", "--set", "checkpoint=later")
    assert code == 2 and err.count("\n") == 1
    assert "checkpoint: 'later' is not allowed; expected one of none, final, best" in err
