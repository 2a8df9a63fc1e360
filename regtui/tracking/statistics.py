"""What a logging step of a tracked model yields, named as the ``train`` kind names it.

So the dashboard draws a tracked run exactly as a ``train`` run: ``weight_norm/<layer>`` and
``grad_norm/<layer>`` series (plus ``dead_relu/<layer>``, the share of a ReLU's units that are 0
for every sample of the batch), a ``LayerStats`` event of each observed layer's output mean and
std (the Layers view) and ``TableRows("running_stats")`` of every BatchNorm's running mean and
variance beside its batch statistics (the Running stats view). Everything of a logging step
comes to the host in one transfer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from regtui.engine.custom.observe import running
from regtui.engine.measures import RUNNING_COLUMNS, param_norm
from regtui.events import LayerStats, TableRows
from regtui.tracking.hooks import StepHooks

STATS_FEATURES = 4  # features per BatchNorm layer in the running-stats table (the train kind's default)


def observed_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The leaf modules (no children), by qualified name: the layers a ``train`` factory model shows."""
    leaves = [(n, m) for n, m in model.named_modules() if n and not any(True for _ in m.children())]
    return leaves or [(type(model).__name__.lower(), model)]


def tracking_bns(observed: list[tuple[str, nn.Module]]) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in observed if isinstance(m, _BatchNorm) and m.track_running_stats]


@dataclass
class Measured:
    """One logging step's results: scalars for its row, and the Layers and Running stats events."""

    scalars: dict[str, float] = field(default_factory=dict)
    layers: LayerStats | None = None
    rows: TableRows | None = None
    layer_names: list[str] = field(default_factory=list)


def measure(
    step: int, variant: str, hooks: StepHooks, with_params: Sequence[tuple[str, Sequence[torch.Tensor]]]
) -> Measured:
    """The statistics of the forward ``hooks`` captured, the norms of the parameters and gradients now."""
    parts: dict[str, torch.Tensor] = {}
    for name, qs in with_params:
        parts[f"weight_norm/{name}"] = param_norm(qs)
        grads = [q.grad for q in qs if q.grad is not None]
        if grads:
            parts[f"grad_norm/{name}"] = param_norm(grads)
    for name, share in hooks.dead.items():
        parts[f"dead_relu/{name}"] = share
    names = [n for n, _ in hooks.observed]
    nan2 = torch.full((2,), math.nan, dtype=torch.float64)
    layers = [hooks.stats.get(n, nan2) for n in names]
    bn_parts = []
    for name, m in hooks.bns:
        assert isinstance(m, _BatchNorm)
        mean, var = running(m)
        k = min(hooks.n_feat, mean.numel())
        batch = hooks.bn_inputs.get(name)
        if batch is None:
            batch = torch.full((k, 2), math.nan, dtype=torch.float64, device=mean.device)
        bn_parts.append(torch.cat([torch.stack([mean[:k], var[:k]], 1).double(), batch[:k].to(mean.device)], 1))
    flat = _to_host([*parts.values(), *layers, *bn_parts])
    out = Measured(layer_names=names)
    for key in parts:
        out.scalars[key], flat = flat[0], flat[1:]
    if hooks.stats:
        means, stds = flat[0 : 2 * len(layers) : 2], flat[1 : 2 * len(layers) : 2]
        first = next((i + 1 for i, (a, b) in enumerate(zip(means, stds)) if not _finite(a, b)), None)
        out.layers = LayerStats(variant, 0, tuple(means), tuple(stds), first, step=step)
    flat = flat[2 * len(layers) :]
    rows = []
    for (name, _), part in zip(hooks.bns, bn_parts):
        for f in range(part.shape[0]):
            rm, rv, bm, bv = flat[:4]
            flat = flat[4:]
            rows.append((variant, 0, step, name, f + 1, rm, rv, bm, bv))
    if rows:
        out.rows = TableRows("running_stats", RUNNING_COLUMNS, tuple(rows), key=("variant", "seed", "layer", "feature"))
    return out


def _to_host(tensors: list[torch.Tensor]) -> list[float]:
    """Every tensor's values, in order, as floats: one copy to the host."""
    if not tensors:
        return []
    device = tensors[0].device
    return torch.cat([t.detach().double().to(device).flatten() for t in tensors]).cpu().tolist()


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)
