"""Reruns of a train scenario that reads files: relative paths lead to the original folder, the factory
files are copied into the run folder, and a file changed since the run is named (refused with --strict)."""

import hashlib
import json

import pytest

FACTORY = """
import torch


def build():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 8), torch.nn.ReLU(), torch.nn.Linear(8, 10))
"""

SCENARIO = """
experiment = "train"
title = "files"
[params]
steps = 20
log_every = 10
[model]
factory = "code/nets.py:build"
[data]
source = "mnist"
path = "data"
"""


@pytest.fixture
def project(tmp_path):
    """A scenario in its own folder with a relative factory file and a relative MNIST folder."""
    pytest.importorskip("torch")
    folder = tmp_path / "project"
    (folder / "code").mkdir(parents=True)
    (folder / "code" / "nets.py").write_text(FACTORY)
    (folder / "mine.toml").write_text(SCENARIO)
    return folder


def mnist(folder, n=12):
    """A tiny MNIST in the idx format (train n, test n images of 28x28)."""
    import struct

    folder.mkdir(exist_ok=True)
    for prefix in ("train", "t10k"):
        images = bytes((i * 7 + j) % 256 for i in range(n) for j in range(784))
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images)
        labels = bytes(i % 10 for i in range(n))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels)


def record(runs_dir, run_id):
    return json.loads((runs_dir / str(run_id) / "meta.json").read_text())["plan"]


def test_the_run_keeps_its_files_absolute_with_hashes_and_copies(project, cli, runs_dir):
    mnist(project / "data")
    code, _, err = cli("--scenario", project / "mine.toml", "--json", "--device", "cpu")
    assert code == 0, err
    plan = record(runs_dir, 1)
    assert plan["folder"] == str(project.resolve())
    files = {f["path"]: f for f in plan["files"]}
    factory = project.resolve() / "code" / "nets.py"
    expected = {str(factory)} | {str(p.resolve()) for p in (project / "data").iterdir()}
    assert set(files) == expected  # the factory and the four data files, absolute
    for path, f in files.items():
        assert f["sha256"] == hashlib.sha256(open(path, "rb").read()).hexdigest()
    copy = runs_dir / "1" / files[str(factory)]["copy"]
    assert copy.read_text() == FACTORY


def test_rerun_from_another_folder_reads_the_original_files(project, cli, runs_dir, monkeypatch, tmp_path):
    mnist(project / "data")
    code, first, err = cli("--scenario", project / "mine.toml", "--json", "--device", "cpu")
    assert code == 0, err
    monkeypatch.chdir(tmp_path)  # nothing is found relative to the current folder
    code, again, err = cli("runs", "rerun", "1", "--json")
    assert code == 0, err
    assert "warning" not in err
    a, b = json.loads(first), json.loads(again)
    assert a["variants"][0]["series"] == b["variants"][0]["series"]


def test_a_changed_factory_is_named_and_refused_with_strict(project, cli, runs_dir):
    mnist(project / "data")
    code, _, err = cli("--scenario", project / "mine.toml", "--json", "--device", "cpu")
    assert code == 0, err
    nets = project / "code" / "nets.py"
    nets.write_text(FACTORY.replace("(8, 10)", "(8, 10, bias=False)"))
    code, _, err = cli("runs", "rerun", "1", "--json", "--strict")
    assert code == 2 and err.count("\n") == 1
    assert str(nets.resolve()) in err and "changed since the run" in err
    code, _, err = cli("runs", "rerun", "1", "--json")
    assert code == 0
    assert f"model factory {nets.resolve()} changed since the run" in err


def test_a_changed_data_file_is_named(project, cli, runs_dir):
    mnist(project / "data")
    code, _, err = cli("--scenario", project / "mine.toml", "--json", "--device", "cpu")
    assert code == 0, err
    mnist(project / "data", n=14)
    code, _, err = cli("runs", "rerun", "1", "--json", "--strict")
    assert code == 2 and err.count("\n") == 1 and "data " in err and "idx" in err and "(and 3 more)" in err
