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
    from regtui import scenario as sc

    assert "tested on 898 others" in sc.load(sc.find("digits-overfit")).summary  # the picker's line says so too
    assert overfit["plain"]["final"]["train_loss"] < 1e-3


def test_overfit_weight_decay_halves_the_weights_and_lowers_the_test_loss(overfit):
    plain, wd = overfit["plain"]["final"], overfit["weight decay"]["final"]
    assert wd["weight_norm"] < 0.6 * plain["weight_norm"]
    assert wd["test_loss"] < plain["test_loss"]
    assert overfit["both"]["final"]["test_loss"] < overfit["dropout 0.5"]["final"]["test_loss"]


def test_overfit_dropout_stays_within_a_seeds_spread_of_plain(overfit):
    plain, dropout = overfit["plain"], overfit["dropout 0.5"]
    gap = abs(dropout["final"]["test_accuracy"] - plain["final"]["test_accuracy"])
    assert gap <= max(plain["final_std"]["test_accuracy"], dropout["final_std"]["test_accuracy"])
    assert dropout["final"]["weight_norm"] > 1.4 * plain["final"]["weight_norm"]  # 27.6 vs 17.3


def test_overfit_forgetting_eval_costs_the_dropout_nets_accuracy(overfit):
    for name in ("dropout 0.5", "both"):
        f = overfit[name]["final"]
        assert f["test_accuracy"] - 0.08 < f["test_accuracy_train_mode"] < f["test_accuracy"] - 0.02  # 3-7 points
    for name in ("plain", "weight decay"):
        f = overfit[name]["final"]
        assert f["test_accuracy_train_mode"] == f["test_accuracy"]


@pytest.fixture(scope="module")
def norms():
    """The whole digits-norms scenario at its defaults (about 25 s on 2 cores)."""
    return {v["name"]: v for v in run_json("digits-norms")["variants"]}


NORMS = ("BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm")


def test_norms_alike_at_batch_64_and_lower_noisier_at_batch_2(norms):
    """The explanation: batch 64, test accuracy 0.982-0.987 for all four; batch 2, 0.76-0.92 with std up to 0.07."""
    big = [norms[f"{n} · batch=64"]["final"]["test_accuracy"] for n in NORMS]
    assert min(big) >= 0.98 and max(big) <= 0.99 and max(big) - min(big) <= 0.01
    for n in NORMS:
        small = norms[f"{n} · batch=2"]
        assert 0.75 <= small["final"]["test_accuracy"] <= 0.93
        assert small["final"]["test_accuracy"] < norms[f"{n} · batch=64"]["final"]["test_accuracy"] - 0.05
        assert small["final_std"]["test_accuracy"] <= 0.075
    assert max(norms[f"{n} · batch=2"]["final_std"]["test_accuracy"] for n in NORMS) >= 0.05  # noisier: "up to 0.07"


def test_norms_batchnorm_at_batch_2_eval_matches_train_mode(norms):
    f = norms["BatchNorm · batch=2"]["final"]
    assert 0.9 <= f["test_accuracy"] <= 0.94
    assert abs(f["test_accuracy"] - f["test_accuracy_train_mode"]) <= 0.01


def test_norms_only_batchnorm_differs_between_train_and_eval_mode():
    """'The other three normalize each sample by itself, identically in train and eval mode': the scenario's own
    nets (built by regtui from its layer list) give the same outputs in both modes, bit for bit, and hold no
    running statistics; BatchNorm's differ."""
    from pathlib import Path

    import torch
    from torch.nn.modules.batchnorm import _BatchNorm

    from regtui import scenario as sc
    from regtui.engine.custom import model as model_mod

    s = sc.load(sc.find("digits-norms"))
    x = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 3 + 1
    for run in sc.plan(s, seeds=1).runs:
        torch.manual_seed(0)
        model, _ = model_mod.build(s.tables, Path(s.path).parent, (1, 8, 8), 10, run.params)
        with torch.no_grad():
            train_out = model.train()(x)
            eval_out = model.eval()(x)
        is_bn = any(isinstance(m, _BatchNorm) for m in model.modules())
        assert is_bn == run.params["norm"].startswith("batch"), run.params["norm"]
        assert any(len(list(m.buffers())) for m in model.modules()) == is_bn
        assert torch.equal(train_out, eval_out) != is_bn
