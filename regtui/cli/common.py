"""What every ``regtui`` command shares: bad input is one line and exit code 2.

A usage error or a :class:`~regtui.specs.ConfigError` becomes a single
``regtui: error: …`` line on stderr (no traceback, no usage block), exit code
2; Ctrl-C is exit code 130. A run that failed is 1 (as the headless run's own).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import click

from regtui.cli.streams import readable_streams
from regtui.specs import JOBS_MAX, ConfigError, parse_count

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def print_error(message: str, err: bool = True) -> None:
    """``regtui: error: MESSAGE`` on stderr (stdout with ``err=False``); nothing where it is closed or broken."""
    with contextlib.suppress(OSError, ValueError):
        click.echo(f"regtui: error: {message}", err=err)


class OneLineErrorsMixin:
    """Usage errors and ConfigErrors as a single 'regtui: error: …' line, exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        readable_streams()
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)  # type: ignore[misc]
        except (click.UsageError, ConfigError) as exc:
            print_error(exc.format_message() if isinstance(exc, click.UsageError) else str(exc))
            sys.exit(EXIT_BAD_INPUT)
        except (click.Abort, KeyboardInterrupt):
            self.interrupted_early()
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code or 0)

    def interrupted_early(self) -> None:
        """Ctrl-C before a run had its own handlers (while the options were parsed)."""


def parse_jobs(text: str) -> int:
    """``--jobs``: a count, or auto (one per core this process may use)."""
    if text.strip().lower() == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        return parse_count("--jobs", text, 1, JOBS_MAX)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (or auto: one per core)") from None
