"""The bundled digits scenarios: end to end with few steps, and the claims of their explanations."""

import pytest
from custom_support import run_json


def test_digits_norms_end_to_end_with_few_steps():
    doc = run_json("digits-norms", "--set", "steps=4", "--set", "log_every=2", "--seeds", "1")
    names = [v["name"] for v in doc["variants"]]
    assert names == [
        f"{n} · batch={b}" for n in ("BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm") for b in (2, 64)
    ]
    layers = {v["name"]: v for v in doc["variants"]}
    assert len(layers["LayerNorm · batch=2"]["layers_training"]["std"]) == 10
    rows = doc["tables"]["running_stats"]["rows"]
    assert {r[0] for r in rows} == {"BatchNorm · batch=2", "BatchNorm · batch=64"}
    assert {r[3] for r in rows} == {"1.batchnorm2d", "5.batchnorm2d"}


def _finals(name: str, device: str, seeds: int, sets: dict | None = None) -> dict[tuple, dict[int, dict]]:
    """Run the bundled scenario ``name`` over seeds 0..seeds-1 on ``device``; returns
    (the run's varied parameters) -> seed -> final. Keyed by parameters, not labels, so a change in
    how labels are written cannot break the claims."""
    from regtui import scenario as sc
    from regtui.engine import run_plan
    from regtui.events import Final

    s = sc.load(sc.find(name))
    plan = sc.plan(s, sets=sets or {}, seed=0, seeds=seeds)
    keys = sorted({k for v in s.variants for k in v.overrides} | set(plan.sweep))
    key_of = {r.variant: tuple(r.params[k] for k in keys) for r in plan.runs}
    events: list = []
    finished = run_plan(plan, device, emit=events.append)
    assert finished.status == "completed", finished.error
    out: dict[tuple, dict[int, dict]] = {}
    for e in events:
        if isinstance(e, Final):
            out.setdefault(key_of[e.variant], {}).setdefault(e.seed, {}).update(e.values)
    return out


OVERFIT_SEEDS = tuple(range(5))


@pytest.fixture(scope="module")
def overfit(lesson_device):
    """digits-overfit at its defaults, seeds 0–4 (stacked): variant -> seed -> final.

    The claims' margins were measured over seeds 0–4 under five numerics settings (default,
    ATEN_CPU_CAPABILITY=default and =avx2, MKL_CBWR=COMPATIBLE, both)."""
    finals = _finals("digits-overfit", lesson_device, len(OVERFIT_SEEDS))
    names = {(0.0, 0.0): "plain", (0.5, 0.0): "dropout 0.5", (0.0, 0.005): "weight decay", (0.5, 0.005): "both"}
    assert set(finals) == set(names)  # keyed by (dropout, weight_decay)
    return {names[k]: v for k, v in finals.items()}


def _over(overfit, name, key):
    return [overfit[name][s][key] for s in OVERFIT_SEEDS]


def test_overfit_text_states_ranges_over_seeds():
    from regtui import scenario as sc

    text = " ".join(sc.load(sc.find("digits-overfit")).explanation.split())
    for phrase in (
        "Measured on seeds 0–4 under five numerics settings",
        "(train accuracy 1.00 on every seed) but gets only about 89 % of the test digits right (0.85–0.93)",
        "`plain`: test loss 0.3–0.7, train loss ≈ 0 (below 0.002)",
        "about 9 instead of about 17.5 (8.5–9.5 vs 17–18), under 0.6 times `plain`'s on every seed",
        "(0.3–0.45; below `plain`'s, and `both`'s below `dropout 0.5`'s, on at least 4 of the 5 seeds)",
        "stays within 3 points of `plain`'s on every seed",
        "within 4 points of `plain`'s on every seed, about as much as `plain`'s own accuracy moves from seed "
        "to seed (0.86–0.93)",
        "(25–32, over 1.4 times `plain`'s)",
        "2–9 points for `dropout 0.5`, 1–6 for `both`; without dropout the two modes agree exactly",
    ):
        assert phrase in text, phrase
    assert "±" not in text.replace("mean ± std", "")  # no mean ± std of one run as the figure to expect


def test_overfit_every_variant_learns_the_training_digits_and_tests_lower(overfit):
    """Measured: train accuracy 1.0 everywhere; test accuracy 0.871–0.913; plain test loss 0.37–0.59,
    train loss ≤ 5.7e-4."""
    for per_seed in overfit.values():
        for f in per_seed.values():
            assert f["train_accuracy"] == 1.0
            assert 0.85 <= f["test_accuracy"] <= 0.93
            assert f["train_size"] == 100 and f["test_size"] == 898
    accuracies = [f["test_accuracy"] for per_seed in overfit.values() for f in per_seed.values()]
    assert sum(accuracies) / len(accuracies) == pytest.approx(0.89, abs=0.015)  # "about 89 %"
    from regtui import scenario as sc

    assert "tested on 898 others" in sc.load(sc.find("digits-overfit")).summary  # the picker's line says so too
    assert all(0.3 <= x <= 0.7 for x in _over(overfit, "plain", "test_loss"))
    assert all(x < 0.002 for x in _over(overfit, "plain", "train_loss"))


def test_overfit_weight_decay_halves_the_weights_and_lowers_the_test_loss(overfit):
    """Measured: weight norms 8.9–9.1 vs 17.2–17.6; weight decay's test loss 0.35–0.42, below plain's and
    both's below dropout's on 5 of 5 seeds; accuracy within 1.6 points of plain."""
    plain, wd = overfit["plain"], overfit["weight decay"]
    both, dropout = overfit["both"], overfit["dropout 0.5"]
    for s in OVERFIT_SEEDS:
        assert 8.5 <= wd[s]["weight_norm"] <= 9.5 and 17 <= plain[s]["weight_norm"] <= 18
        assert wd[s]["weight_norm"] < 0.6 * plain[s]["weight_norm"]
        assert 0.3 <= wd[s]["test_loss"] <= 0.45
        assert abs(wd[s]["test_accuracy"] - plain[s]["test_accuracy"]) <= 0.03
    assert sum(wd[s]["test_loss"] < plain[s]["test_loss"] for s in OVERFIT_SEEDS) >= 4
    assert sum(both[s]["test_loss"] < dropout[s]["test_loss"] for s in OVERFIT_SEEDS) >= 4


def test_overfit_dropout_stays_within_a_seeds_spread_of_plain(overfit):
    """Measured: dropout − plain accuracy −2.0 to +2.2 points; plain 0.871–0.913 over the seeds;
    dropout's weight norm 25.4–31.4, at least 1.47 times plain's."""
    plain, dropout = overfit["plain"], overfit["dropout 0.5"]
    for s in OVERFIT_SEEDS:
        assert abs(dropout[s]["test_accuracy"] - plain[s]["test_accuracy"]) <= 0.04
        assert 25 <= dropout[s]["weight_norm"] <= 32
        assert dropout[s]["weight_norm"] > 1.4 * plain[s]["weight_norm"]
    plain_acc = _over(overfit, "plain", "test_accuracy")
    assert all(0.86 <= x <= 0.93 for x in plain_acc)
    assert max(plain_acc) - min(plain_acc) >= 0.02  # the seed alone moves plain by points, too


def test_overfit_forgetting_eval_costs_the_dropout_nets_accuracy(overfit):
    """Measured: train mode costs dropout 0.5 2.6–7.9 points, both 1.7–4.7; nothing without dropout."""
    for name, low, high in (("dropout 0.5", 0.02, 0.09), ("both", 0.01, 0.06)):
        for f in overfit[name].values():
            assert low <= f["test_accuracy"] - f["test_accuracy_train_mode"] <= high
    for name in ("plain", "weight decay"):
        for f in overfit[name].values():
            assert f["test_accuracy_train_mode"] == f["test_accuracy"]


NORMS = ("batch", "layer", "group", "instance")
NORMS_SEEDS = tuple(range(5))


@pytest.fixture(scope="module")
def norms(lesson_device):
    """digits-norms, seeds 0–4: (norm, batch) -> seed -> final. The claims' margins were measured over
    seeds 0–4 under five numerics settings (default, ATEN_CPU_CAPABILITY=default and =avx2,
    MKL_CBWR=COMPATIBLE, both). ``log_every = 500`` logs once instead of ten times: logging changes
    nothing in training (the train-mode test pass restores BatchNorm's statistics and the RNG), so the
    finals are the default run's, bit for bit, for about 15 % less time."""
    finals = _finals("digits-norms", lesson_device, len(NORMS_SEEDS), sets={"log_every": 500})
    assert set(finals) == {(b, n) for n in NORMS for b in (2, 64)}  # keyed by (batch, norm)
    return {(n, b): per_seed for (b, n), per_seed in finals.items()}


def _accuracy(norms, norm, batch):
    return [norms[(norm, batch)][s]["test_accuracy"] for s in NORMS_SEEDS]


def test_norms_text_states_ranges_over_seeds():
    from regtui import scenario as sc

    text = " ".join(sc.load(sc.find("digits-norms")).explanation.split())
    for phrase in (
        "Measured on seeds 0–4 under five numerics settings",
        "test accuracy 0.97–1.00 for all four on every seed, and on each seed the four lie within 2 points",
        "below its batch-64 accuracy on at least 4 of the 5 seeds",
        "test accuracy 0.6–0.96, its std over the seeds 0.02–0.15 against at most 0.01 at batch 64",
        "its eval-mode test accuracy (0.8–0.96) stays within 3 points of the train-mode one on every seed",
    ):
        assert phrase in text, phrase
    assert "±" not in text.replace("mean ± std", "")


def test_norms_text_states_the_split_it_trains_on():
    """The text's sample counts: scikit-learn's 1,797 digits, test_fraction of them (rounded) held out
    for testing, none for validation (val_fraction = 0), the rest trains."""
    import re

    from sklearn.datasets import load_digits

    from regtui import scenario as sc

    loaded = sc.load(sc.find("digits-norms"))
    text = " ".join(loaded.explanation.split())
    found = re.search(r"\(([\d,]+) for training, ([\d,]+) for testing\)", text)
    assert found, "the text names its split"
    train, test = (int(x.replace(",", "")) for x in found.groups())
    n = len(load_digits().target)
    assert loaded.params["val_fraction"] == 0
    assert test == round(loaded.params["test_fraction"] * n) and train == n - test


def test_norms_alike_at_batch_64_and_lower_noisier_at_batch_2(norms):
    """Measured: batch 64 0.981–0.994, the four within 0.9 points on each seed, std ≤ 0.005; batch 2
    0.636–0.948, below batch 64 on 5 of 5 seeds for every norm, std 0.038–0.105."""
    from statistics import stdev

    for s in NORMS_SEEDS:
        big = [norms[(n, 64)][s]["test_accuracy"] for n in NORMS]
        assert all(0.97 <= x <= 1.0 for x in big)
        assert max(big) - min(big) <= 0.02
    for n in NORMS:
        small, big = _accuracy(norms, n, 2), _accuracy(norms, n, 64)
        assert all(0.6 <= x <= 0.96 for x in small)
        assert sum(a < b for a, b in zip(small, big)) >= 4
        assert 0.02 <= stdev(small) <= 0.15
        assert stdev(big) <= 0.01


def test_norms_batchnorm_at_batch_2_eval_matches_train_mode(norms):
    """Measured: 0.833–0.948, eval vs train mode at most 1.7 points apart."""
    for f in norms[("batch", 2)].values():
        assert 0.8 <= f["test_accuracy"] <= 0.96
        assert abs(f["test_accuracy"] - f["test_accuracy_train_mode"]) <= 0.03


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
