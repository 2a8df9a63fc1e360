"""PyTorch's default init of ``nn.Linear`` and ``nn.Conv*`` layers, drawn from a run's generator.

The arithmetic is ``reset_parameters``' own: ``kaiming_uniform_(a=√5)`` for the weight, which
is U(±1/√fan_in), and U(±1/√fan_in) for the bias. It is drawn from the run's own
``torch.Generator`` instead of the global RNG, so an init depends on the run's seed alone (not
on what ran before it in the process) and every variant of one seed starts from the same
weights.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["INIT_LAYERS", "default_init", "init_layers"]

INIT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)  # the layers init_layers draws


def default_init(weight: torch.Tensor, bias: torch.Tensor | None, generator: torch.Generator) -> None:
    """Fill ``weight`` (``[out, in, *kernel]``) and ``bias`` as the layer's ``reset_parameters`` would."""
    fan_in = weight.shape[1] * math.prod(weight.shape[2:])
    with torch.no_grad():
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
        if bias is not None:
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            nn.init.uniform_(bias, -bound, bound, generator=generator)


def init_layers(model: nn.Module, generator: torch.Generator) -> None:
    """:func:`default_init` of every Linear and Conv layer of ``model``, in module order."""
    for m in model.modules():
        if isinstance(m, INIT_LAYERS):
            default_init(m.weight, m.bias, generator)
