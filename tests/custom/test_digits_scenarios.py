"""The bundled digits scenarios: end to end with few steps, and the claims of their explanations."""

import pytest
from custom_support import run_json

pytest.importorskip("sklearn")


def test_digits_norms_end_to_end_with_few_steps():
    doc = run_json("digits-norms", "--set", "steps=4", "--set", "log_every=2", "--seeds", "1")
    names = [v["name"] for v in doc["variants"]]
    assert names == [
        f"{n} · batch={b}" for n in ("BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm") for b in (2, 64)
    ]
    layers = {v["name"]: v for v in doc["variants"]}
    assert len(layers["LayerNorm · batch=2"]["layers"]["std"]) == 10
    rows = doc["tables"]["running_stats"]["rows"]
    assert {r[0] for r in rows} == {"BatchNorm · batch=2", "BatchNorm · batch=64"}
    assert {r[3] for r in rows} == {"1.batchnorm2d", "5.batchnorm2d"}


@pytest.fixture(scope="module")
def overfit():
    return {v["name"]: v for v in run_json("digits-overfit")["variants"]}


def test_overfit_every_variant_learns_the_training_digits_and_tests_lower(overfit):
    for v in overfit.values():
        assert v["final"]["train_accuracy"] == 1.0
        assert v["final"]["test_accuracy"] < 0.93
        assert v["final"]["train_size"] == 100 and v["final"]["test_size"] == 898
    assert overfit["plain"]["final"]["train_loss"] < 1e-3


def test_overfit_weight_decay_halves_the_weights_and_lowers_the_test_loss(overfit):
    plain, wd = overfit["plain"]["final"], overfit["weight decay"]["final"]
    assert wd["weight_norm"] < 0.6 * plain["weight_norm"]
    assert wd["test_loss"] < plain["test_loss"]
    assert overfit["both"]["final"]["test_loss"] < overfit["dropout 0.5"]["final"]["test_loss"]


def test_overfit_forgetting_eval_costs_the_dropout_nets_accuracy(overfit):
    for name in ("dropout 0.5", "both"):
        f = overfit[name]["final"]
        assert f["test_accuracy_train_mode"] < f["test_accuracy"] - 0.02
    for name in ("plain", "weight decay"):
        f = overfit[name]["final"]
        assert f["test_accuracy_train_mode"] == f["test_accuracy"]
