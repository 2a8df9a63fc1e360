"""The 100-layer MLP experiment (regtui.engine.bn), checked against independent expectations.

Expected values come from the variance-propagation formulas the tutorial teaches, not from
the engine: a Linear layer with n inputs and weight variance v multiplies the second moment
of its input by n·v, and a ReLU halves it (for a zero-mean symmetric pre-activation).
"""

from __future__ import annotations

import math
import threading
from itertools import pairwise

import pytest

from regtui import scenario
from regtui.engine import run_plan
from regtui.events import Final, LayerStats, Metrics, RunFinished, TableRows
from regtui.specs import ConfigError

FLOAT32_MAX = 3.4028234663852886e38


def _plan(sets: dict, seed: int = 0):
    sc = scenario.load(scenario.find("bn"))
    return scenario.plan(sc, sets=sets, sweep=None, seed=seed)


def _run(sets: dict, seed: int = 0, cancel: threading.Event | None = None, emit=None):
    events: list = []

    def collect(event):
        events.append(event)
        if emit:
            emit(event)

    finished = run_plan(_plan(sets, seed), "cpu", emit=collect, cancel=cancel)
    return finished, events


def _by_variant(events, kind):
    """The last event of ``kind`` per variant (for LayerStats: the measuring pass's, not a training step's)."""
    return {e.variant: e for e in events if isinstance(e, kind) and getattr(e, "step", None) is None}


def _losses(events, variant):
    steps, values = [], []
    for e in events:
        if isinstance(e, Metrics) and e.variant == variant:
            steps += e.step
            values += e.values["train_loss"]
    return steps, values


@pytest.fixture(scope="module")
def wide():
    """Tutorial width (256) and batch (16), 50 layers, 3 training steps: every variant."""
    return _run({"depth": 50, "width": 256, "batch": 16, "train_steps": 3})


def test_normal_init_overflows_where_the_variance_formula_says(wide):
    finished, events = wide
    assert finished.status == "completed", finished.error
    stats = _by_variant(events, LayerStats)["normal init"]
    # N(0,1) weights: the rms grows by sqrt(n/2) per layer; float32 overflows after about
    # log(FLOAT32_MAX) / log(sqrt(n/2)) layers (≈ 36.6 at n = 256).
    expected = math.log(FLOAT32_MAX) / math.log(math.sqrt(256 / 2))
    layer = stats.first_nonfinite_layer
    assert layer is not None and 30 <= layer <= 40
    assert abs(layer - expected) <= 4
    # the std is finite up to that layer and grows by ≈ sqrt(n/2)·(std factor) per layer
    finite_stds = stats.std[: layer - 1]
    assert all(math.isfinite(s) for s in finite_stds)
    ratios = [b / a for a, b in pairwise(finite_stds[5:26])]
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    assert 0.7 * math.sqrt(128) < geo < 1.3 * math.sqrt(128)
    assert not math.isfinite(stats.std[-1])


def test_diverged_variant_is_reported_and_others_still_run(wide):
    finished, events = wide
    assert finished.status == "completed"
    finals = _by_variant(events, Final)
    assert set(finals) == {"default init", "normal init", "kaiming init", "batchnorm"}
    bad = finals["normal init"].values
    assert bad["diverged"] is True
    assert bad["first_nonfinite_step"] == 1  # NaN from the very first forward
    assert bad["first_nonfinite_layer"] is not None
    assert math.isnan(bad["train_loss"]) and math.isnan(bad["output_std"])
    for name in ("default init", "kaiming init", "batchnorm"):
        values = finals[name].values
        assert values["diverged"] is False
        assert values["first_nonfinite_step"] is None and values["first_nonfinite_layer"] is None
        assert math.isfinite(values["train_loss"])
        steps, losses = _losses(events, name)
        assert steps == [1, 2, 3] and all(math.isfinite(v) for v in losses)


def test_batchnorm_keeps_the_std_of_relu_of_a_unit_gaussian(wide):
    _, events = wide
    stats = _by_variant(events, LayerStats)["batchnorm"]
    # BN makes every pre-activation feature mean 0, variance 1 over the batch; after the
    # ReLU the std of z ~ N(0,1) clipped at 0 is sqrt(1/2 - 1/(2π)) ≈ 0.584, at every layer.
    expected = math.sqrt(0.5 - 1 / (2 * math.pi))
    assert stats.first_nonfinite_layer is None
    assert len(stats.std) == 50
    assert all(abs(s - expected) < 0.06 for s in stats.std)


@pytest.fixture(scope="module")
def narrow():
    return _run({"depth": 40, "width": 64, "batch": 16, "train_steps": 0})


def test_default_init_shrinks_by_sqrt_one_sixth_per_layer(narrow):
    _, events = narrow
    std = _by_variant(events, LayerStats)["default init"].std
    # U(-1/sqrt(n), 1/sqrt(n)) has variance 1/(3n): second moment × n·1/(3n)·1/2 = 1/6.
    ratios = [b / a for a, b in pairwise(std[2:23])]
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    assert abs(geo - math.sqrt(1 / 6)) < 0.08
    assert std[-1] < 1e-10 * std[0]


def test_kaiming_keeps_the_std_in_a_sane_band(narrow):
    _, events = narrow
    stats = _by_variant(events, LayerStats)["kaiming init"]
    # N(0, 2/n): second moment × n·(2/n)·1/2 = 1 per layer — no drift on average.
    assert stats.first_nonfinite_layer is None
    assert all(0.1 < s < 10 for s in stats.std)
    # the mean is that of a ReLU output: positive, of the order of the std
    assert all(m > 0 for m in stats.mean)


def test_train_steps_zero_measures_only(narrow):
    finished, events = narrow
    assert finished.status == "completed"
    assert not [e for e in events if isinstance(e, Metrics)]
    finals = _by_variant(events, Final)
    assert finals["kaiming init"].values["train_loss"] is None
    assert finals["kaiming init"].values["diverged"] is False


def test_running_stats_follow_the_ema_with_unbiased_batch_variance():
    sets = {
        "depth": 6,
        "width": 16,
        "batch": 8,
        "train_steps": 5,
        "bn_momentum": 0.2,
        "stats_features": 3,
        "init": "kaiming",
        "batchnorm": True,
    }
    finished, events = _run(sets)
    assert finished.status == "completed", finished.error
    tables = [e for e in events if isinstance(e, TableRows)]
    assert tables and all(t.name == "running_stats" for t in tables)
    assert tables[0].columns == (
        "variant",
        "seed",
        "step",
        "layer",
        "feature",
        "running_mean",
        "running_var",
        "batch_mean",
        "batch_var",
    )
    assert tables[0].key == ("variant", "layer", "feature")
    rows = [dict(zip(t.columns, r)) for t in tables for r in t.rows]
    assert {r["layer"] for r in rows} == {1, 3, 6}  # first, middle, last
    assert {r["feature"] for r in rows} == {1, 2, 3}
    assert sorted({r["step"] for r in rows}) == [1, 2, 3, 4, 5]  # every step when steps ≤ 10
    m = 0.2
    prev = {}
    for r in sorted(rows, key=lambda r: r["step"]):
        key = (r["layer"], r["feature"])
        before_mean, before_var = prev.get(key, (0.0, 1.0))  # PyTorch's starting values
        assert r["running_mean"] == pytest.approx((1 - m) * before_mean + m * r["batch_mean"], rel=1e-5, abs=1e-6)
        assert r["running_var"] == pytest.approx((1 - m) * before_var + m * r["batch_var"], rel=1e-5, abs=1e-6)
        prev[key] = (r["running_mean"], r["running_var"])


def test_running_stats_are_emitted_about_every_tenth_of_training():
    sets = {"depth": 3, "width": 8, "batch": 4, "train_steps": 40, "batchnorm": True, "stats_features": 2}
    _, events = _run(sets)
    steps = sorted({r[2] for e in events if isinstance(e, TableRows) for r in e.rows})
    assert steps == list(range(4, 41, 4))


def test_same_seed_gives_identical_results_and_another_seed_does_not():
    sets = {"depth": 8, "width": 16, "batch": 4, "train_steps": 12}

    def signature(events):
        out = []
        for e in events:
            if isinstance(e, (LayerStats, Metrics, Final, TableRows)):
                out.append(repr(e))  # repr keeps nan comparable
        return out

    a = signature(_run(sets, seed=3)[1])
    b = signature(_run(sets, seed=3)[1])
    c = signature(_run(sets, seed=4)[1])
    assert a == b
    assert a != c


def test_cancel_stops_promptly():
    cancel = threading.Event()
    seen_after: list = []

    def emit(event):
        if cancel.is_set():
            seen_after.append(event)
        elif isinstance(event, Metrics):
            cancel.set()

    finished, _ = _run({"depth": 10, "width": 32, "train_steps": 100_000}, cancel=cancel, emit=emit)
    assert finished.status == "interrupted"
    # after the cancel only the RunFinished event (a Progress may precede the next check)
    assert not [e for e in seen_after if isinstance(e, (Metrics, Final, TableRows))]
    assert isinstance(seen_after[-1], RunFinished)


def test_batchnorm_with_batch_one_is_refused():
    with pytest.raises(ConfigError, match="batch"):
        _plan({"batch": 1})


def test_training_profiles_come_at_the_last_step_of_every_chunk():
    """One LayerStats with its step per chunk (CHUNK = 10 steps, the last chunk may be shorter)."""
    sets = {"depth": 6, "width": 32, "batch": 8, "train_steps": 25, "init": "kaiming", "batchnorm": False}
    finished, events = _run(sets)
    assert finished.status == "completed"
    steps = [e.step for e in events if isinstance(e, LayerStats) and e.step is not None]
    assert steps == [10, 20, 25]
    measuring = [e for e in events if isinstance(e, LayerStats) and e.step is None]
    assert len(measuring) == 1 and all(len(e.std) == 6 for e in events if isinstance(e, LayerStats))


def test_training_profile_of_a_batchnorm_net_before_its_first_update():
    """Step 1's profile is taken before the update: γ = 1, β = 0, so every block's train-mode BN output
    is exactly standardized over the batch and the ReLU leaves std √(1/2 − 1/(2π)) ≈ 0.584
    (for a Gaussian pre-activation; a batch of 64 × 128 features is close to that)."""
    sets = {"depth": 8, "width": 128, "batch": 64, "train_steps": 1, "init": "normal", "batchnorm": True}
    finished, events = _run(sets)
    assert finished.status == "completed"
    (profile,) = [e for e in events if isinstance(e, LayerStats) and e.step == 1]
    expected = math.sqrt(0.5 - 1 / (2 * math.pi))
    assert profile.first_nonfinite_layer is None
    assert all(abs(s - expected) < 0.03 for s in profile.std)


def test_training_profile_of_a_diverged_net_reports_its_nonfinite_block():
    sets = {"depth": 60, "width": 64, "batch": 8, "train_steps": 30, "init": "normal", "batchnorm": False}
    finished, events = _run(sets)
    assert finished.status == "completed"
    profiles = [e for e in events if isinstance(e, LayerStats) and e.step is not None]
    assert [p.step for p in profiles] == [10]  # training stops at the end of the chunk that diverged
    assert profiles[0].first_nonfinite_layer is not None
