"""Bad input to a train scenario: one line on stderr, exit code 2, before any training."""

import json
import subprocess
import sys

import pytest
from custom_support import MLP, invoke

from regtui import scenario as sc
from regtui.specs import ConfigError

DATA = 'source = "moons"\nn = 64'


def one_error(path, *extra):
    code, out, err = invoke("--scenario", path, "--json", "--no-save", *extra)
    assert code == 2, (code, out, err)
    assert out == ""  # nothing ran
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regtui: error: "), err
    return lines[0]


@pytest.mark.parametrize(
    "layers, words",
    [
        ('[{type = "linear", out = 4}, {type = "lstm"}]', ["model layer 2", "unknown layer type 'lstm'"]),
        ('[{type = "linear", outt = 4}]', ["model layer 1 (linear)", "unknown argument 'outt'", "did you mean 'out'"]),
        ('[{type = "conv2d", kernel = 3}]', ["model layer 1 (conv2d): needs out"]),
        (
            '[{type = "linear", out = 8}, {type = "groupnorm", groups = 3}, {type = "linear"}]',
            ["layer 2 (groupnorm)", "divisible by groups = 3", "(8)"],
        ),
        ('[{type = "linear", out = 5}]', ["gives 5 outputs", "2 classes"]),
        ('[{type = "dropout", p = 1.5}, {type = "linear"}]', ["p = 1.5 is not allowed"]),
    ],
)
def test_bad_layers(scenario_file, layers, words):
    text = MLP.format(steps=5, data=DATA).replace(
        'layers = [{type = "flatten"}, {type = "linear", out = 16}, {type = "relu"}, {type = "linear"}]',
        f"layers = {layers}",
    )
    line = one_error(scenario_file(text))
    for w in words:
        assert w in line, line


def test_shapes_that_do_not_chain_name_the_layer_and_the_shapes(scenario_file):
    text = MLP.format(steps=5, data='source = "images"\nn = 64\nsize = 8').replace(
        'layers = [{type = "flatten"}, {type = "linear", out = 16}, {type = "relu"}, {type = "linear"}]',
        'layers = [{type = "conv2d", out = 4}, {type = "linear", out = 3}, {type = "linear"}]',
    )
    line = one_error(scenario_file(text))
    assert "shapes do not chain: model layer 2 (linear) needs flat input" in line
    assert "(4, 6, 6)" in line and "flatten" in line


def test_a_norm_placeholder_is_checked_for_every_variant(scenario_file):
    text = (
        MLP.format(steps=5, data='source = "images"\nn = 64\nsize = 8').replace(
            'layers = [{type = "flatten"}, {type = "linear", out = 16}, {type = "relu"}, {type = "linear"}]',
            'layers = [{type = "conv2d", out = 6}, {type = "norm"}, {type = "flatten"}, {type = "linear"}]',
        )
        + '[[variants]]\nname = "bn"\nnorm = "batch"\n[[variants]]\nname = "gn"\nnorm = "group"\n'
    )
    line = one_error(scenario_file(text))
    assert "layer 2 (groupnorm)" in line and "groups = 4" in line and "norm = 'group'" in line


def test_unknown_data_source_and_argument(scenario_file):
    line = one_error(scenario_file(MLP.format(steps=5, data='source = "mnst"')))
    assert "unknown data source 'mnst'" in line and "did you mean 'mnist'" in line
    line = one_error(scenario_file(MLP.format(steps=5, data='source = "moons"\nnoize = 0.1')))
    assert "data (moons)" in line and "did you mean 'noise'" in line


def test_a_missing_dataset_folder_names_it_and_how_to_get_the_files(scenario_file, tmp_path):
    line = one_error(scenario_file(MLP.format(steps=5, data='source = "mnist"\npath = "no-such-folder"')))
    assert (
        str(tmp_path / "no-such-folder") in line
        and "idx-ubyte" in line
        and f"regtui download mnist {tmp_path / 'no-such-folder'}" in line
    )
    (tmp_path / "empty").mkdir()
    line = one_error(scenario_file(MLP.format(steps=5, data='source = "cifar10"\npath = "empty"')))
    assert "does not hold data_batch_1" in line and "CIFAR-10 python version" in line


def test_classification_loss_on_regression_data(scenario_file):
    path = scenario_file(MLP.format(steps=5, data='source = "regression"'))
    line = one_error(path, "--set", "loss=cross_entropy")
    assert "cross_entropy' needs class labels" in line and "regression" in line


def test_factories_that_cannot_be_imported_or_return_no_module(scenario_file):
    model = '[model]\nfactory = "{ref}"\n'
    base = MLP.format(steps=5, data=DATA).split("[model]")[0]
    data = '[data]\nsource = "moons"\nn = 64\n'
    cases = {
        "missing.py:make": "factory file not found",
        "broken.py:make": "SyntaxError at line 1",
        "nofn.py:make": "defines no 'make'",
        "raises.py:make": "cannot be imported: ZeroDivisionError",
        "notmodule.py:make": "must return a torch.nn.Module, got int",
        "wrongshape.py:make": "the forward pass of a (2, 2) batch failed",
        "no_such_package.models:make": "No module named 'no_such_package'",
    }
    files = {
        "broken__py": "def make(:\n",
        "nofn__py": "def other():\n    return 1\n",
        "raises__py": "1 / 0\ndef make():\n    pass\n",
        "notmodule__py": "def make():\n    return 3\n",
        "wrongshape__py": "from torch import nn\ndef make():\n    return nn.Linear(5, 2)\n",
    }
    for ref, words in cases.items():
        path = scenario_file(base + model.format(ref=ref) + data, **files)
        line = one_error(path)
        assert words in line, (ref, line)


def test_a_data_factory_that_returns_the_wrong_thing(scenario_file):
    base = MLP.format(steps=5, data="").split("[data]")[0]
    path = scenario_file(base + '[data]\nfactory = "d.py:load"\n', d__py="def load():\n    return 1, 2\n")
    assert "must return (x_train, y_train, x_test, y_test) tensors" in one_error(path)


def test_unknown_top_level_tables_stay_refused_for_other_kinds(write_toml):
    path = write_toml('experiment = "weight-decay"\n[model]\nfactory = "a.py:b"\n')
    with pytest.raises(ConfigError, match="unknown top-level key 'model'"):
        sc.load(path)
    path = write_toml('experiment = "train"\n[data]\nsource = "moons"\n')
    with pytest.raises(ConfigError, match=r"needs a \[model\] table"):
        sc.load(path)


def test_digits_run_without_scikit_learn():
    """The digits ship with regtui: the README's first command (no scikit-learn) runs the digits scenarios."""
    code = (
        "import sys\nsys.modules['sklearn'] = None\n"  # blocked: as if not installed
        "from regtui.cli import main\nsys.argv = ['regtui', *sys.argv[1:]]\nmain()\n"
    )
    args = ["--scenario", "digits-overfit", "--no-save", "--json", "--set", "steps=10", "--set", "log_every=5"]
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["status"] == "completed" and all(v["final"]["test_accuracy"] >= 0 for v in doc["variants"])
