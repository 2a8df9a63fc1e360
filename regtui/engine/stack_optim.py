"""``torch.optim``'s update of stacked models: one fused call per set of models sharing hyperparameters.

Both stacking paths use it: the lesson MLPs (:class:`~regtui.engine.stacked.StackedMLP`, SGD)
and the ``train`` kind's stacks (:class:`~regtui.engine.custom.batched.Stack`: SGD, Adam, AdamW).
Stacked tensors carry the model axis first (model m's slice of tensor i is ``[m]``), and the
models of a stack may differ in their hyperparameters: a *key* per tensor and model — (lr,
momentum, weight_decay[, nesterov as 1.0 or 0.0]) for SGD, (lr, beta1, beta2, weight_decay) for
Adam/AdamW, any further values for grouping only — where the
weight decay may also differ per tensor (no decay on the train kind's biases, see
:mod:`regtui.engine.decay_groups`). :func:`update_groups` gathers, for each distinct key, the
slices of consecutive models that share it; every step then makes one call of torch's fused
kernel per key over all of its slices (one pass over parameters, gradients and state): the
arithmetic of ``torch.optim.SGD`` (via :func:`regtui.engine.sgd.sgd_update`), ``Adam`` and
``AdamW``, without importing ``torch.optim`` (≈1 s of ``torch._dynamo``).

Nothing mixes across the model axis, so a model that diverges cannot touch another.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from regtui.engine.sgd import sgd_update

__all__ = ["ADAM_EPS", "Key", "StackedOptimizer", "update_groups"]

ADAM_EPS = 1e-8  # torch.optim.Adam/AdamW's default eps
Key = tuple[float, ...]
Slice = tuple[int, int, int]  # (tensor index, first model, end model)


def update_groups(keys: Sequence[Sequence[Key]]) -> list[tuple[Key, list[Slice]]]:
    """``keys[i][m]`` is the key of tensor i for model m; per distinct key (in order of first appearance,
    tensor by tensor), the slices of consecutive models that share it."""
    members: dict[Key, list[Slice]] = {}
    for i, row in enumerate(keys):
        start = 0
        for m in range(1, len(row) + 1):
            if m == len(row) or row[m] != row[start]:
                members.setdefault(row[start], []).append((i, start, m))
                start = m
    return list(members.items())


class StackedOptimizer:
    """The update of stacked ``params`` (``kind``: "sgd", "adam" or "adamw"), one fused call per key.

    ``state`` gives the optimizer's buffers (SGD: momentum; Adam: exp_avg, exp_avg_sq), one list
    per kind of buffer shaped like ``params``; zeros by default. ``grads``, when the gradients
    live in fixed buffers (StackedMLP), lets :meth:`step` use views sliced once; otherwise
    :meth:`step` gets each step's gradients (autograd's, new every step). ``fused`` False runs
    SGD with ``torch._foreach_*`` ops instead (where the fused kernel is unavailable).
    """

    def __init__(
        self,
        kind: str,
        params: list[torch.Tensor],
        keys: Sequence[Sequence[Key]],
        *,
        state: list[list[torch.Tensor]] | None = None,
        grads: list[torch.Tensor] | None = None,
        fused: bool = True,
    ) -> None:
        if kind not in ("sgd", "adam", "adamw"):
            raise ValueError(f"optimizer: one of sgd, adam, adamw, not {kind!r}")
        self.kind, self.fused = kind, fused
        self.steps = 0  # updates done
        self.step_t = torch.zeros((), dtype=torch.float32, device=params[0].device)  # Adam's step count
        if state is None:
            state = [[torch.zeros_like(q) for q in params] for _ in range(1 if kind == "sgd" else 2)]
        self.buffers = state  # whole, model axis first (a model's own state is its slices)
        self.groups = update_groups(keys)
        self.slices = [entries for _, entries in self.groups]
        self.params = [[params[i][s:e] for i, s, e in entries] for entries in self.slices]
        self.state = [[[buf[i][s:e] for i, s, e in entries] for buf in state] for entries in self.slices]
        self.grads = None if grads is None else [self._slice(grads, entries) for entries in self.slices]

    @staticmethod
    def _slice(tensors: Sequence[torch.Tensor], entries: list[Slice]) -> list[torch.Tensor]:
        return [tensors[i][s:e] if (s, e) != (0, len(tensors[i])) else tensors[i] for i, s, e in entries]

    @property
    def group_models(self) -> list[int]:
        """Per key: a model that has it (the first of its first slice), e.g. to find the key's scheduled lr."""
        return [entries[0][1] for entries in self.slices]

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor] | None = None, lrs: Sequence[float] | None = None) -> None:
        """One update of every model from ``grads`` (or the fixed gradient buffers); gradients may be overwritten.

        ``lrs``: per key, the lr of this step in place of the key's (a schedule); a key's further
        values after its first three (SGD) or four (Adam) are for grouping only.
        """
        if self.kind != "sgd":
            self.step_t += 1
        for g, (key, entries) in enumerate(self.groups):
            gs = self.grads[g] if grads is None and self.grads is not None else self._slice(grads or [], entries)
            ps, bufs = self.params[g], self.state[g]
            if lrs is not None:
                key = (lrs[g], *key[1:])
            if self.kind == "sgd":
                lr, momentum, wd = key[:3]
                nesterov = len(key) > 3 and key[3] == 1.0
                sgd_update(
                    ps,
                    gs,
                    bufs[0],
                    lr=lr,
                    momentum=momentum,
                    weight_decay=wd,
                    first=self.steps == 0,
                    fused=self.fused,
                    nesterov=nesterov,
                )
                continue
            lr, beta1, beta2, wd = key[:4]
            fused = torch._fused_adam_ if self.kind == "adam" else torch._fused_adamw_
            fused(
                ps,
                gs,
                bufs[0],
                bufs[1],
                [],
                [self.step_t] * len(ps),
                lr=lr,
                beta1=beta1,
                beta2=beta2,
                weight_decay=wd,
                eps=ADAM_EPS,
                amsgrad=False,
                maximize=False,
            )
        self.steps += 1
