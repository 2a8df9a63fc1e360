"""Which runs of a ``train`` plan can train together as one stack (:mod:`.batched`), and why others train alone.

**Eligible** (:func:`unsupported` says why not): an ``nn.Sequential`` (a layer list, or a
factory's) of ``Linear``, ``Flatten``, ``Dropout`` and elementwise activations (ReLU,
GELU, Tanh, Sigmoid, SiLU, LeakyReLU, ELU, Identity), float32 parameters that all
require grad, a Linear only on flat features, on the CPU or CUDA. Convolutions, pooling
and every normalization layer (BatchNorm's running statistics above all) train one at a
time. Runs stack when they share the data and training parameters (:data:`SHARED`).
``stack_runs = "auto"`` stacks 2 to 8 such runs on the CPU (a whole group on a GPU: the
stacks are planned by :mod:`regtui.engine.stacking`, as the lessons' are) when a step is
cheap enough to gain (:data:`CPU_MAX_FLOP`: stacking saves per-op overhead, not
arithmetic); ``"on"`` stacks whatever is eligible, even one run; ``"off"`` never.

The units of a plan come from :func:`plan_stacks`; :func:`why_alone` and :func:`mismatch` give
the reason a unit trains one run at a time (it goes into ``Summary("stacking")``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from regtui.engine.custom.model_run import ModelRun
from regtui.engine.stacking import cut, group_runs, stack_limit
from regtui.events import RunSpec

__all__ = ["SHARED", "mismatch", "plan_stacks", "shared_key", "stacked", "unsupported", "why_alone"]

ELEMENTWISE = (nn.ReLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.LeakyReLU, nn.ELU, nn.Identity)
# Parameters the runs of one stack must share (the others may differ per model).
SHARED = (
    "optimizer",
    "loss",
    "batch",
    "steps",
    "log_every",
    "shuffle",
    "train_size",
    "test_size",
    "test_fraction",
    "val_fraction",
    "norm",
    "norm_groups",
    "stats_features",
    "amp",
    "compile",
)
# auto stacks on the CPU only models whose step is at most this much arithmetic (6 · batch · Σ in·out):
# measured (1 thread, 4 models): 16 MFLOP 1.9x, 60-230 MFLOP 1.2-1.4x, 860 MFLOP 1.05x, 2 GFLOP ≈ 1x or worse
# (bmm is no faster than mm once the matmuls dominate; only the per-op overhead is saved).
CPU_MAX_FLOP = 500e6
STACKED_DATA_BYTES = 512 << 20  # the concatenated training sets of a stack's distinct seeds, at most


def shared_key(p: dict[str, Any]) -> tuple[Any, ...] | None:
    """What runs must share to be stacked; None: the run trains alone (``stack_runs = "off"``)."""
    if p.get("stack_runs", "auto") == "off":
        return None
    return tuple(p.get(k) for k in SHARED)


def plan_stacks(runs: Sequence[RunSpec], device: torch.device) -> list[list[int]]:
    """The plan's runs as units in training order: lists of run indices (a stack, or one run alone).

    Runs with the same :func:`shared_key` form a group, cut into equal stacks of at most
    :func:`~regtui.engine.stacking.stack_limit` (see :mod:`regtui.engine.stacking`; whether a unit
    trains as a stack is :func:`stacked`). Units come in the order of their first run.
    """
    if device.type not in ("cpu", "cuda"):
        return [[i] for i in range(len(runs))]
    limit = stack_limit(device)
    return [
        part for group in group_runs([shared_key(r.params) for r in runs]) for part in cut(group, limit, balanced=True)
    ]


def stacked(runs: Sequence[RunSpec]) -> bool:
    """Whether a unit of :func:`plan_stacks` is trained as a stack (two runs or more, or one that asks)."""
    return len(runs) >= 2 or runs[0].params.get("stack_runs") == "on"


# --- eligibility ------------------------------------------------------------------------------


def unsupported(model: nn.Module, input_shape: tuple[int, ...], device: torch.device) -> str | None:
    """Why this model cannot be stacked, or None."""
    if device.type not in ("cpu", "cuda"):
        return f"stacking runs on the CPU or CUDA, not {device.type}"
    if type(model) is not nn.Sequential:
        return f"the model is a {type(model).__name__}, not an nn.Sequential"
    for q in model.parameters():
        if q.dtype != torch.float32 or not q.requires_grad:
            return "a parameter is not a float32 tensor that requires grad"
    shape = tuple(input_shape)
    for i, m in enumerate(model.children()):
        kind = type(m)
        if isinstance(m, nn.Linear) and kind is nn.Linear:
            if len(shape) != 1:
                return f"layer {i} is a Linear on {len(shape)}-d inputs"
            shape = (int(m.out_features),)
        elif isinstance(m, nn.Flatten) and kind is nn.Flatten:
            if (m.start_dim, m.end_dim) != (1, -1):
                return f"layer {i} is a Flatten of dims {m.start_dim}..{m.end_dim}"
            shape = (math.prod(shape),)
        elif kind is nn.Dropout or kind in ELEMENTWISE:
            pass
        else:
            return f"{kind.__name__} layers train one at a time"
    if any(True for _ in model.buffers()):
        return "the model has buffers"
    return None


def why_alone(first: ModelRun, specs: Sequence[RunSpec]) -> str | None:
    """Why a unit of :func:`plan_stacks` trains one run at a time (``first`` is its first run, built), or None."""
    p = first.p
    if not stacked(specs):
        if shared_key(p) is None:
            return "stack_runs = off"
        if first.dev.type not in ("cpu", "cuda"):
            return f"stacking runs on the CPU or CUDA, not {first.dev.type}"
        return "no other run shares its model, data and training parameters"
    if p["resume"]:
        return "a resumed run trains alone"
    if p["amp"] == "fp16":
        return "amp = fp16 trains one run at a time (torch.amp.GradScaler steps a torch.optim optimizer)"
    if p["compile"]:
        return "compile = true trains one run at a time (torch.compile compiles each run's module)"
    if p["optimizer"] == "rmsprop":
        return "RMSprop has no stacked update (torch has no fused RMSprop kernel)"
    why = unsupported(first.model, tuple(first.x_train.shape[1:]), first.dev)
    if why is not None:
        return why
    flop = step_flop(first.model, min(p["batch"], len(first.x_train)))
    if first.dev.type == "cpu" and flop > CPU_MAX_FLOP and any(r.params.get("stack_runs") != "on" for r in specs):
        return f"a step is too much arithmetic to gain from stacking ({flop / 1e6:.0f} MFLOP; auto stacks up to 500)"
    seeds = len({r.seed for r in specs})
    size = first.x_train.element_size() * first.x_train.numel() + first.y_train.element_size() * first.y_train.numel()
    if seeds > 1 and seeds * size > STACKED_DATA_BYTES:
        return f"the training sets of {seeds} seeds are too large to stack ({seeds * size / 2**20:.0f} MB)"
    return None


def step_flop(model: nn.Module, batch: int) -> float:
    """Multiply-adds ×2 of a training step's matmuls (forward and the two backward products)."""
    return 6.0 * batch * sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear))


def mismatch(runs: Sequence[ModelRun]) -> str | None:
    """Why the built models of a unit cannot be stacked after all (different architectures or data), or None."""
    first = runs[0]
    sig = signature(first.model)
    for r in runs[1:]:
        if signature(r.model) != sig:
            return "the factory gave different architectures"
        if r.x_train.shape != first.x_train.shape or r.y_train.shape != first.y_train.shape:
            return "the training sets differ in size"
    return None


def signature(model: nn.Module) -> list[Any]:
    """The architecture (dropout p excluded): equal signatures stack."""
    out: list[Any] = []
    for m in model.children():
        if isinstance(m, nn.Dropout):
            out.append("dropout")
            continue
        attrs = {k: v for k, v in vars(m).items() if not k.startswith("_") and k not in ("training", "inplace")}
        out.append((type(m).__name__, sorted(attrs.items()), [tuple(q.shape) for q in m.parameters()]))
    return out


# --- the stack --------------------------------------------------------------------------------
