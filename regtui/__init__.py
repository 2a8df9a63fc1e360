"""regtui: watch PyTorch regularization and normalization experiments in the terminal.

``regtui.track(name, config=..., model=..., optimizer=...)`` records your own training loop in
regtui's run store (:mod:`regtui.tracking`); it is imported on first use, so ``import regtui``
stays as light as this file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from regtui.tracking import PitfallWarning, Run, TrackWarning, track

__version__ = "0.1.0"
__all__ = ["PitfallWarning", "Run", "TrackWarning", "__version__", "track"]


def __getattr__(name: str) -> Any:
    """``regtui.track`` and its classes, imported when first asked for."""
    if name in ("track", "Run", "TrackWarning", "PitfallWarning"):
        from regtui import tracking

        return getattr(tracking, name)
    raise AttributeError(f"module 'regtui' has no attribute {name!r}")
