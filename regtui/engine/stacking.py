"""Which runs train together as one stack: one planner and one size limit for both stacking paths.

The lesson MLPs (:mod:`regtui.engine.mlp_training`, kernel :class:`~regtui.engine.stacked.StackedMLP`)
and the ``train`` kind (:mod:`regtui.engine.custom.batched`) plan their stacks the same way: each
run has a key (what runs must share to be stacked: the architecture, the data, the step count…),
runs with equal keys form a group, groups come in the order of their first run, a run without a
key trains alone, and every group is cut into stacks of at most :func:`stack_limit` runs.

**The limit**, one for both paths, chosen by device:

- CPU: 8 models. A stack's parameters, gradients and optimizer state must stay in cache.
  Measured on the 2-core dev machines, for the lesson MLP (hidden 200, 3 layers, SGD) a
  model-step costs ≈125 µs at M = 4–8 but ≈200–250 µs at M = 16–32, whose 16–31 MB working set
  falls out of cache; for the train kind's digits MLP (64-256-256-10, Adam, batch 32) ≈940 µs
  at 4, 630 at 8 and 860 at 16 (≈22 MB). Larger groups are several stacks that take turns.
- GPU (any other device): no limit, a group is one stack. There a step is bound by kernel
  launches, not arithmetic (on an H200 one stack of 32 lesson MLPs ran 52,000 model-steps/s,
  71x the per-model loop), so every cut would multiply the launches of a step; and a cut saves
  no memory that counts: the memory check before a run budgets every model of the plan at once.

**The cut** keeps each path's numbers as they were measured. The lesson MLPs draw their dropout
masks from one generator per stack, so the cut decides a run's masks: their groups are filled in
plan order (``balanced=False``: 20 runs are 8 + 8 + 4). The train kind draws each model's masks
from its own seed, so only speed depends on the cut: its groups are cut into equal stacks
(``balanced=True``: 20 runs are 7 + 7 + 6), which never leaves one run alone.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import torch

__all__ = ["CPU_LIMIT", "UNLIMITED", "cut", "group_runs", "stack_limit"]

CPU_LIMIT = 8  # models per stack on the CPU (see the module docstring)
UNLIMITED = 1 << 30


def stack_limit(device: torch.device) -> int:
    """Most models in one stack on ``device``."""
    return CPU_LIMIT if device.type == "cpu" else UNLIMITED


def group_runs(keys: Sequence[Hashable | None]) -> list[list[int]]:
    """Run indices grouped by equal key, groups in the order of their first run; a None key is a group of one."""
    groups: dict[Hashable, list[int]] = {}
    out: list[list[int]] = []
    for i, key in enumerate(keys):
        if key is None:
            out.append([i])
        elif key in groups:
            groups[key].append(i)
        else:
            groups[key] = [i]
            out.append(groups[key])  # filled in place
    return out


def cut(group: list[int], limit: int, *, balanced: bool) -> list[list[int]]:
    """A group as consecutive stacks of at most ``limit`` runs: full stacks then the rest, or equal stacks."""
    n = len(group)
    size = max(1, limit if not balanced else math.ceil(n / max(1, math.ceil(n / limit))))
    return [group[start : start + size] for start in range(0, n, size)]
