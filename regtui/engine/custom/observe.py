"""What a logging step of the ``train`` kind observes: layer outputs and BatchNorm inputs.

Forward hooks cost a host-visible copy per layer, so they are installed only for the
forward of a logging step (:class:`Observer`), then removed. Statistics are taken in
float64, so the std of huge-but-finite float32 activations is not itself inf.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = [
    "HIST_BINS",
    "HIST_COLUMNS",
    "Observer",
    "bn_batch_stats",
    "histogram",
    "layer_stats",
    "running",
    "stacked_layer_stats",
]

HIST_BINS = 20  # equal bins over [min, max] of the tensor at that step
HIST_COLUMNS = (
    "variant",
    "seed",
    "step",
    "layer",
    "of",  # weights, gradients or activations
    "min",
    "max",
    "count",
    "sum",
    "sum_squares",
    *(f"bin_{i + 1}" for i in range(HIST_BINS)),
)


def histogram(t: torch.Tensor) -> torch.Tensor:
    """float64 [min, max, count, sum, sum of squares, HIST_BINS counts]: ``torch.histc`` over the tensor's own
    range (one constant value: [v − 1, v + 1], as histc takes it); NaN where it holds inf/NaN."""
    x = t.detach().flatten().float()
    if x.numel() == 0:
        return torch.full((5 + HIST_BINS,), math.nan, dtype=torch.float64, device=x.device)
    lo, hi = (v.item() for v in torch.aminmax(x))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return torch.full((5 + HIST_BINS,), math.nan, dtype=torch.float64, device=x.device)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    head = torch.tensor([lo, hi, x.numel()], dtype=torch.float64, device=x.device)
    sums = torch.stack([x.sum(dtype=torch.float64), x.square().sum(dtype=torch.float64)])
    return torch.cat([head, sums, torch.histc(x, HIST_BINS, lo, hi).double()])


def layer_stats(out: Any) -> torch.Tensor:
    """(mean, std) of a layer's output over every element, in float64 (NaN for a non-tensor output)."""
    if not isinstance(out, torch.Tensor) or not out.is_floating_point() or out.numel() < 2:
        return torch.full((2,), math.nan, dtype=torch.float64)
    o = out.detach().to(torch.float64)
    return torch.stack([o.mean(), o.std()])


def stacked_layer_stats(a: torch.Tensor) -> torch.Tensor:
    """``[M, 2]``: :func:`layer_stats` of each model's slice of a stacked layer output ``[M, …]``."""
    o = a.detach().to(torch.float64).flatten(1)
    if o.shape[1] < 2:
        return torch.full((o.shape[0], 2), math.nan, dtype=torch.float64, device=a.device)
    return torch.stack([o.mean(1), o.std(1)], 1)


def bn_batch_stats(x: torch.Tensor, n_feat: int) -> torch.Tensor:
    """(features, 2): the batch mean and unbiased variance per channel of a BatchNorm input."""
    x = x.detach().to(torch.float64)
    dims = [d for d in range(x.dim()) if d != 1]
    return torch.stack([x.mean(dim=dims), x.var(dim=dims, unbiased=True)], 1)[:n_feat]


def running(m: _BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """A tracking BatchNorm's running mean and variance (only those are observed)."""
    assert m.running_mean is not None and m.running_var is not None
    return m.running_mean, m.running_var


class Observer:
    """The forward hooks of a logging step, as a context manager: installed for one forward, then removed.

    ``stats`` maps each observed layer to :func:`layer_stats` of its output; ``bn_inputs`` each
    BatchNorm layer to :func:`bn_batch_stats` of its input; with ``histograms``, ``hists`` each
    observed layer to the :func:`histogram` of its output.
    """

    def __init__(
        self,
        observed: Sequence[tuple[str, nn.Module]],
        bns: Sequence[tuple[str, _BatchNorm]],
        n_feat: int,
        histograms: bool = False,
    ) -> None:
        self.observed, self.bns, self.n_feat = observed, bns, n_feat
        self.histograms = histograms
        self.hists: dict[str, torch.Tensor] = {}
        self.stats: dict[str, torch.Tensor] = {}
        self.bn_inputs: dict[str, torch.Tensor] = {}
        self.handles: list[Any] = []

    def __enter__(self) -> Observer:
        self.stats.clear()
        self.bn_inputs.clear()
        self.hists.clear()
        for name, m in self.observed:
            self.handles.append(m.register_forward_hook(lambda mod, inp, out, name=name: self._seen(name, out)))
        for name, m in self.bns:
            self.handles.append(
                m.register_forward_pre_hook(
                    lambda mod, inp, name=name: self.bn_inputs.__setitem__(name, bn_batch_stats(inp[0], self.n_feat))
                )
            )
        return self

    def _seen(self, name: str, out: Any) -> None:
        self.stats[name] = layer_stats(out)
        if self.histograms and isinstance(out, torch.Tensor) and out.is_floating_point():
            self.hists[name] = histogram(out)

    def __exit__(self, *exc: Any) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()
