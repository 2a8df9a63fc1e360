"""What regtui measures of a tracked model by itself, and when: every ``log_every`` steps.

:class:`ModelWatch` decides the logging steps from the steps the loop logs: the first logged step
at or after each multiple of ``log_every`` (step 0 included). Its hooks (:mod:`.hooks`) are
installed at the log of the step before one, so they see that step's forward, and removed at its
log, where :mod:`.statistics` reads them; a loop that logs every ``k`` steps is followed by the
stride between its last two logs. A logging step whose forward was missed (an irregular loop)
arms the hooks for the next forward and is measured at the next log instead.
Imported only when a model is given: the user has imported torch already.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from regtui.engine.custom.model import TRAIN_MODE_CLASSES
from regtui.engine.measures import param_norm
from regtui.tracking.hooks import StepHooks
from regtui.tracking.statistics import STATS_FEATURES, Measured, measure, observed_layers, tracking_bns


class ModelWatch:
    """The model (and optimizer) of one tracked run, measured at its logging steps."""

    def __init__(self, model: nn.Module, optimizer: Any, log_every: int, variant: str) -> None:
        self.model, self.optimizer, self.log_every, self.variant = model, optimizer, log_every, variant
        self.observed = observed_layers(model)
        self.with_params = [(n, [q for q in m.parameters() if q.requires_grad]) for n, m in self.observed]
        self.with_params = [(n, qs) for n, qs in self.with_params if qs]
        self.hooks = StepHooks(model, self.observed, tracking_bns(self.observed), STATS_FEATURES)
        self.train_mode_layers = [m for m in model.modules() if isinstance(m, TRAIN_MODE_CLASSES)]
        self.due = 0  # the next logging step: the first logged step at or after it is measured
        self.hooks.arm()  # the loop's first forward is its step 0's

    @property
    def device(self) -> str:
        p = next(self.model.parameters(), None)
        return str(p.device) if p is not None else "cpu"

    def on_log(self, step: int, stride: int) -> Measured | None:
        """Called at the log of a new step ``stride`` steps after the loop's previous log, when it is due
        or the next one will be (``step + stride >= due``; the loop need not call it otherwise): the
        statistics when it is a logging step, else None."""
        out = None
        if step >= self.due:
            if self.hooks.captured:
                out = measure(step, self.variant, self.hooks, self.with_params)
                self.hooks.disarm()
                self.due = (step // self.log_every + 1) * self.log_every
            else:
                self.hooks.arm()  # its forward was missed: the next one is measured
        if step + stride >= self.due:
            self.hooks.arm()
        return out

    def measure_next(self, step: int) -> None:
        """Measure the next forward (at the next log): after a non-finite loss, to find its first bad layer."""
        self.due = min(self.due, step + 1)
        self.hooks.arm()

    def finals(self) -> dict[str, Any]:
        return {
            "weight_norm": float(param_norm(list(self.model.parameters()))),
            "parameters": sum(q.numel() for q in self.model.parameters()),
        }

    def close(self) -> None:
        self.hooks.disarm()

    # --- evaluation in both modes ----------------------------------------------------------

    def watching_modes(self, fn: Callable[[], Any]) -> tuple[Any, bool]:
        """``fn()`` as the loop set the model up, and whether a Dropout or BatchNorm ran in train mode in it."""
        seen: list[bool] = []
        handles = [
            m.register_forward_pre_hook(lambda mod, inp: seen.append(mod.training)) for m in self.train_mode_layers
        ]
        try:
            return fn(), any(seen)
        finally:
            for h in handles:
                h.remove()

    def in_mode(self, fn: Callable[[], Any], training: bool) -> Any:
        """``fn()`` with the whole model in train or eval mode, leaving nothing changed: every module's mode,
        BatchNorm's running statistics and the random number generators are as before."""
        modes = [(m, m.training) for m in self.model.modules()]
        buffers = [(b, b.clone()) for m in self.train_mode_layers for b in m.buffers(recurse=False)]
        try:
            with _forked_rng(self.device), torch.no_grad():
                self.model.train(training)
                return fn()
        finally:
            for b, saved in buffers:
                b.copy_(saved)
            for m, mode in modes:
                m.training = mode


@contextlib.contextmanager
def _forked_rng(device: str) -> Iterator[None]:
    """Dropout's masks of an extra evaluation must not move the loop's random stream."""
    devices = [torch.device(device)] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        yield
