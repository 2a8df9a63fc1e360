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
from regtui.engine.measures import RUNNING_COLUMNS
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
    keys, counts, norms = tensor_norms(with_params)
    dead = [(name, units) for name, (_, units) in hooks.dead.items()]
    names = [n for n, _ in hooks.observed]
    moments = [hooks.stats.get(n) for n in names]
    sums = [t for moment in moments if moment is not None for t in moment[:2]]
    bn_parts = []
    for name, m in hooks.bns:
        assert isinstance(m, _BatchNorm)
        mean, var = running(m)
        k = min(hooks.n_feat, mean.numel())
        batch = hooks.bn_inputs.get(name)
        if batch is None:
            batch = torch.full((k, 2), math.nan, dtype=torch.float64, device=mean.device)
        bn_parts.append(torch.cat([torch.stack([mean[:k], var[:k]], 1).double(), batch[:k].to(mean.device)], 1))
    flat = _to_host([*norms, *(count for count, _ in hooks.dead.values()), *sums], bn_parts)
    out = Measured(layer_names=names)
    out.scalars = dict(zip(keys, combined(counts, flat)))
    flat = flat[len(norms) :]
    out.scalars.update((f"dead_relu/{name}", count / units) for (name, units), count in zip(dead, flat))
    flat = flat[len(dead) :]
    if hooks.stats:
        stats = []
        for moment in moments:
            if moment is None:
                stats.append((math.nan, math.nan))
            else:
                stats.append(mean_std(flat[0], flat[1], moment[2]))
                flat = flat[2:]
        means, stds = tuple(a for a, _ in stats), tuple(b for _, b in stats)
        first = next((i + 1 for i, (a, b) in enumerate(stats) if not _finite(a, b)), None)
        out.layers = LayerStats(variant, 0, means, stds, first, step=step)
    rows = []
    for (name, _), part in zip(hooks.bns, bn_parts):
        for f in range(part.shape[0]):
            rm, rv, bm, bv = flat[:4]
            flat = flat[4:]
            rows.append((variant, 0, step, name, f + 1, rm, rv, bm, bv))
    if rows:
        out.rows = TableRows("running_stats", RUNNING_COLUMNS, tuple(rows), key=("variant", "seed", "layer", "feature"))
    return out


def tensor_norms(with_params: Sequence[tuple[str, Sequence[torch.Tensor]]]) -> tuple[list[str], list[int], tuple]:
    """The names ``weight_norm/<layer>`` and ``grad_norm/<layer>`` (layers with a gradient), how many
    tensors each takes, and every one of those tensors' L2 norm, in that order.

    One ``torch._foreach_norm`` call (the per-tensor norms ``clip_grad_norm_`` takes: one fused kernel
    per device and dtype on a GPU) rather than a few small kernels per tensor; a layer's norm is
    combined on the host from its tensors' norms, sqrt(sum of squares) (:func:`combined`).
    """
    keys: list[str] = []
    counts: list[int] = []
    tensors: list[torch.Tensor] = []
    for kind, grads in (("weight_norm", False), ("grad_norm", True)):
        for name, qs in with_params:
            found = [t.detach() for t in (q.grad if grads else q for q in qs) if t is not None]
            if found:
                keys.append(f"{kind}/{name}")
                counts.append(len(found))
                tensors += found
    return keys, counts, torch._foreach_norm(tensors) if tensors else ()


def combined(counts: Sequence[int], norms: Sequence[float]) -> list[float]:
    """Per group of ``counts[i]`` consecutive tensor norms, the norm of those tensors together."""
    out, at = [], 0
    for n in counts:
        out.append(math.sqrt(math.fsum(v * v for v in norms[at : at + n])))
        at += n
    return out


def mean_std(total: float, norm: float, n: int) -> tuple[float, float]:
    """Mean and std (unbiased, as ``Tensor.std``) of ``n`` values from their sum and L2 norm.

    In float64 from float64 sums: the cancellation in sum(x²) − n·mean² costs about
    (mean/std)² · 1e-16 relative, far below what the views show for any layer output.
    """
    mean = total / n
    if not (math.isfinite(total) and math.isfinite(norm)):
        return mean, math.nan
    return mean, math.sqrt(max(norm * norm - n * mean * mean, 0.0) / (n - 1))


def _to_host(scalars: Sequence[torch.Tensor], blocks: Sequence[torch.Tensor] = ()) -> list[float]:
    """The 0-d ``scalars`` then every value of the ``blocks``, as floats: one copy to the host
    (``torch.stack``/``cat`` promote to float64; a model across devices is gathered on the first)."""
    parts = []
    try:
        if scalars:
            parts.append(torch.stack(list(scalars)).to(torch.float64))
        parts += [b.reshape(-1).to(torch.float64) for b in blocks]
        flat = torch.cat(parts) if len(parts) > 1 else parts[0] if parts else None
    except RuntimeError:  # tensors on several devices
        device = (list(scalars) + list(blocks))[0].device
        flat = torch.cat([t.reshape(-1).to(device, torch.float64) for t in [*scalars, *blocks]])
    return [] if flat is None else flat.cpu().tolist()


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)
