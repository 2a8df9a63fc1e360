"""What quitting during a run does with it, as the user chose last time.

Kept beside the runs it concerns, in the run store's folder (``dashboard.json``),
so a test's or a project's own ``--runs-dir`` keeps its own. A file that cannot
be read or written is no error: the question then offers "stop" first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from regtui.output import write_atomic

FILE = "dashboard.json"
CHOICES = ("stop", "keep")  # stop the run; keep it running in the background
DEFAULT = "stop"  # until the user chose: quitting ends what it started, as it always did


def _path(runs_dir: str | os.PathLike[str] | None) -> Path:
    from regtui.store import location

    return location.resolve(runs_dir) / FILE


def last(runs_dir: str | os.PathLike[str] | None) -> str:
    """The user's last answer ("stop" or "keep"), else :data:`DEFAULT`."""
    try:
        value = json.loads(_path(runs_dir).read_text(encoding="utf-8")).get("on_quit")
    except (OSError, ValueError, AttributeError):
        return DEFAULT
    return value if value in CHOICES else DEFAULT


def remember(runs_dir: str | os.PathLike[str] | None, choice: str) -> None:
    """Keep ``choice`` for the next question (silently not, where the folder cannot be written)."""
    try:
        path = _path(runs_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"on_quit": choice}) + "\n")
    except Exception:  # a preference is never worth an error at quit
        pass
