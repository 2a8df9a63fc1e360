"""Which parameters weight decay leaves alone: biases and the normalization layers' γ and β.

Common practice (BERT, GPT, timm, …) gives them no weight decay: a bias or a norm layer's
scale has no "size" that a penalty should shrink, and decaying γ fights the normalization.
The no-decay-groups lesson (``exclude = true``) and the ``train`` kind
(``decay_norm_and_bias = false``, also in its stacks) apply this one rule: a parameter is not
decayed when it is named ``bias`` or belongs to a normalization layer. For the lesson's nets
(Linear and LayerNorm/BatchNorm1d layers) these are exactly the parameters with ``ndim < 2``,
the idiom the lesson shows.
"""

from __future__ import annotations

from typing import Any

from torch import nn

__all__ = ["NORM_CLASSES", "param_groups", "skips_decay"]

NORM_CLASSES = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm, nn.modules.instancenorm._InstanceNorm)


def skips_decay(module: nn.Module, name: str) -> bool:
    """Whether ``module``'s own parameter ``name`` is left undecayed."""
    return isinstance(module, NORM_CLASSES) or name == "bias"


def param_groups(model: nn.Module, weight_decay: float, decay_all: bool) -> list[dict[str, Any]]:
    """The optimizer's parameter groups: one, every parameter decayed; or two, the decayed parameters
    and those :func:`skips_decay` leaves alone, with weight_decay 0."""
    params = [q for q in model.parameters() if q.requires_grad]
    if decay_all:
        return [{"params": params, "weight_decay": weight_decay}]
    skip = {id(q) for m in model.modules() for name, q in m.named_parameters(recurse=False) if skips_decay(m, name)}
    return [
        {"params": [q for q in params if id(q) not in skip], "weight_decay": weight_decay},
        {"params": [q for q in params if id(q) in skip], "weight_decay": 0.0},
    ]
