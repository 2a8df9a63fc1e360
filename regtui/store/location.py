"""Where the run store lives, and the check that it can be written before a run starts.

Follows the XDG base directory rules (``$XDG_DATA_HOME``, else
``~/.local/share``) so runs land where a user's other application data does;
``--runs-dir`` and ``REGTUI_RUNS_DIR`` move it (tests point it at a tmp folder).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from regtui.specs import ConfigError

ENV = "REGTUI_RUNS_DIR"


def default_dir() -> Path:
    """``$REGTUI_RUNS_DIR``, else ``$XDG_DATA_HOME/regtui/runs``, else ``~/.local/share/regtui/runs``."""
    explicit = os.environ.get(ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "regtui" / "runs"


def resolve(runs_dir: str | os.PathLike[str] | None) -> Path:
    """The store folder for an optional ``--runs-dir`` value."""
    if runs_dir is None:
        return default_dir()
    if not str(runs_dir).strip():
        raise ConfigError("--runs-dir: the path is empty; give a folder")
    return Path(runs_dir).expanduser()


def ensure_writable(root: Path) -> Path:
    """Create the folder if needed and prove it is writable, or a one-line ConfigError naming the ways out."""
    way_out = f"choose another with --runs-dir or {ENV}, or run with --no-save"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"runs folder {root}: not a folder; {way_out}") from None
    except OSError as exc:
        raise ConfigError(f"runs folder {root}: cannot create it ({exc.strerror or exc}); {way_out}") from None
    try:  # the only sure test of "can write here" is writing
        fd, probe = tempfile.mkstemp(dir=root, prefix=".probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"runs folder {root}: cannot write there ({exc.strerror or exc}); {way_out}") from None
    return root
