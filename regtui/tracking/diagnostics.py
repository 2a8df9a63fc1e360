"""The pitfalls regtui's lessons teach, found in a tracked run: each a warning naming its lesson.

A :class:`Pitfall` says what was found, at which step, and the scenario that teaches it
(``regtui --scenario adamw``…). The checks are plain functions of what the run has at hand: the
optimizer's parameter groups (at :func:`regtui.track`), the forward a logging step captured
(:class:`~regtui.tracking.hooks.StepHooks`), an evaluation's modes and a logged loss. Each check
has a code by which it is silenced (``track(..., ignore=("adam_weight_decay",))``). Nothing here
imports torch at module level: the optimizer checks need only the optimizer's groups and classes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# Each check's code and the lesson scenario that teaches it.
LESSONS = {
    "decay_on_norm_and_bias": "no-decay-groups",
    "adam_weight_decay": "adamw",
    "dropout_before_batchnorm": "dropout-before-bn",
    "batchnorm_small_batch": "norms",
    "eval_in_train_mode": "bn-eval",
    "activation_scale": "bn",
    "nonfinite_loss": "bn",
}
SCALE_LIMIT = 1e3  # the activation std may grow or shrink this much from the first layer to the last


@dataclass(frozen=True)
class Pitfall:
    code: str
    message: str
    step: int | None = None

    @property
    def lesson(self) -> str:
        return f"regtui --scenario {LESSONS[self.code]}"

    def as_dict(self) -> dict[str, Any]:
        """The document's (and the Results view's) row: ``summary.warnings[i]``."""
        return {"check": self.code, "step": self.step, "message": self.message, "lesson": self.lesson}


def _class_names(obj: Any) -> set[str]:
    return {c.__name__ for c in type(obj).__mro__}


# --- the optimizer (at track()) -------------------------------------------------------------


def adam_weight_decay(optimizer: Any) -> Pitfall | None:
    """``Adam(weight_decay=λ)`` adds λ·w to the gradient, which Adam then rescales: not weight decay."""
    if "Adam" not in _class_names(optimizer) or "AdamW" in _class_names(optimizer):
        return None
    decays = [g["weight_decay"] for g in optimizer.param_groups if g.get("weight_decay") and not _decoupled(g)]
    if not decays:
        return None
    return Pitfall(
        "adam_weight_decay",
        f"Adam with weight_decay={decays[0]:g} is an L2 term that Adam's scaling weakens for large gradients, "
        "not weight decay; AdamW decouples it",
    )


def _decoupled(group: dict[str, Any]) -> bool:
    return bool(group.get("decoupled_weight_decay", False))


def decay_on_norm_and_bias(model: Any, optimizer: Any) -> Pitfall | None:
    """AdamW (decoupled decay) shrinking biases and normalization γ/β toward 0, which nothing asks for."""
    names = _class_names(optimizer)
    if "AdamW" not in names and not any(_decoupled(g) for g in optimizer.param_groups):
        return None
    from regtui.engine.decay_groups import skips_decay

    spared = {}  # id of each bias or normalization parameter -> its name
    for m_name, m in model.named_modules():
        for p_name, q in m.named_parameters(recurse=False):
            if skips_decay(m, p_name):
                spared[id(q)] = f"{m_name}.{p_name}".lstrip(".")
    hit = [
        spared[id(q)] for g in optimizer.param_groups if g.get("weight_decay") for q in g["params"] if id(q) in spared
    ]
    if not hit:
        return None
    shown = ", ".join(hit[:3]) + (", …" if len(hit) > 3 else "")
    return Pitfall(
        "decay_on_norm_and_bias",
        f"weight decay applies to {len(hit)} bias and normalization parameters ({shown}); "
        "put them in a parameter group with weight_decay=0",
    )


# --- a logging step's forward -------------------------------------------------------------


def dropout_before_batchnorm(order: Sequence[str], modules: dict[str, Any], step: int) -> Pitfall | None:
    """A Dropout whose output a BatchNorm normalizes next: its running variance then is not eval mode's."""
    for before, after in itertools.pairwise(order):
        dropout, bn = modules.get(before), modules.get(after)
        if "_DropoutNd" in _class_names(dropout) and getattr(dropout, "p", 0) > 0 and "_BatchNorm" in _class_names(bn):
            return Pitfall(
                "dropout_before_batchnorm",
                f"Dropout {before} feeds BatchNorm {after}: its running variance learns dropout's noise, "
                "which eval mode does not have",
                step,
            )
    return None


def batchnorm_small_batch(shapes: dict[str, tuple[int, ...]], step: int) -> Pitfall | None:
    """BatchNorm trained on one sample, or on 2 values per channel: its batch statistics are no estimate."""
    for name, shape in shapes.items():
        values = math.prod(shape) // max(1, shape[1])
        if shape[0] == 1 or values <= 2:
            return Pitfall(
                "batchnorm_small_batch",
                f"BatchNorm {name} trains on batches of {shape[0]} ({values} values per channel); "
                "GroupNorm or LayerNorm do not depend on the batch",
                step,
            )
    return None


def activation_scale(names: Sequence[str], stds: Sequence[float], step: int) -> Pitfall | None:
    """The activations' std grows or shrinks by more than SCALE_LIMIT from the first layer to the last."""
    finite = [(n, s) for n, s in zip(names, stds) if math.isfinite(s)]
    if len(finite) < 2 or len(finite) < len(stds) or finite[0][1] <= 0:
        return None
    (first, a), (last, b) = finite[0], finite[-1]
    ratio = b / a
    if 1 / SCALE_LIMIT <= ratio <= SCALE_LIMIT:
        return None
    way = "grows" if ratio > 1 else "shrinks"
    return Pitfall(
        "activation_scale",
        f"the activation std {way} {ratio:.3g}x from {first} ({a:.3g}) to {last} ({b:.3g}); "
        "check the initialization, or normalize",
        step,
    )


# --- evaluation and loss ----------------------------------------------------------------------


def eval_in_train_mode(step: int) -> Pitfall:
    return Pitfall(
        "eval_in_train_mode",
        "run.evaluate ran with Dropout or BatchNorm in train mode (model.eval() missing): the logged "
        "test_* values are eval mode's, regtui measured them; yours are test_*_train_mode",
        step,
    )


def nonfinite_loss(step: int, values: dict[str, float]) -> Pitfall | None:
    bad = [k for k, v in values.items() if "loss" in k and not math.isfinite(v)]
    if not bad:
        return None
    return Pitfall("nonfinite_loss", f"{bad[0]} is {values[bad[0]]} at step {step}", step)


def with_first_bad_layer(pitfall: Pitfall, names: Sequence[str], first: int | None, step: int) -> Pitfall:
    """The non-finite loss's warning, told which layer's output went inf/NaN first (measured at ``step``)."""
    if first is None:
        return Pitfall(pitfall.code, f"{pitfall.message}; every layer's output was finite at step {step}", pitfall.step)
    layer = names[first - 1]
    return Pitfall(
        pitfall.code, f"{pitfall.message}; the first layer to go inf/NaN: {layer} (step {step})", pitfall.step
    )


def unknown(codes: Iterable[str]) -> list[str]:
    return [c for c in codes if c not in LESSONS]
