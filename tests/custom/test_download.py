"""``regtui download``: torchvision's download when asked, one-line errors otherwise; no network in tests.

A stand-in ``torchvision`` module (put in ``sys.modules``) writes the files in
their real on-disk formats, as torchvision's own download leaves them, or
fails as a download fails without a network.
"""

from __future__ import annotations

import importlib.metadata
import sys
import types
import urllib.error

import pytest
from click.testing import CliRunner
from custom_support import MLP, run_json
from test_data import write_cifar, write_mnist

from regtui.cli import main


def fake_torchvision(monkeypatch, fetch):
    """A torchvision whose datasets call ``fetch(kind, root, train)``; records the calls."""
    calls = []

    def dataset(kind):
        def make(root, train=True, download=False):
            calls.append((kind, root, train, download))
            fetch(kind, root, train)

        return make

    module = types.ModuleType("torchvision")
    module.datasets = types.SimpleNamespace(**{k: dataset(k) for k in ("MNIST", "FashionMNIST", "CIFAR10")})
    monkeypatch.setitem(sys.modules, "torchvision", module)
    return calls


def invoke(*args):
    result = CliRunner().invoke(main, ["download", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def test_download_mnist_then_a_scenario_reads_it(monkeypatch, tmp_path, scenario_file):
    from pathlib import Path

    def fetch(kind, root, train):  # torchvision leaves MNIST in ROOT/MNIST/raw
        raw = Path(root) / kind / "raw"
        if not raw.exists():
            write_mnist(raw, gz=False)

    calls = fake_torchvision(monkeypatch, fetch)
    folder = tmp_path / "data"
    code, out, err = invoke("mnist", folder)
    assert code == 0, err
    assert [(c[0], c[2], c[3]) for c in calls] == [("MNIST", True, True), ("MNIST", False, True)]
    assert f'source = "mnist", path = "{folder}"' in out
    doc = run_json(
        scenario_file(MLP.format(steps=6, data=f'source = "mnist"\npath = "{folder}"')), "--set", "log_every=3"
    )
    assert doc["status"] == "completed"
    final = doc["variants"][0]["final"]
    # what the stand-in wrote: 40 training samples (36 train, 4 validate: val_fraction 0.1) and 12 test
    assert (final["train_size"], final["val_size"], final["test_size"]) == (36, 4, 12)
    # A second download finds the files and never touches the network (torchvision is not called again).
    code, _, _ = invoke("mnist", folder)
    assert code == 0 and len(calls) == 2


def test_download_cifar10_lands_where_the_reader_looks(monkeypatch, tmp_path):
    from pathlib import Path

    from regtui.custom_specs import sources

    fake_torchvision(
        monkeypatch, lambda kind, root, train: write_cifar(Path(root) / "cifar-10-batches-py") if train else None
    )
    code, _, err = invoke("cifar10", tmp_path / "c")
    assert code == 0, err
    assert sources.find_files(tmp_path / "c", sources.CIFAR_FILES, gz=False) is not None


def test_no_network_is_one_line_naming_the_folder_and_the_manual_way(monkeypatch, tmp_path):
    def fetch(kind, root, train):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://..., got:\n<urlopen error>")

    fake_torchvision(monkeypatch, fetch)
    code, out, err = invoke("fashion-mnist", tmp_path / "f")
    assert code == 2 and out == ""
    line = err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "could not download fashion-mnist" in line and str(tmp_path / "f") in line
    assert "Error downloading train-images-idx3-ubyte.gz" in line and "zalandoresearch" in line


def test_url_error_too(monkeypatch, tmp_path):
    def fetch(kind, root, train):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    fake_torchvision(monkeypatch, fetch)
    code, _, err = invoke("mnist", tmp_path / "m")
    assert code == 2 and "name resolution" in err and err.count("\n") == 1


def test_without_torchvision_the_error_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # import fails as if not installed
    code, _, err = invoke("mnist", tmp_path / "m")
    assert code == 2 and "torchvision==" in err and "is not installed" in err and err.count("\n") == 1


@pytest.mark.parametrize("args", [("svhn", "x"), ("mnist",)])
def test_bad_arguments(args):
    code, _, err = invoke(*args)
    assert code == 2
    assert ("unknown source 'svhn'" in err and "mnist, fashion-mnist, cifar10" in err) or "Missing argument" in err


def test_a_torchvision_built_for_another_torch_is_one_line(monkeypatch, tmp_path):
    """Seen in a trial: a CUDA torchvision beside a CPU torch fails at import with a RuntimeError."""
    import builtins

    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "torchvision":
            raise RuntimeError("operator torchvision::nms does not exist")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "torchvision", raising=False)
    monkeypatch.setattr(builtins, "__import__", broken)
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "2.13.0+cpu")  # a CPU torch 2.13 here
    code, _, err = invoke("mnist", tmp_path / "m")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "does not load with this torch (operator torchvision::nms does not exist)" in err
    assert err.strip().endswith('pip install "torchvision==0.28.*" --index-url https://download.pytorch.org/whl/cpu')
