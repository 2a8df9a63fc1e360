"""What the status line and the replay line say, from the screen's state (pure functions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from regtui import scenario as sc
from regtui.app.run_state import RunState
from regtui.app.widgets.status_bar import StatusInfo

if TYPE_CHECKING:
    from regtui.custom_specs.sources import MissingPackage


def status_info(
    state: RunState | None, device: str | None, run_queued: bool, plan: sc.Plan | None, missing: MissingPackage | None
) -> StatusInfo:
    """The run's progress and status; before a run, whether r can run (never "ready" while torch loads)."""
    if state is not None:
        return state.status_info()
    if device is None:
        return StatusInfo(
            device="finding devices",
            status="run queued" if run_queued else "loading torch…",
            hint="it starts once torch is loaded" if run_queued else "r runs once it is loaded",
        )
    if plan is not None:
        return StatusInfo(device=device, hint="r runs")
    if missing is not None:  # the form is fine; a package is not there
        return StatusInfo(device=device, status=f"needs {missing.package}", hint=missing.install)
    return StatusInfo(device=device, status="not ready", hint="fix the form to run")


def replay_line(
    plan: sc.Plan | None,
    device: str | None,
    state: RunState | None,
    active: bool,
    file_error: str | None,
    form_error: str | None,
) -> tuple[str, str]:
    """The CLI command of the form as it is now (what r runs): "replay:" or "running:" while it is
    also the shown run's own command, "cli:" once the form was edited away from it."""
    form = sc.replay_command(plan, device) if plan is not None else None
    if form is not None and state is not None and form == sc.replay_command(state.plan, state.device):
        return ("running:" if active else "replay:", form)
    if form is not None:
        return ("cli:", form)
    if file_error:
        return ("cli:", "(none: the scenario file does not load)")
    return ("cli:", f"(fix the form first) {form_error or ''}")
