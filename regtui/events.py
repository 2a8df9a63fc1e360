"""The typed events an experiment emits.

The headless collector (``regtui.report``) and the Textual app consume the very
same stream, so what the JSON says is what the screen shows. Events are small
frozen dataclasses holding plain Python values (no tensors), so they can cross
threads and be serialized without touching torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunSpec:
    """One model to train or measure: a variant of the scenario at one seed."""

    variant: str
    seed: int
    params: dict[str, Any]


@dataclass(frozen=True)
class RunStarted:
    scenario: str
    experiment: str
    title: str
    device: str
    seed: int
    torch_version: str
    params: dict[str, Any]
    runs: tuple[RunSpec, ...]
    seeds: int = 1  # seeds per variant
    sweep: dict[str, tuple[Any, ...]] | None = None  # swept parameter -> values


@dataclass(frozen=True)
class Progress:
    """Work done so far out of ``total`` (units chosen by the experiment, usually steps)."""

    step: int
    total: int
    phase: str = "train"


@dataclass(frozen=True)
class Metrics:
    """A chunk of per-step scalars of one model: ``values[name][i]`` belongs to ``step[i]``.

    Non-finite values are carried as ``float('nan')``/``inf``; the report turns
    them into ``null``.
    """

    variant: str
    seed: int
    step: tuple[int, ...]
    values: dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class Curve:
    """A named x/y curve of one model (e.g. the fitted function), replacing any earlier one."""

    variant: str
    seed: int
    name: str
    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class LayerStats:
    """Activation statistics after every layer of a deep net (index 0 = after layer 1).

    ``step``: None for a measuring pass of its own (bn's, before training); a step number
    for the statistics of that training step's mini-batch, which a run reports as it trains
    (the latest one is kept beside the measuring pass's, and every one in the document's
    ``layers_steps``). ``names``: the layers' names where the run knows them (else empty).
    """

    variant: str
    seed: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    first_nonfinite_layer: int | None
    step: int | None = None
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableRows:
    """Rows appended to the table ``name``.

    ``key`` names the columns that identify a displayed row: a live view may
    show only the latest row per key (updating cells in place), while the
    JSON report keeps every row.
    """

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    key: tuple[str, ...] = ()


@dataclass(frozen=True)
class Final:
    """Final scalars of one model (merged into its ``final`` dict)."""

    variant: str
    seed: int
    values: dict[str, Any]


@dataclass(frozen=True)
class Summary:
    """A scenario-specific result stored as ``summary[key]`` (JSON-able value)."""

    key: str
    value: Any


@dataclass(frozen=True)
class RunFinished:
    status: str  # "completed" | "interrupted" | "failed"
    elapsed_s: float
    error: str | None = None


Event = RunStarted | Progress | Metrics | Curve | LayerStats | TableRows | Final | Summary | RunFinished

__all__ = [
    "Curve",
    "Event",
    "Final",
    "LayerStats",
    "Metrics",
    "Progress",
    "RunFinished",
    "RunSpec",
    "RunStarted",
    "Summary",
    "TableRows",
]
