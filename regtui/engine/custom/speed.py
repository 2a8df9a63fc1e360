"""The speed options of the ``train`` kind: ``amp`` (mixed precision) and ``compile`` (torch.compile).

``amp = bf16`` runs each training step's forward and loss under
``torch.autocast(device, dtype=torch.bfloat16)`` (CPU or CUDA; stacks too: ``torch.baddbmm``
autocasts as ``nn.Linear`` does); ``amp = fp16`` under float16 autocast with a
``torch.amp.GradScaler`` around the backward and the optimizer step (CUDA only; the scaler
steps a ``torch.optim`` optimizer, so these runs train one at a time). The backward follows
the forward's precision; parameters, optimizer state, gradients and evaluation (logging
steps' test and validation losses, the final losses) stay float32.

``compile = true`` trains with ``torch.compile(model)`` (inductor): the training steps'
forward and backward run the compiled graph; logging steps (whose forward hooks observe the
layers) and evaluation run the same module eagerly. Compiled runs train one at a time (a
stack's forward is not a module). The compiler needs a C++ compiler on the CPU. Random ops
(Dropout's masks) draw from torch's own generator, as eager does (inductor's
``fallback_random``): by default inductor draws them from a random stream of its own, and a
compiled run with Dropout would not be the eager run compiled.

:func:`refusal` says, in one line, why an option cannot act on a device (checked before any
training).
"""

from __future__ import annotations

import os
import shutil
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch

from regtui.specs import ConfigError

__all__ = ["DTYPES", "autocast", "check_device", "compile_failure", "compile_model", "refusal"]

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
CXX = ("g++", "c++", "clang++", "cl")  # what inductor's CPU backend calls (or $CXX)


def autocast(device: torch.device, amp: str) -> AbstractContextManager[Any]:
    """The training step's autocast for ``amp`` (off: nothing)."""
    if amp == "off":
        return nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[amp])


def _cxx() -> str | None:
    return os.environ.get("CXX") or next((c for c in CXX if shutil.which(c)), None)


def refusal(p: dict[str, Any], device: torch.device) -> str | None:
    """Why ``amp`` or ``compile`` cannot act on ``device``, as a one-line error; None when they can."""
    amp = p.get("amp", "off")
    kind = device.type
    if amp == "fp16" and kind != "cuda":
        return f"amp: fp16 needs a CUDA device (torch.amp.GradScaler); on {kind} use amp = bf16 or off"
    if amp == "bf16":
        if not torch.amp.is_autocast_available(kind):
            return f"amp: bf16 is not allowed on {kind} (torch.autocast has no {kind} backend); use amp = off"
        if kind == "cuda" and not torch.cuda.is_bf16_supported():
            return f"amp: bf16 is not supported by {torch.cuda.get_device_name(device)}; use amp = fp16 or off"
    if p.get("compile"):
        if kind == "cpu" and _cxx() is None:
            return (
                "compile: torch.compile's CPU backend (inductor) needs a C++ compiler (g++ or clang++, or $CXX), "
                "none found; install one or use compile = false"
            )
        if kind not in ("cpu", "cuda"):
            return f"compile: regtui compiles on the CPU or CUDA, not {kind}; use compile = false"
    return None


def compile_model(model: torch.nn.Module) -> Any:
    """``torch.compile(model)``, its random ops drawn as eager's (``fallback_random``: the same
    Dropout masks, so the same numbers); a platform torch.compile does not support (a Python it
    does not know) as a one-line error."""
    try:
        return torch.compile(model, options={"fallback_random": True})
    except RuntimeError as exc:
        raise ConfigError(f"compile: {str(exc).splitlines()[0]}; use compile = false") from None


def check_device(runs: Any, device: Any) -> None:
    """Every run's ``amp`` and ``compile`` act on ``device`` (a torch.device or its name), or ConfigError
    with :func:`refusal`'s line; checked before any training (headless: exit 2)."""
    device = torch.device(device)
    for r in runs:
        why = refusal(r.params, device)
        if why is not None:
            raise ConfigError(why)


def compile_failure(exc: BaseException) -> ConfigError:
    """A compiler's failure at a compiled module's first call (inductor's C++ build, a missing triton …) as a
    one-line error: its kind and first line."""
    cause = getattr(exc, "inner_exception", None) or exc  # torch._dynamo's BackendCompilerFailed wraps it
    line = next((x.strip() for x in str(cause).splitlines() if x.strip()), "")
    return ConfigError(f"compile: torch.compile failed here ({type(cause).__name__}: {line}); use compile = false")
