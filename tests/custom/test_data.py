"""The MNIST and CIFAR-10 readers on small files in the real on-disk formats, and factories from files."""

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch
from custom_support import MLP, run_json

from regtui.engine.custom import data as data_mod


def write_idx(path, array, gz):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)


def write_mnist(folder, n_train=40, n_test=12, gz=True):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    for name, a in arrays.items():
        write_idx(folder / name, a, gz)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reader_reads_idx_files(tmp_path, gz):
    arrays = write_mnist(tmp_path / "mnist", gz=gz)
    x_train, y_train, x_test, y_test = data_mod.load_mnist.__wrapped__(tmp_path / "mnist")
    assert x_train.shape == (40, 1, 28, 28) and x_test.shape == (12, 1, 28, 28)
    assert torch.equal(x_train[:, 0], torch.tensor(arrays["train-images-idx3-ubyte"], dtype=torch.float32) / 255)
    assert y_train.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    assert y_test.dtype == torch.int64


def test_a_bad_idx_file_is_a_one_line_error(tmp_path):
    (tmp_path / "f").write_bytes(b"\x00\x00\x09\x01\x00\x00\x00\x02ab")
    with pytest.raises(Exception, match="not an idx-ubyte file"):
        data_mod.read_idx(tmp_path / "f")


def write_cifar(folder, per_batch=6):
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True)
    batches = {}
    for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
        batch = {
            b"batch_label": name.encode(),
            b"labels": [int(v) for v in rng.integers(0, 10, per_batch)],
            b"data": rng.integers(0, 256, (per_batch, 3072)).astype(np.uint8),
            b"filenames": [b"x.png"] * per_batch,
        }
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
        batches[name] = batch
    return batches


def test_cifar_reader_reads_python_batches(tmp_path):
    batches = write_cifar(tmp_path / "cifar-10-batches-py")
    x_train, _, x_test, y_test = data_mod.load_cifar10.__wrapped__(tmp_path)  # finds the archive's folder
    assert x_train.shape == (30, 3, 32, 32) and x_test.shape == (6, 3, 32, 32)
    first = torch.tensor(batches["data_batch_1"][b"data"][0].reshape(3, 32, 32), dtype=torch.float32) / 255
    assert torch.equal(x_train[0], first)
    assert y_test.tolist() == batches["test_batch"][b"labels"]


def test_cifar_reader_refuses_pickles_that_run_code(tmp_path):
    # builtins.print called on load, written by hand: pickle.dumps(print) names whatever replaced
    # builtins.print in this process (Ray, once imported by another test, puts its own there)
    evil = b"}(C\x04data" + b"cbuiltins\nprint\n(Vpwned\ntR" + b"C\x06labels]u."  # {b"data": print("pwned"), …}
    (tmp_path / "b").write_bytes(evil)
    with pytest.raises(Exception, match=r"builtins\.print is not allowed"):
        data_mod.read_cifar_batch(tmp_path / "b")


def test_mnist_scenario_end_to_end_with_train_size(scenario_file, tmp_path):
    write_mnist(tmp_path / "mnist" / "raw", gz=True)  # torchvision's layout works too
    doc = run_json(
        scenario_file(MLP.format(steps=6, data='source = "mnist"\npath = "mnist"')),
        "--set",
        "train_size=32",
        "--set",
        "log_every=3",
    )
    final = doc["variants"][0]["final"]
    assert final["train_size"] == 32 and final["test_size"] == 12
    assert doc["summary"]["model"]["data"]["input_shape"] == [1, 28, 28]
    assert doc["variants"][0]["series"]["step"] == [3, 6]


def test_cifar_scenario_end_to_end(scenario_file, tmp_path):
    write_cifar(tmp_path / "c")
    doc = run_json(
        scenario_file(MLP.format(steps=4, data='source = "cifar10"\npath = "c"')),
        "--set",
        "batch=8",
        "--set",
        "log_every=2",
    )
    assert doc["status"] == "completed"
    assert doc["summary"]["model"]["layers"][1]["parameters"] == 3 * 32 * 32 * 16 + 16


FACTORY = """
import torch
from torch import nn

def make(width=8, classes=2):
    return nn.Sequential(nn.Linear(2, width), nn.BatchNorm1d(width), nn.Tanh(), nn.Dropout(0.3),
                         nn.Linear(width, classes))

def load(n=80):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, generator=g)
    y = (x[:, 0] * x[:, 1] > 0).long()
    return x[:60], y[:60], x[60:], y[60:]
"""


def test_factory_model_and_data_from_a_file(scenario_file):
    text = (
        'experiment = "train"\n[params]\nsteps = 10\nbatch = 8\nlog_every = 5\n'
        '[model]\nfactory = "nets.py:make"\n[model.args]\nwidth = 6\n'
        '[data]\nfactory = "nets.py:load"\n'
    )
    doc = run_json(scenario_file(text, nets__py=FACTORY), "--seeds", "2")
    model = doc["summary"]["model"]
    assert [layer["name"] for layer in model["layers"]] == ["0", "1", "2", "3", "4"]
    assert model["layers"][1]["module"] == "BatchNorm1d" and model["layers"][0]["output_shape"] == [6]
    v = doc["variants"][0]
    # the factory's 60 training samples less the validation split's 6 (val_fraction 0.1)
    assert v["final"]["train_size"] == 54 and v["final"]["val_size"] == 6 and v["final"]["test_size"] == 20
    assert {"weight_norm/0", "grad_norm/4", "test_loss_train_mode", "test_accuracy"} <= set(v["series"])
    assert len(v["layers_training"]["std"]) == 5
    rows = doc["tables"]["running_stats"]["rows"]
    assert {r[3] for r in rows} == {"1"} and {r[1] for r in rows} == {0, 1}


def test_regression_with_mse(scenario_file):
    doc = run_json(scenario_file(MLP.format(steps=20, data='source = "regression"\nn = 40')))
    final = doc["variants"][0]["final"]
    assert "test_accuracy" not in final and final["test_loss"] >= 0


def test_the_bundled_digits_are_scikit_learns_load_digits():
    """regtui's copy of the digits (regtui/data) against scikit-learn's own loader."""
    from sklearn.datasets import load_digits as sk_load

    data_mod.load_digits.cache_clear()
    x, y = data_mod.load_digits()
    bunch = sk_load()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.equal(x, torch.tensor(bunch.data, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0)
    assert torch.equal(y, torch.tensor(bunch.target))


def test_digits_load_without_scikit_learn_in_a_fresh_process():
    import subprocess
    import sys

    code = (
        "import sys; from regtui.engine.custom.data import load_digits; x, y = load_digits(); "
        "print(len(y), 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["1797", "False"]  # no scikit-learn at all (importing sklearn.datasets costs a second)
