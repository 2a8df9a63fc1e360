"""Checkpoints of the ``train`` kind: ``torch.save`` of state dicts in the run folder, and resuming from them.

``checkpoint = "final"`` writes, when a run (variant × seed) ends — all its steps done, or
stopped early — ``checkpoints/<place>.<variant>.seed<seed>.final.pt`` (place: the variant's
0-based place in the plan): the model's, optimizer's and
scheduler's state dicts, the step, torch's global RNG state, the early-stopping state and the
run's parameters. ``"best"`` writes that too, and ``….best.pt`` (the model's state dict and the
step) at every logging step whose validation loss is the best so far. Files are written to a
temporary name and renamed, so a reader never sees half of one.

``resume = ID`` starts each run of the plan from the final checkpoint of the variant in the same
place and the same seed in run ID (of the same run store): weights, optimizer and scheduler state, RNG, the
position in the batch order; it then trains up to ``steps``. On the CPU its numbers after the
checkpoint's step are the numbers of one run that trained all the steps without stopping.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from regtui.custom_specs.checkpoints import FOLDER, file_name, final_files
from regtui.specs import ConfigError

__all__ = ["FOLDER", "FORMAT", "file_name", "load", "runs_folder", "save"]
FORMAT = "regtui.checkpoint/1"


def save(folder: Path, name: str, payload: dict[str, Any]) -> Path:
    """``torch.save`` of ``payload`` into ``folder/checkpoints/name``, atomically."""
    target = folder / FOLDER / name
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT, **payload}, f)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def runs_folder(store: Path | None, this_run: Path | None) -> Path:
    """The run store's folder: the one the run was given, or it is saved in, else the default."""
    if store is not None:
        return store
    if this_run is not None:
        return this_run.parent
    from regtui.store.location import default_dir

    return default_dir()


def load(run_folder: Path, run_id: int, slot: int, variant: str, seed: int) -> dict[str, Any]:
    """Run ``run_id``'s final checkpoint of the variant in place ``slot`` at this seed, or a one-line ConfigError."""
    found = final_files(run_folder, slot, seed)
    if len(found) != 1:
        raise ConfigError(
            f"resume: run {run_id} has no final checkpoint of variant {slot + 1} ({variant!r} here) seed {seed} "
            f"in {run_folder / FOLDER} (was it run with checkpoint = final or best, and these variants?)"
        )
    path = found[0]
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ConfigError(f"resume: {path} cannot be read: {type(exc).__name__}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"resume: {path} is not a regtui checkpoint ({FORMAT})")
    return data
