"""The engine entry of the ``track`` kind: a tracked run is run by its own script, never by regtui.

The registry names an engine module for every kind; this one explains, in one line, why the
dashboard's ``r`` (or ``regtui runs rerun``) cannot run a run that ``regtui.track()`` recorded.
"""

from __future__ import annotations

from typing import Any

from regtui.specs import ConfigError


def refusal(scenario: Any) -> str:
    """Why a tracked run's scenario cannot be run here, naming what runs it (the dashboard's ``r`` says it
    before starting anything)."""
    command = scenario.command or "its script"
    return f"{scenario.title}: a run recorded by regtui.track() is run again by its script: {command}"


def run(plan: Any, ctx: Any) -> None:
    """Refuse: only the user's script knows its model, data and loop."""
    raise ConfigError(refusal(plan.scenario))
