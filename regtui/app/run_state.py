"""One run of the dashboard: its plan, device, collector and cancel flag, and the status line it shows."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

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
    status: str = "running"  # running, stopping, done, diverged, stopped, failed
    error: str | None = None
    elapsed_s: float | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def status_info(self) -> StatusInfo:
        """Progress, rate, elapsed time and status, for the status bar."""
        info = StatusInfo(device=self.device, status=self.status)
        progress = self.collector.progress
        end = self.ended or time.perf_counter()
        info.elapsed = self.elapsed_s if self.elapsed_s is not None else end - self.started
        if progress is not None:
            info.step, info.total, info.phase = progress.step, progress.total, progress.phase
            if info.elapsed and info.elapsed > 0.05:
                info.rate = progress.step / info.elapsed
        return info
