"""One run's entry in the history: the index row, its meta.json, and how it reads in a list.

What a list must answer without opening any document lives here: what ran,
what was changed from the scenario's defaults, the headline results and
whether a "running" run is really still running (its process may have been
killed: then it is shown as interrupted, and its events hold its data).
"""

from __future__ import annotations

import json
import math
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from regtui.aggregate import finite, last_logged
from regtui.numbers import fmt
from regtui.store.process import pid_alive as pid_alive  # where it lived first
from regtui.store.process import same_process

RUNNING = "running"
# What a run is, as every list says it: running; completed; stopped (told to stop, it saved what it had:
# the record and the document say "interrupted"); interrupted (its process died without saving); failed.
STATES = (RUNNING, "completed", "stopped", "interrupted", "failed")
# The result a list shows first: the first of these any variant has, and which way is better.
HEADLINE = (("test_loss", min), ("test_accuracy", max), ("train_loss", min), ("output_std", None))
_JSON_FIELDS = ("params", "changed", "finals", "plan")


@dataclass
class RunInfo:
    """The index row of a run (also its ``meta.json``)."""

    id: int
    created: str  # ISO 8601, UTC, seconds
    scenario: str
    experiment: str
    status: str  # running | completed | interrupted | failed
    device: str
    seed: int
    seeds: int
    params: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, Any] = field(default_factory=dict)  # a list: swept values; a dict: per variant
    finals: dict[str, dict[str, Any]] = field(default_factory=dict)  # variant -> scalar finals
    document: str = ""  # relative to the store folder
    pid: int | None = None
    host: str | None = None
    pid_start: int | None = None  # the process's start in clock ticks since boot (a reused pid is not the run)
    plan: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float | None = None
    error: str | None = None

    # --- storage --------------------------------------------------------------------------

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        for key in _JSON_FIELDS:
            row[key] = json.dumps(row[key], allow_nan=False)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RunInfo:
        data = dict(row)
        for key in _JSON_FIELDS:
            data[key] = json.loads(data[key]) if isinstance(data[key], str) else (data[key] or {})
        return cls(**_fields(data))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RunInfo:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise ValueError("not a run record")
        return cls(**_fields(data))

    # --- reading ---------------------------------------------------------------------------

    @property
    def shown_status(self) -> str:
        """The status, with a "running" run whose process is gone shown as interrupted."""
        if self.status == RUNNING and self.on_this_host and not same_process(self.pid, self.pid_start):
            return "interrupted"
        return self.status

    @property
    def alive(self) -> bool:
        return self.status == RUNNING and self.shown_status == RUNNING

    @property
    def on_this_host(self) -> bool:
        return self.host == socket.gethostname()

    @property
    def state(self) -> str:
        """One of :data:`STATES`: a run stopped by its user (Ctrl-C, ``regtui runs stop``, the dashboard's
        s) is "stopped"; one whose process died without saving is "interrupted". A run of another host
        is "running" until its record says otherwise (its process cannot be checked from here)."""
        status = self.shown_status
        return "stopped" if status == "interrupted" and self.status == "interrupted" else status

    def changed_text(self) -> str:
        """What differs from the scenario's defaults: ``lr=0.1 weight_decay=[0,0.1] seed=3 seeds=4``;
        one value per variant reads ``dropout=0,0.9`` (as --set and the form write it)."""
        parts = [f"{k}={changed_value(v)}" for k, v in self.changed.items()]
        for key, text in (self.plan.get("sets") or {}).items():  # a record from before per-variant values were kept
            if key not in self.changed and "," in str(text):
                parts.append(f"{key}={','.join(fmt(_number(t)) for t in str(text).split(','))}")
        if self.seed:
            parts.append(f"seed={self.seed}")
        if self.plan.get("seeds_changed"):
            parts.append(f"seeds={self.seeds}")
        return " ".join(parts)

    def headline(self) -> str:
        """The run's main result in a few words, from the finals in the index."""
        return headline(self.finals)


def changed_value(value: Any) -> str:
    """A ``changed`` entry as a list shows it: ``[0,0.1]`` swept, ``0,0.05`` per variant, ``0.1``."""
    if isinstance(value, list):
        return "[" + ",".join(fmt(x) for x in value) + "]"
    if isinstance(value, dict):
        return ",".join(fmt(x) for x in value.values())
    return fmt(value)


def _number(text: str) -> Any:
    """A --set value as written (``0.0``, ``true``, ``batch``), read back for :func:`fmt`."""
    try:
        return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return {"true": True, "false": False}.get(text, text)


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """The RunInfo fields of a row or a meta.json (a missing key: its default; an unknown key: ignored)."""
    return {k: data[k] for k in RunInfo.__dataclass_fields__ if k in data}


def local_time(created: str) -> str:
    """An index timestamp (UTC) as this machine's local time, to the minute."""
    try:
        return datetime.fromisoformat(created).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(created)


HEADLINE_DIGITS = 3  # significant digits: a list's results column fits beside the run's name


def headline(finals: dict[str, dict[str, Any]]) -> str:
    """``test_loss 0.12`` for one variant, each variant's for up to three, the best of more."""
    found = next(((m, b) for m, b in HEADLINE if any(m in f for f in finals.values())), None)
    if found is None:
        return ""
    metric, better = found
    values = {v: f[metric] for v, f in finals.items() if metric in f}
    diverged = sum(1 for f in finals.values() if f.get("diverged") is True)
    tail = f" · {diverged} diverged" if diverged else ""
    if len(values) == 1:
        return f"{metric} {_short(next(iter(values.values())))}{tail}"
    if len(values) <= 3:
        return f"{metric}: " + " · ".join(f"{v} {_short(x)}" for v, x in values.items()) + tail
    scored = {v: x for v, x in values.items() if finite(x)}
    if not scored:
        return f"{metric}: none finite of {len(values)}{tail}"
    if better is None:
        return f"{metric} {_short(min(scored.values()))} … {_short(max(scored.values()))} over {len(values)}{tail}"
    best = better(scored, key=lambda v: scored[v])
    return f"best {metric} {_short(scored[best])} ({best}) of {len(values)}{tail}"


def _short(x: Any) -> str:
    return fmt(x, HEADLINE_DIGITS)


def scalar_finals(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each variant's scalar finals (numbers, flags, nulls): what a list and a comparison show. A run
    stopped before its finals shows its last logged values (its status says it stopped)."""
    out: dict[str, dict[str, Any]] = {}
    for variant in doc.get("variants") or []:
        final = shown_finals(doc, variant)
        out[str(variant.get("name"))] = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in final.items()
            if v is None or isinstance(v, (bool, int, float))
        }
    return out


def shown_finals(doc: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    """A variant's finals; for a run stopped before them, its last logged values (the step left out)."""
    final = variant.get("final") or {}
    if final or doc.get("status") == "completed":
        return final
    return {k: v for k, v in last_logged(variant).items() if k != "step"}
