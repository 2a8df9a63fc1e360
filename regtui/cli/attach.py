"""``regtui attach [ID]``: open the dashboard on a running run, followed live (the newest without an ID).

The run goes on in its own process (``regtui --scenario … --detach``, or a headless run in
another terminal); the dashboard only reads its event stream in the run store, so quitting it
or losing the link leaves the run alone.
"""

from __future__ import annotations

import click

from regtui.cli.common import OneLineErrorsMixin
from regtui.specs import ConfigError


class AttachCommand(OneLineErrorsMixin, click.Command):
    pass


@click.command(cls=AttachCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("run_id", metavar="[ID]", required=False)
@click.option("--runs-dir", metavar="DIR", help="The run store's folder (default: $REGTUI_RUNS_DIR, else the XDG one).")
@click.option("--device", default="auto", show_default=True, help="The device the dashboard's own runs use.")
def attach_command(run_id: str | None, runs_dir: str | None, device: str) -> None:
    """Follow a running run live in the dashboard (the newest running run without an ID)."""
    from regtui.cli.dashboard import open_app
    from regtui.store import open_store
    from regtui.store.follow import newest_running
    from regtui.store.record import RUNNING

    store = open_store(runs_dir)
    info = newest_running(store) if run_id is None else store.get(run_id)
    if info.state != RUNNING:
        raise ConfigError(f"run {info.id} is not running: it is {info.state}; 'regtui runs show {info.id}' shows it")
    open_app(None, None, device, runs_dir=runs_dir, follow=info.id)
