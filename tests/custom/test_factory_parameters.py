"""A factory model's arguments are parameters, and only parameters that act are taken.

The factory here writes every call's keyword arguments to a file, so the tests see what each run
really built its model with; a parameter that cannot act (dropout for a factory without a dropout
argument, norm without a norm layer, momentum with Adam) is a one-line error, exit 2.
"""

import json
import re

import pytest
from custom_support import invoke, run_json

FACTORY = """
import json
from torch import nn

def make(width=8, act="relu", dropout=0.0):
    with open({calls!r}, "a") as f:
        f.write(json.dumps({{"width": width, "act": act, "dropout": dropout}}) + "\\n")
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, width), nn.ReLU() if act == "relu" else nn.Tanh(), nn.Dropout(dropout),
        nn.Linear(width, 10),
    )

def plain(width=8):
    return nn.Sequential(nn.Flatten(), nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))

def clash(width=8, batch=4):
    return plain(width)
"""

SCENARIO = """
experiment = "train"
[params]
steps = 4
batch = 16
log_every = 2
[model]
factory = "net.py:{fn}"
[model.args]
{args}
[data]
source = "digits"
"""


@pytest.fixture
def factory(scenario_file, tmp_path):
    """A scenario of the recording factory; returns (path, calls) where calls() lists its calls."""
    log = tmp_path / "calls.jsonl"

    def write(args="width = 16", fn="make", extra=""):
        path = scenario_file(SCENARIO.format(fn=fn, args=args) + extra, net__py=FACTORY.format(calls=str(log)))
        return path

    def calls():
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return write, calls


def test_a_sweep_of_a_factory_argument_builds_each_value(factory):
    write, calls = factory
    doc = run_json(write(), "--sweep", "width=4,32", "--set", "act=tanh")
    assert [v["name"] for v in doc["variants"]] == ["width=4", "width=32"]
    assert [v["params"]["width"] for v in doc["variants"]] == [4, 32]
    built = {(c["width"], c["act"]) for c in calls()}
    assert built == {(4, "tanh"), (32, "tanh")}
    # the trained models have the widths: parameters of Linear(64, w) + Linear(w, 10)
    assert [v["final"]["parameters"] for v in doc["variants"]] == [64 * w + w + w * 10 + 10 for w in (4, 32)]


def test_variants_set_factory_arguments(factory):
    write, calls = factory
    variants = '\n[[variants]]\nname = "narrow"\nwidth = 2\n[[variants]]\nname = "wide"\nwidth = 64\n'
    doc = run_json(write(extra=variants))
    assert {c["width"] for c in calls()} == {2, 64}
    assert [v["params"]["width"] for v in doc["variants"]] == [2, 64]


def test_dropout_reaches_a_factory_that_takes_it(factory):
    write, calls = factory
    doc = run_json(write(), "--sweep", "dropout=0,0.3")
    assert {c["dropout"] for c in calls()} == {0.0, 0.3}
    assert [v["params"]["dropout"] for v in doc["variants"]] == [0.0, 0.3]


def test_the_factory_default_of_dropout_is_the_parameter_default(factory):
    write, calls = factory
    doc = run_json(write())
    assert {c["dropout"] for c in calls()} == {0.0}  # make's own default, not the train kind's 0.5
    assert doc["params"]["dropout"] == 0.0


@pytest.mark.parametrize(
    "fn, args, extra, match",
    [
        (
            "make",
            "widht = 3",
            (),
            r"model\.args: unknown argument 'widht' for factory 'net\.py:make'; did you "
            r"mean 'width'\? \(known: act, dropout, width\)",
        ),
        ("make", "width = 3", ("--set", "widht=4"), r"unknown parameter 'widht' for train; did you mean 'width'"),
        ("clash", "batch = 3", (), r"model\.args: 'batch' is also a parameter of the train kind"),
        (
            "plain",
            "width = 3",
            ("--set", "dropout=0.3"),
            r"dropout: the model factory 'net\.py:plain' takes no dropout argument, so dropout would not act",
        ),
        (
            "plain",
            "width = 3",
            ("--sweep", "norm=batch,group"),
            r"norm: the model factory 'net\.py:plain' takes no norm",
        ),
        (
            "make",
            "width = 3",
            ("--set", "optimizer=adam", "--set", "momentum=0.5"),
            r"momentum: SGD's momentum; optimizer = adam does not use it",
        ),
    ],
)
def test_parameters_that_cannot_act_are_one_line_errors(factory, fn, args, extra, match):
    write, calls = factory
    code, _, err = invoke("--scenario", write(args=args, fn=fn), "--json", "--no-save", *extra)
    assert code == 2
    assert err.count("\n") == 1
    assert re.search(match, err), err
    assert calls() == []  # refused before any model was built


def test_the_document_holds_only_parameters_that_acted(factory):
    write, _ = factory
    doc = run_json(write(fn="plain"), "--sweep", "optimizer=sgd,adam", "--set", "momentum=0.5")
    assert "dropout" not in doc["params"] and "norm" not in doc["params"] and "norm_groups" not in doc["params"]
    sgd, adam = doc["variants"]
    assert sgd["params"]["momentum"] == 0.5 and "beta1" not in sgd["params"]
    assert "momentum" not in adam["params"] and adam["params"]["beta1"] == 0.9


def test_a_module_factory_is_checked_against_its_signature_when_called(scenario_file, tmp_path, monkeypatch):
    (tmp_path / "mynets_sweeps.py").write_text(FACTORY.format(calls=str(tmp_path / "c.jsonl")), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = scenario_file(SCENARIO.format(fn="make", args="depth = 3").replace("net.py:", "mynets_sweeps:"))
    code, _, err = invoke("--scenario", path, "--json", "--no-save")
    assert code == 2 and err.count("\n") == 1
    assert "model.args: unknown argument 'depth' for factory 'mynets_sweeps:make'" in err
    assert "(known: width, act, dropout)" in err or "(known: act, dropout, width)" in err


def test_label_smoothing_with_mse_is_an_error_and_left_out_where_it_does_not_act(factory):
    write, _ = factory
    code, _, err = invoke(
        "--scenario", write(), "--json", "--no-save", "--set", "loss=mse", "--set", "label_smoothing=0.1"
    )
    assert code == 2 and "label_smoothing: cross_entropy's label_smoothing; loss = mse does not use it" in err
    doc = run_json(write(), "--sweep", "loss=mse,cross_entropy", "--set", "label_smoothing=0.1")
    mse, ce = doc["variants"]
    assert "label_smoothing" not in mse["params"] and ce["params"]["label_smoothing"] == 0.1
