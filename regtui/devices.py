"""Which torch devices exist here, and resolving the user's choice to one of them."""

from __future__ import annotations

import importlib.util

from regtui.specs import ConfigError

CHOICES = "auto, cpu, cuda, cuda:N, mps"


def available() -> list[str]:
    """Devices that can run an experiment now, best last is not implied: cpu first, then accelerators."""
    import torch

    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return names


def best() -> str:
    """The fastest available device: the first GPU, else mps, else cpu."""
    names = available()
    for prefix in ("cuda", "mps"):
        for name in names:
            if name.startswith(prefix):
                return name
    return "cpu"


def resolve(name: str) -> str:
    """Map auto/cpu/cuda/cuda:N/mps to an available device name, or raise a one-line ConfigError."""
    name = name.strip().lower()
    if name == "auto":
        return best()
    asked = name
    if name == "cuda":
        name = "cuda:0"
    names = available()
    if name in names:
        return name
    valid = name in ("cpu", "mps") or (name.startswith("cuda:") and name[5:].isdigit())
    if not valid:
        raise ConfigError(f"--device: {name!r} is not a device; allowed: {CHOICES}")
    raise ConfigError(f"--device: {asked!r} is not available on this machine; available: {', '.join(names)} (or auto)")


def ray_choices(names: list[str]) -> list[str]:
    """The dashboard's Ray choices where Ray is installed: ``ray`` (tasks on the CPU), and ``ray:cuda``
    on a machine with a GPU (its cluster likely has them); see :mod:`regtui.engine.executors`."""
    if importlib.util.find_spec("ray") is None:
        return []
    return ["ray"] + (["ray:cuda"] if any(n.startswith("cuda") for n in names) else [])
