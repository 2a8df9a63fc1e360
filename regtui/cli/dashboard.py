"""Opening the dashboard from the command line (``regtui [FILE]`` and ``regtui attach``)."""

from __future__ import annotations

import os
import sys

from regtui.cli.terminal import check_terminal


def open_app(
    file: str | None,
    scenarios_dir: str | None,
    device: str,
    save: bool = True,
    runs_dir: str | None = None,
    follow: int | None = None,
) -> int:
    """The dashboard; returns only by ending the process (see below)."""
    check_terminal()
    # Something on screen at once: on a cold disk importing Textual takes seconds, and the
    # dashboard's first frame (which replaces this line) comes only after it.
    sys.stdout.write("regtui: starting the dashboard…\r\n")
    sys.stdout.flush()
    from regtui.app.app import make_app

    if save and runs_dir is not None:
        from regtui.store.location import ensure_writable, resolve

        ensure_writable(resolve(runs_dir))  # a bad --runs-dir is one line before the dashboard opens
    app = make_app(file=file, scenarios_dir=scenarios_dir, device=device, save=save, runs_dir=runs_dir, follow=follow)
    app.run()
    # Quit at once: a cancelled run's thread may be inside a long torch op, and tearing down an
    # interpreter that loaded torch takes a second or more. The app has closed the terminal and
    # wrote what it keeps as it went; nothing is left to finish but the flush.
    code = app.return_code or 0
    if app.farewell:
        sys.stderr.write(app.farewell + "\n")  # the terminal is the shell's again: a run left going says so
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
