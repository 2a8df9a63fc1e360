"""Every numeric parameter's allowed range is one the engine computes in: each end runs to a result.

For every kind's scenario and every numeric parameter, a tiny plan runs headless with that
parameter at each end of its allowed range (the largest float where it is unbounded): it must
complete (a diverged run is a result) or be refused in one line before it starts (exit 2, e.g.
too few training samples left) — never a failed run (exit 1) or a traceback. Hypothesis then
draws every float parameter of a kind at once. A value just outside the range is refused in one
line naming the range.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import one_error_line

from regtui import registry
from regtui import scenario as sc
from regtui.specs import ConfigError, Param

TRAIN = """
experiment = "train"
[params]
steps = 2
batch = 8
log_every = 1
[model]
layers = [{type = "linear", out = 8}, {type = "norm"}, {type = "relu"}, {type = "dropout"}, {type = "linear"}]
[data]
source = "moons"
n = 32
"""

# Per kind: the parameters that keep a plan tiny (a parameter under test overrides its own).
TINY: dict[str, dict[str, Any]] = {
    "weight-decay": {"n_points": 4, "hidden": 4, "layers": 1, "iters": 3},
    "dropout": {"n_points": 4, "hidden": 4, "layers": 1, "iters": 3, "scaling_n": 10},
    "bn": {"depth": 3, "width": 4, "batch": 4, "train_steps": 2, "stats_features": 2},
    "bn-stats": {"iters": 2},
    "norms": {
        **{"batch": 4, "demo_batch": 2, "channels": 2, "size": 4, "groups": 1},
        **{"classes": 2, "train_samples": 8, "test_samples": 4, "steps": 2},
    },
    "adamw": {"n_points": 4, "hidden": 4, "layers": 1, "iters": 3},
    "no-decay-groups": {"features": 2, "hidden": 4, "layers": 1, "train_samples": 8, "test_samples": 4},
    "bn-eval": {"features": 2, "hidden": 4, "classes": 2, "batch": 4, "steps": 2},
    "dropout-before-bn": {"features": 2, "hidden": 4, "train_samples": 8, "test_samples": 4, "batch": 4},
    "train": {},
}
for _kind in ("no-decay-groups", "dropout-before-bn"):
    TINY[_kind].update(steps=2, batch=4)

# Their largest values only make a run long or large (the memory estimate guards those sizes,
# tests/reliability/test_memory.py); their number range is not in question.
LONG = {"iters", "steps", "train_steps"}
LARGE = {
    ("bn", "width"),
    ("bn", "depth"),
    ("dropout", "scaling_n"),
    ("dropout-before-bn", "hidden"),
    ("norms", "batch"),
    ("norms", "train_samples"),
    ("norms", "test_samples"),
}
BIGGEST = sys.float_info.max


def ends(kind: str, p: Param) -> list[Any]:
    """The values at the ends of a parameter's range (the nearest float inside an open end)."""
    if p.kind is int:
        low, high = int(p.min if p.min is not None else -(2**31)), int(p.max if p.max is not None else 2**31)
        return [low] if p.name in LONG or (kind, p.name) in LARGE else [low, high]
    low = -BIGGEST if p.min is None else math.nextafter(p.min, math.inf) if p.min_open else p.min
    high = BIGGEST if p.max is None else math.nextafter(p.max, -math.inf) if p.max_open else p.max
    return [low, high]


def scenario_of(kind: str) -> str:
    """The first bundled scenario of a kind (train: written by the fixture)."""
    return next(name for name in sc.bundled_names() if sc.load(sc.find(name)).experiment == kind)


KINDS = [k.name for k in registry.kinds() if k.name != "track"]  # track: regtui.track records it; no file runs it
# Computed at collection, before any run sets torch's flush-to-zero (which turns 5e-324 into 0 here).
CASES = [
    (k.name, p.name, v)
    for k in registry.kinds()
    if k.name in KINDS
    for p in k.spec.params
    if p.numeric
    for v in ends(k.name, p)
]


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("train") / "tiny.toml"
    path.write_text(TRAIN, encoding="utf-8")
    return {kind: str(path) if kind == "train" else scenario_of(kind) for kind in KINDS}


def test_every_kind_is_covered():
    assert set(TINY) == set(KINDS)


@pytest.mark.parametrize(("kind", "name", "value"), CASES, ids=[f"{k} {n}={v!r}" for k, n, v in CASES])
def test_each_end_of_each_range_runs_to_a_result_or_a_one_line_refusal(cli, scenarios, kind, name, value):
    sets = {**TINY[kind], name: value}
    args = [a for key, v in sets.items() for a in ("--set", f"{key}={v!r}")]
    result = cli("--scenario", scenarios[kind], "--json", "--no-save", "--device", "cpu", "--jobs", "1", *args)
    if result.exit_code == 2:
        one_error_line(result.stderr)  # refused before it ran (too few samples left, say): one line
        assert result.stdout == ""
        return
    assert result.exit_code == 0, (result.exit_code, result.stderr[-2000:])
    doc = json.loads(result.stdout)
    assert doc["status"] == "completed", doc.get("error")


def _floats(p: Param) -> st.SearchStrategy[float]:
    # No subnormals: the engine flushes them to zero process-wide (torch.set_flush_denormal), and with
    # the flag set Hypothesis cannot generate them either.
    low, high = ends("", p)
    if p.min == 0 and p.min_open:
        low = sys.float_info.min
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_float_parameter_at_once_runs_to_a_result(scenarios, kind, data):
    """Combinations the single ends miss (lr·weight_decay at 1e60, say), drawn by Hypothesis."""
    from regtui.engine import run_plan

    scenario = sc.load(sc.find(scenarios[kind]))
    values = {p.name: data.draw(_floats(p), label=p.name) for p in scenario.spec.params if p.kind is float}
    try:
        plan = sc.plan(scenario, {**TINY[kind], **values})
    except ConfigError:
        return  # refused before it runs (one line, as the CLI says it)
    finished = run_plan(plan, "cpu")
    assert finished.status == "completed", finished.error


@pytest.mark.parametrize(
    ("kind", "setting", "allowed"),
    [
        ("bn-stats", "noise=1e160", "expected a number >= 0 and <= 1e+100"),
        ("adamw", "weight_decay=1e308", "expected a number >= 0 and <= 1e+30"),
        ("weight-decay", "weight_decay=1e31", "expected a number >= 0 and <= 1e+30"),
        ("no-decay-groups", "weight_decay=1e39", "expected a number >= 0 and <= 1e+30"),
        ("train", "weight_decay=1e39", "expected a number >= 0 and <= 1e+30"),
    ],
)
def test_a_value_past_the_range_is_one_line_naming_the_range(cli, forbid_runs, scenarios, kind, setting, allowed):
    result = cli("--scenario", scenarios[kind], "--json", "--set", setting)
    assert result.exit_code == 2
    message = one_error_line(result.stderr)
    assert message.startswith(setting.split("=")[0] + ": ") and message.endswith(allowed), message


@pytest.mark.parametrize("kind", ["adamw", "no-decay-groups", "train"])
def test_adamws_decay_factor_past_float32_is_one_line(cli, forbid_runs, scenarios, kind):
    """1 − lr·weight_decay must fit the float32 scalar of AdamW's foreach update: torch 2.11 on an H200
    refused lr = weight_decay = 1e30 ("value cannot be converted to type float without overflow")."""
    sets = ("--set", "lr=1e30", "--set", "weight_decay=1e30", "--set", "optimizer=adamw")
    result = cli("--scenario", scenarios[kind], "--json", *sets)
    assert result.exit_code == 2
    message = one_error_line(result.stderr)
    assert "weight_decay: 1e+30 is not allowed with lr = 1e+30 and AdamW" in message, message
    assert message.endswith("expected lr·weight_decay <= 1e+30")


def test_the_train_scenario_is_a_real_file(scenarios):
    assert Path(scenarios["train"]).is_file()
