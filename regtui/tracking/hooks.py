"""The forward hooks of one logging step: installed just before its forward, read and removed at its log.

Hooks cost a device-side reduction per layer, so they exist only between the log of the step
before a logging step and the log of that step (:class:`StepHooks`); every other step of the loop
runs the model bare. Only the first forward in train mode is captured (an evaluation forward in
eval mode in between is not training), and nothing is copied to the host here: the statistics stay
on the device until :mod:`.statistics` reads them all in one transfer.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from regtui.engine.custom.observe import bn_batch_stats


def moments(out: Any) -> tuple[torch.Tensor, torch.Tensor, int] | None:
    """A layer output's sum and L2 norm (0-d, accumulated in float64) and element count, from which
    :func:`.statistics.mean_std` takes its mean and std on the host; None for a non-tensor, a
    non-float tensor or fewer than 2 elements. Two reductions that read the output in place, where
    a float64 copy, its mean, its std and a stack took four kernels and twice the time.
    """
    if not isinstance(out, torch.Tensor) or not out.is_floating_point() or out.numel() < 2:
        return None
    o = out.detach()
    return o.sum(dtype=torch.float64), torch.linalg.vector_norm(o, dtype=torch.float64), o.numel()


def dead_units(out: Any) -> tuple[torch.Tensor, int] | None:
    """How many of a ReLU's output units are 0 for every sample of the batch (dead on it), of how many."""
    if not isinstance(out, torch.Tensor) or out.dim() < 2 or out.shape[0] < 1:
        return None
    per_unit = out.detach().reshape(out.shape[0], -1)
    return (per_unit.amax(0) == 0).sum(), per_unit.shape[1]


class StepHooks:
    """Captures one train-mode forward: each observed layer's output :func:`moments` and order, each
    BatchNorm's input statistics and shape, each ReLU's :func:`dead_units`."""

    def __init__(
        self, model: nn.Module, observed: list[tuple[str, nn.Module]], bns: list[tuple[str, nn.Module]], n_feat: int
    ) -> None:
        self.model, self.observed, self.bns, self.n_feat = model, observed, bns, n_feat
        self.handles: list[Any] = []
        self.active = False  # inside the captured forward
        self.captured = False  # a whole train-mode forward was seen since arming
        self.stats: dict[str, tuple[torch.Tensor, torch.Tensor, int] | None] = {}
        self.order: list[str] = []  # the observed layers in the order they ran
        self.bn_inputs: dict[str, torch.Tensor] = {}
        self.bn_shapes: dict[str, tuple[int, ...]] = {}
        self.dead: dict[str, tuple[torch.Tensor, int]] = {}

    @property
    def armed(self) -> bool:
        return bool(self.handles)

    def arm(self) -> None:
        """Install the hooks (once) for the next train-mode forward."""
        if self.handles:
            return
        self.captured = self.active = False
        for store in (self.stats, self.bn_inputs, self.bn_shapes, self.dead):
            store.clear()
        self.order.clear()
        self.handles.append(self.model.register_forward_pre_hook(self._begin))
        for name, m in self.observed:
            self.handles.append(m.register_forward_hook(self._layer(name, isinstance(m, nn.ReLU))))
        for name, m in self.bns:
            self.handles.append(m.register_forward_pre_hook(self._bn(name)))
        self.handles.append(self.model.register_forward_hook(self._end))

    def disarm(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()
        self.active = False

    def _begin(self, module: nn.Module, inputs: Any) -> None:
        self.active = module.training and not self.captured

    def _end(self, module: nn.Module, inputs: Any, output: Any) -> None:
        if self.active:
            self.active, self.captured = False, True

    def _layer(self, name: str, relu: bool) -> Any:
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if self.active and name not in self.stats:
                self.stats[name] = moments(output)
                self.order.append(name)
                if relu:
                    dead = dead_units(output)
                    if dead is not None:
                        self.dead[name] = dead

        return hook

    def _bn(self, name: str) -> Any:
        def hook(module: nn.Module, inputs: Any) -> None:
            x = inputs[0] if inputs else None
            if self.active and isinstance(x, torch.Tensor) and x.dim() >= 2 and name not in self.bn_inputs:
                self.bn_inputs[name] = bn_batch_stats(x, self.n_feat)
                self.bn_shapes[name] = tuple(x.shape)

        return hook
