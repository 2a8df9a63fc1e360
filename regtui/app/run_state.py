"""One run of the dashboard: its plan, device, collector and cancel flag, and the status line it shows."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from regtui import registry
from regtui import scenario as sc
from regtui.app.widgets.status_bar import StatusInfo
from regtui.report import Collector

ACTIVE = ("running", "stopping")


@dataclass
class RunState:
    run_id: int
    plan: sc.Plan
    device: str
    collector: Collector
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    status: str = "running"  # running, stopping, done, stopped, failed
    note: str = ""  # what the run showed beside its status (a divergence is a result, not a failure)
    error: str | None = None
    elapsed_s: float | None = None
    stored_id: int | None = None  # a stored run opened from History (read-only); None: a run of this session
    follower: Any = None  # a regtui.store.follow.Follower: a run of another process, followed live
    kept: bool = False  # the dashboard quit and left this run to go on in its child process
    # Set by the worker thread: the trainer returned (the status line may say so at once), and
    # then the run's document is in the store (or was not to be saved). Quitting in between waits.
    trained: threading.Event = field(default_factory=threading.Event)
    saved: threading.Event = field(default_factory=threading.Event)

    def end(self, status: str, elapsed_s: float | None, error: str | None = None, at: float | None = None) -> None:
        """The run is over (here, followed elsewhere, or stored): its status, its own time and error. A
        divergence of a done run is its note: a result to show (bn's N(0,1) init is the lesson), not a failure."""
        self.ended = time.perf_counter() if at is None else at
        self.status, self.elapsed_s, self.error = status, elapsed_s, error
        self.note = self.divergence_note() if status == "done" and self.collector.diverged() else ""

    def divergence_note(self) -> str:
        """'normal init went inf/NaN at layer 37': which variants turned non-finite, and where, short
        enough for the status line ("A, B went inf/NaN at step 2; C at step 40"; past three variants
        a count and the first two names)."""
        names = self.collector.variant_names()
        bad: dict[str, list[str]] = {}  # where -> the variants that went inf/NaN there
        for variant in names:
            final = self.collector.variant_record(variant, max_points=2, compact=True).get("final", {})
            if not final.get("diverged"):
                continue
            layer, step = final.get("first_nonfinite_layer"), final.get("first_nonfinite_step")
            where = f" at layer {layer}" if layer is not None else f" at step {step}" if step is not None else ""
            bad.setdefault(where, []).append(variant)
        count = sum(len(variants) for variants in bad.values())
        if count > 3:
            first = [v for variants in bad.values() for v in variants][:2]
            return f"{count} of {len(names)} variants went inf/NaN: {', '.join(first)}, …"
        parts: list[str] = []  # "A, B went inf/NaN at step 2; C at step 40"
        for at, variants in bad.items():
            parts.append(f"{', '.join(variants)}{'' if parts else ' went inf/NaN'}{at}")
        return "; ".join(parts)

    def marker(self) -> str:
        """What the status line says for as long as a stored run is shown."""
        if self.stored_id is None:
            return ""
        if self.follower is not None and self.active:
            return f"following run #{self.stored_id} (read-only) — s asks to stop it"
        if self.plan.scenario.experiment == registry.TRACK:
            return f"viewing stored run #{self.stored_id} (read-only) — its script runs it again"
        return f"viewing stored run #{self.stored_id} (read-only) — r runs anew"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def status_info(self) -> StatusInfo:
        """Progress, rate, elapsed time and status, for the status bar."""
        info = StatusInfo(device=self.device, status=self.status, note=self.note, marker=self.marker())
        progress = self.collector.progress
        end = self.ended or time.perf_counter()
        info.elapsed = self.elapsed_s if self.elapsed_s is not None else end - self.started
        if progress is not None:
            info.step, info.total, info.phase = progress.step, progress.total, progress.phase
            if info.elapsed and info.elapsed > 0.05:
                info.rate = progress.step / info.elapsed
        if self.follower is not None:  # the run's own clock and rate, not this dashboard's
            info.elapsed = self.follower.elapsed_s()
            info.rate = self.follower.rate.steps_per_s() if self.active else info.rate
        return info
