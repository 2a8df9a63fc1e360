"""``torch.optim.SGD``'s update (dampening 0, Nesterov or not), written once for every experiment.

Written out rather than imported because the first ``torch.optim`` optimizer
pulls in ``torch._dynamo`` (≈1 s). Same arithmetic as PyTorch:
``g = grad + weight_decay·p``; ``buf = g`` on the first step, then
``buf = momentum·buf + g``; ``p -= lr·buf`` (``p -= lr·g`` without momentum; with Nesterov
``p -= lr·(g + momentum·buf)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def fused_available(device: torch.device) -> bool:
    """Whether ``torch._fused_sgd_`` (the kernel behind ``SGD(fused=True)``) runs on ``device``."""
    return device.type in ("cpu", "cuda") and hasattr(torch, "_fused_sgd_")


def sgd_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    bufs: list[torch.Tensor],
    *,
    lr: float,
    momentum: float,
    weight_decay: float,
    first: bool,
    fused: bool,
    nesterov: bool = False,
) -> None:
    """One SGD step of ``params`` in place. ``grads`` may be overwritten (by the weight decay term).

    Call it under ``torch.no_grad()`` when ``params`` require grad (an optimizer's step is; torch
    refuses an in-place update of such a leaf otherwise). It does not enter that mode itself: that
    costs microseconds per call, and a stack's step makes one call per hyperparameter group, weight
    decay's worked numbers 2,000 per variant.

    ``fused``: one ``torch._fused_sgd_`` pass over parameters, gradients and momentum;
    otherwise the ``torch._foreach_*`` ops of ``SGD(foreach=True)``.
    """
    if fused:
        torch._fused_sgd_(
            params,
            grads,
            bufs if momentum != 0 else [],
            weight_decay=weight_decay,
            momentum=momentum,
            lr=lr,
            dampening=0.0,
            nesterov=nesterov,
            maximize=False,
            is_first_step=first and momentum != 0,
        )
        return
    if weight_decay != 0:
        torch._foreach_add_(grads, params, alpha=weight_decay)  # g = grad + wd·p
    step = grads
    if momentum != 0:
        if first:
            torch._foreach_copy_(bufs, grads)  # buf = g
        else:
            torch._foreach_mul_(bufs, momentum)  # buf = momentum·buf + g
            torch._foreach_add_(bufs, grads)
        if nesterov:
            torch._foreach_add_(grads, bufs, alpha=momentum)  # Nesterov: g + momentum·buf
        else:
            step = bufs
    torch._foreach_add_(params, step, alpha=-lr)  # p -= lr·buf


class MomentumSGD:
    """``torch.optim.SGD(params, lr, momentum)`` for an ``nn.Module``'s parameters."""

    def __init__(self, params: Sequence[torch.Tensor], lr: float, momentum: float) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr = lr
        self.momentum = momentum
        self.bufs = [torch.empty_like(p) for p in self.params] if momentum != 0 else []
        self.steps = 0

    def step(self, loss: torch.Tensor) -> None:
        grads = list(torch.autograd.grad(loss, self.params))
        with torch.no_grad():
            sgd_update(
                self.params,
                grads,
                self.bufs,
                lr=self.lr,
                momentum=self.momentum,
                weight_decay=0.0,
                first=self.steps == 0,
                fused=False,
            )
        self.steps += 1
