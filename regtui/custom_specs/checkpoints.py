"""Where a ``train`` run's checkpoints are kept, and the check that ``resume`` finds them (torch-free).

The files are written by :mod:`regtui.engine.custom.checkpoint`; a plan that resumes from a
stored run is refused before it starts when that run keeps no final checkpoint of one of its
runs (the variant in the same place of the plan, the same seed).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from regtui.specs import ConfigError

__all__ = ["FOLDER", "check_resume", "file_name", "final_files"]

FOLDER = "checkpoints"


def file_name(slot: int, variant: str, seed: int, kind: str) -> str:
    """``<slot>.<variant>.seed<seed>.<kind>.pt``: the variant's place in the plan (what a resume matches:
    a --set changes the variants' names, not their order) and its name made a safe file name."""
    safe = re.sub(r"[^A-Za-z0-9._=,+-]+", "_", variant).strip("_.") or "variant"
    return f"{slot}.{safe}.seed{seed}.{kind}.pt"


def final_files(run_folder: Path, slot: int, seed: int) -> list[Path]:
    """The final checkpoints of the variant in place ``slot`` at ``seed`` a run folder keeps (one, or none)."""
    return sorted((run_folder / FOLDER).glob(f"{slot}.*.seed{seed}.final.pt"))


def check_resume(runs: Any, store: Path) -> None:
    """Every run that resumes finds its final checkpoint in the run store ``store``; else a one-line error."""
    slots = {v: i for i, v in enumerate(dict.fromkeys(r.variant for r in runs))}
    for r in runs:
        run_id = int(r.params.get("resume") or 0)
        if run_id and len(final_files(store / str(run_id), slots[r.variant], r.seed)) != 1:
            raise ConfigError(
                f"resume: run {run_id} has no final checkpoint of variant {slots[r.variant] + 1} ({r.variant!r} "
                f"here) seed {r.seed} in {store / str(run_id) / FOLDER} (was it run with checkpoint = final or "
                "best, and these variants and seeds?)"
            )
