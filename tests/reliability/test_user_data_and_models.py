"""A ``train`` scenario's own data and model are checked before training: exit 2 and one line, or they train.

Class labels must be integers >= 0 ((N, 1) is read as (N,)); a run needs 2 training samples and
BatchNorm training batches of 2; a model needs trainable parameters; and what a data factory's
labels or a layer's ``out`` would allocate is estimated (and refused when it cannot fit) before
any model is built. Every refusal happens before the run starts (``forbid_runs``).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_support import TIMEOUT, one_error_line

DATA = textwrap.dedent(
    """
    import torch

    def _xy(n, labels=None, classes=3):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(n, 2, generator=g)
        y = torch.randint(0, classes, (n,), generator=g) if labels is None else labels
        return x, y

    def split(n=40, column=False, negative_at=None, test_negative=False, label=None, test=True):
        x, y = _xy(n)
        if negative_at is not None:
            y[negative_at] = -3
        if label is not None:
            y[0] = label
        if column:
            y = y.unsqueeze(1)
        xt, yt = (x[:8].clone(), y[:8].clone()) if test else (x[:0], y[:0])
        if test_negative:
            yt[2] = -1
        return x, y, xt, yt

    def pairs(n=40):
        x, y = _xy(n)
        y2 = torch.stack([y, y], 1)
        return x, y2, x[:0], y2[:0]

    def samples(n=1):
        x, y = _xy(n)
        return x, y, x[:0], y[:0]
    """
)
MODELS = textwrap.dedent(
    """
    import torch
    from torch import nn

    def frozen():
        m = nn.Linear(2, 3)
        m.requires_grad_(False)
        return m

    def with_bn():
        return nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))

    def wide(width=100_000):
        return nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, 3))
    """
)
LAYERS = '[{type = "linear", out = 8}, {type = "norm"}, {type = "relu"}, {type = "linear"}]'


def scenario(data: str, model: str = f"layers = {LAYERS}", params: str = "") -> str:
    return f"""
experiment = "train"
[params]
steps = 2
batch = 8
log_every = 1
{params}
[model]
{model}
[data]
{data}
"""


@pytest.fixture
def files(tmp_path: Path) -> Callable[[str], Path]:
    """Write a scenario beside the data and model factories; returns its path."""
    (tmp_path / "data.py").write_text(DATA, encoding="utf-8")
    (tmp_path / "models.py").write_text(MODELS, encoding="utf-8")

    def write(text: str, name: str = "mine.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def refused(cli, forbid_runs) -> Callable[..., str]:
    """Run a scenario that must be refused before it starts; returns its one error line."""

    def run(path: Path, *args: str) -> str:
        result = cli("--scenario", str(path), "--json", "--device", "cpu", *args)
        assert result.exit_code == 2, (result.exit_code, result.stderr)
        assert result.stdout == ""
        return one_error_line(result.stderr)

    return run


def completed(cli, path: Path, *args: str) -> dict:
    result = cli("--scenario", str(path), "--json", "--device", "cpu", "--no-save", *args)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "completed"
    return doc


def factory_data(args: str = "") -> str:
    return f'factory = "data.py:split"\n[data.args]\n{args}' if args else 'factory = "data.py:split"'


# --- class labels ------------------------------------------------------------------------------


def test_a_negative_training_label_is_refused_naming_the_sample(files, refused):
    message = refused(files(scenario(factory_data("negative_at = 5"))))
    assert message == (
        "data: factory 'data.py:split': y_train holds label -3 (sample 6); class labels must be integers >= 0"
    )


def test_a_negative_test_label_is_refused(files, refused):
    assert "y_test holds label -1 (sample 3)" in refused(files(scenario(factory_data("test_negative = true"))))


def test_integer_labels_of_shape_n_by_1_train_exactly_as_labels_of_shape_n(files, cli):
    """(N, 1) integer labels are read as (N,): the same run, the same numbers, as the squeezed labels."""
    column = completed(cli, files(scenario(factory_data("column = true")), "column.toml"))
    flat = completed(cli, files(scenario(factory_data()), "flat.toml"))
    assert column["summary"]["model"]["data"]["outputs"] == 3
    assert column["variants"][0]["final"] == flat["variants"][0]["final"]
    assert 0 <= column["variants"][0]["final"]["train_accuracy"] <= 1


def test_integer_labels_of_two_columns_are_refused(files, refused):
    message = refused(files(scenario('factory = "data.py:pairs"')))
    assert "y_train is (40, 2); class labels must be (N,) or (N, 1) integers" in message


# --- sizes ---------------------------------------------------------------------------------------


def test_a_one_sample_data_factory_is_refused(files, refused):
    message = refused(files(scenario('factory = "data.py:samples"')))
    assert message.startswith("data: factory 'data.py:samples': 1 sample(s), less the 1 held out for testing")
    assert message.endswith("a run needs at least 2 training samples")


def test_three_samples_leave_two_to_train_on_and_train(files, cli):
    completed(cli, files(scenario('factory = "data.py:samples"\n[data.args]\nn = 3', "layers = [{type = 'linear'}]")))


@pytest.mark.parametrize(
    ("data", "sets", "expected"),
    [
        ('source = "moons"\nn = 2', (), "data (moons): 2 sample(s), less the 1 held out for testing, leave 1"),
        ('source = "moons"\nn = 32', ("train_size=1",), "data (moons): train_size = 1 leaves 1 sample"),
        ('source = "moons"\nn = 32', ("test_fraction=0.99",), "less the 31 held out for testing, leave 1"),
    ],
)
def test_a_built_in_source_leaving_one_training_sample_is_refused(files, refused, data, sets, expected):
    message = refused(files(scenario(data)), *(a for s in sets for a in ("--set", s)))
    assert expected in message and message.endswith("a run needs at least 2 training samples"), message


def test_a_training_batch_of_one_is_refused_where_batchnorm_would_see_it(files, refused):
    message = refused(files(scenario('source = "moons"\nn = 32')), "--set", "batch=1")
    assert message == (
        "batch: 1 is not allowed with a BatchNorm layer; BatchNorm needs at least 2 samples per batch in training"
    )


def test_a_training_batch_of_one_trains_without_batchnorm(files, cli):
    completed(cli, files(scenario('source = "moons"\nn = 32')), "--set", "batch=1", "--set", "norm=layer")


def test_a_single_test_sample_is_refused_where_batchnorm_evaluates_it_in_train_mode(files, refused):
    message = refused(files(scenario('source = "moons"\nn = 32')), "--set", "test_fraction=0.001")
    assert message.startswith("data (moons): 1 test sample; with a BatchNorm layer a run needs at least 2"), message


def test_a_test_set_of_1025_is_evaluated_in_train_mode_without_a_batch_of_one(files, cli):
    """Evaluation goes 1024 samples at a time; a last batch of one joins the one before."""
    doc = completed(cli, files(scenario('source = "moons"\nn = 4100')))  # 25% held out: 1,025 test samples
    final = doc["variants"][0]["final"]
    assert final["test_size"] == 1025 and final["test_loss_train_mode"] is not None


def test_a_factory_model_with_batchnorm_refuses_a_batch_of_one(files, refused):
    path = files(scenario('source = "spirals"\nn = 32', 'factory = "models.py:with_bn"'))
    message = refused(path, "--set", "batch=1")
    assert message.startswith("batch: 1 is not allowed with a BatchNorm layer"), message


# --- models without anything to train ------------------------------------------------------------


def test_a_factory_model_without_trainable_parameters_is_refused(files, refused):
    message = refused(files(scenario('source = "spirals"\nn = 32', 'factory = "models.py:frozen"')))
    assert message == (
        "model: factory 'models.py:frozen' returns a module without trainable parameters "
        "(none requires grad); nothing would train"
    )


def test_layers_without_trainable_parameters_are_refused(files, refused):
    message = refused(files(scenario('source = "regression"', 'layers = [{type = "relu"}]')))
    assert message.startswith("model: the layers have no trainable parameters"), message


# --- sizes that would not fit: refused before anything is allocated ---------------------------------

AS_LIMIT = 6 * 1024**3  # address space of the refused runs: a regression fails fast, never the OOM killer


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def refused_in_a_small_process(path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "regtui", "--scenario", str(path), "--json", "--device", "cpu", "--no-save"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_limit_memory,
    )
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert done.stdout == ""
    return one_error_line(done.stderr)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS bounds the process on Linux")
@pytest.mark.parametrize(
    ("data", "model", "expected"),
    [
        (factory_data("label = 1_000_000_000_000"), f"layers = {LAYERS}", "1,000,000,000,001 outputs"),
        (factory_data(), 'layers = [{type = "linear", out = 1_000_000_000}, {type = "relu"}, {type = "linear"}]', ""),
        ('source = "moons"', 'layers = [{type = "linear", out = 100_000_000}, {type = "relu"}, {type = "linear"}]', ""),
    ],
    ids=["label 1e12", "out 1e9 with a data factory", "out 1e8"],
)
def test_what_a_plan_would_allocate_is_refused_before_it_is_allocated(files, data, model, expected):
    message = refused_in_a_small_process(files(scenario(data, model)))
    assert message.startswith("memory: this plan needs about "), message
    assert expected in message and "--no-memory-check" in message


def test_a_factory_model_is_measured_for_the_memory_estimate(files, refused, monkeypatch):
    """Its parameters (with gradients and Adam's two moments) are counted once it is built."""
    from regtui import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 8 * 1024**2)
    path = files(scenario('source = "spirals"\nn = 32', 'factory = "models.py:wide"', 'optimizer = "adam"'))
    message = refused(path)  # the plan's own estimate cannot count the factory's model: it has not run
    params = 2 * 100_000 + 100_000 + 100_000 * 3 + 3
    assert message.startswith("memory:") and f"{params:,} parameters × 1 model(s)" in message, message
