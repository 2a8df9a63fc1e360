"""The experiment kinds: what each declares, in one place.

A kind names its parameter specs, the engine module whose ``run(plan, ctx)``
runs it, the dashboard views it shows and its place in the lesson order.
Torch-free (the engine module is a dotted name, imported only to run), so the
CLI, the scenario loader and the dashboard's form read it without torch.

Adding an experiment is: its engine module, one :func:`register` call here,
its scenario file and its tests. Nothing in ``app/``, ``cli/`` or the runner
changes: they all ask this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from regtui import memory_formulas as memory
from regtui import specs
from regtui.specs import ConfigError, ExperimentSpec

# Every view the dashboard knows, in tab order. A kind lists the ones it shows.
VIEWS = ("params", "loss", "fit", "layers", "stats", "histograms", "results", "worked", "sweep", "explain", "history")


@dataclass(frozen=True)
class Kind:
    """One experiment kind.

    ``views`` are shown before a run (the first opens first) and ``run_views``
    join them once a run has started; the dashboard also adds a view for any
    kind of data a run produces, so an unforeseen result is never hidden.
    """

    spec: ExperimentSpec
    engine: str  # dotted module exposing run(plan: Plan, ctx: Context) -> None
    views: tuple[str, ...]
    run_views: tuple[str, ...] = ()
    lesson: float = float("inf")  # place in the lesson order; ties break by scenario name
    # The finals its lessons' texts cite: the Results view's finals table shows them first, right
    # after the variant, so they are in view without scrolling (the others follow in the JSON's order).
    key_finals: tuple[str, ...] = ()
    # (params of one run, models in the plan, the scenario's [model]/[data] tables) -> (peak bytes,
    # the parameters that drive it); None: no check
    memory: Callable[[dict[str, Any], int, dict[str, Any]], tuple[int, str]] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def __post_init__(self) -> None:
        unknown = [v for v in (*self.views, *self.run_views) if v not in VIEWS]
        if unknown or not self.views:
            raise ValueError(f"kind {self.name!r}: views must be a non-empty subset of {VIEWS}, got {unknown}")


_KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add (or replace) a kind; returns it."""
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a kind (tests register throwaway kinds and take them back)."""
    _KINDS.pop(name, None)


def get(name: str) -> Kind:
    try:
        return _KINDS[name]
    except KeyError:
        raise ConfigError(f"experiment: unknown kind {name!r}; allowed: {', '.join(_KINDS)}") from None


def find(name: str) -> Kind | None:
    """The kind of that name, or None (a stored run of a kind this version lacks)."""
    return _KINDS.get(name)


def kinds() -> list[Kind]:
    """Every kind, in lesson order."""
    return sorted(_KINDS.values(), key=lambda k: k.lesson)


def lesson_key(kind_name: str, scenario_name: str) -> tuple[float, str]:
    """Sort key of a scenario: its kind's lesson place, then its name (a sweep follows its lesson)."""
    kind = _KINDS.get(kind_name)
    return (kind.lesson if kind else float("inf"), scenario_name)


register(
    Kind(
        specs.WEIGHT_DECAY,
        "regtui.engine.weight_decay",
        ("loss", "fit", "explain"),
        ("worked",),
        lesson=1,
        memory=memory.mlp_bytes,
    )
)
register(
    Kind(
        specs.DROPOUT,
        "regtui.engine.dropout",
        ("loss", "fit", "results", "explain"),
        ("worked",),
        lesson=2,
        memory=memory.mlp_bytes,
    )
)
register(
    Kind(
        specs.BN,
        "regtui.engine.bn",
        ("layers", "loss", "stats", "explain"),
        ("worked",),
        lesson=3,
        memory=memory.bn_bytes,
    )
)
register(
    Kind(
        specs.BN_STATS,
        "regtui.engine.bn_stats",
        ("stats", "results", "explain"),
        ("worked",),
        lesson=4,
        memory=memory.bn_stats_bytes,
    )
)
register(
    Kind(
        specs.NORMS,
        "regtui.engine.norms",
        ("results", "loss", "explain"),
        ("worked",),
        lesson=5,
        memory=memory.norms_bytes,
    )
)

from regtui import pitfall_specs  # noqa: E402  (the pitfall lessons: appended, so the five above keep their order)

register(
    Kind(
        pitfall_specs.ADAMW,
        "regtui.engine.adamw",
        ("loss", "results", "explain"),
        lesson=6,
        memory=memory.mlp_bytes,
        key_finals=("weight_norm", "weight_norm_init", "train_loss", "test_loss"),
    )
)
register(
    Kind(
        pitfall_specs.NO_DECAY_GROUPS,
        "regtui.engine.no_decay_groups",
        ("loss", "results", "explain"),
        lesson=7,
        key_finals=("gamma_abs", "gamma_norm", "beta_norm", "test_loss"),
    )
)
register(Kind(pitfall_specs.BN_EVAL, "regtui.engine.bn_eval", ("stats", "loss", "explain"), lesson=8))
register(
    Kind(
        pitfall_specs.DROPOUT_BEFORE_BN,
        "regtui.engine.dropout_before_bn",
        ("loss", "stats", "results", "explain"),
        lesson=9,
        key_finals=("test_loss", "test_loss_recalibrated", "train_var_ratio", "running_var_ratio"),
    )
)

# (adamw, no-decay-groups and dropout-before-bn emit no summary: their Results view is the
# finals table, whose figures their texts cite; bn-eval's are in its Running stats tables.)

# Your own model and data: appended after the lessons.
from regtui.custom_specs.memory import train_bytes  # noqa: E402
from regtui.custom_specs.params import TRAIN  # noqa: E402

register(
    Kind(
        TRAIN,
        "regtui.engine.custom",
        ("loss", "layers", "results", "explain"),
        lesson=10,
        memory=train_bytes,
        key_finals=("test_accuracy", "test_loss"),
    )
)

# A run recorded from your own training loop by ``regtui.track()``: no scenario file runs it (its
# script does), and its views are the train kind's, because it logs the same names; Layers shows once
# the run has layer statistics (a loop tracked with its model), not as an empty chart for one without.
TRACK = "track"
register(
    Kind(
        ExperimentSpec(TRACK, ()),
        "regtui.tracking.rerun",
        ("loss", "results", "explain"),
        lesson=11,
        key_finals=("test_accuracy", "test_loss"),
    )
)
