"""The experiment engine: plain PyTorch, no Textual or Rich (a test proves it).

``run_plan`` runs one validated :class:`regtui.scenario.Plan` on a device and
reports everything through ``emit`` as events from :mod:`regtui.events`.
"""

from regtui.engine.context import Cancelled, Context
from regtui.engine.runner import run_plan

__all__ = ["Cancelled", "Context", "run_plan"]
