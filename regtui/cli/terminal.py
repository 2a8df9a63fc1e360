"""The dashboard needs a terminal it can draw on: say so in one line instead of hanging or spinning.

Each refusal names what is wrong (stdin/stdout not a terminal, a non-UTF-8
encoding or locale, TERM=dumb, stderr redirected) and the headless command
that works without one.
"""

from __future__ import annotations

import codecs
import os
import sys
from typing import NoReturn

from regtui.cli.common import print_error
from regtui.specs import ConfigError

HEADLESS = "run a scenario headless instead: regtui --scenario NAME [--json]"


def check_terminal() -> None:
    """A ConfigError (one line) unless stdin, stdout and stderr are a UTF-8 terminal that can draw."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        which = "stdin" if not sys.stdin.isatty() else "stdout"
        raise ConfigError(f"the dashboard needs a terminal, but {which} is not one; {HEADLESS}")
    encoding = getattr(sys.__stdout__, "encoding", None) or "utf-8"
    if codecs.lookup(encoding).name != "utf-8":
        refuse(
            f"the dashboard draws with Unicode, but this terminal's encoding is {encoding}; "
            f"set LANG=C.UTF-8 (or another UTF-8 locale), or {HEADLESS}"
        )
    locale = non_utf8_locale()
    if locale:
        refuse(
            f"the dashboard draws with Unicode, but {locale} is not a UTF-8 locale; "
            f"run it with LC_ALL=C.UTF-8 (or LANG=C.UTF-8 and LC_ALL unset), or {HEADLESS}"
        )
    term = os.environ.get("TERM", "")
    if term in ("dumb", "unknown"):
        refuse(f"the dashboard cannot draw on TERM={term}; set TERM=xterm-256color, or {HEADLESS}")
    if not sys.stderr.isatty():
        # Textual draws on stderr: redirected, the screen would stay blank and q would quit blind.
        refuse(f"the dashboard draws on stderr, but stderr is not a terminal (2> redirects it); {HEADLESS}")


def refuse(message: str) -> NoReturn:
    """A one-line refusal on stderr, and on the terminal (stdout) too when stderr is out of sight."""
    if not sys.stderr.isatty():
        print_error(message, err=False)
    raise ConfigError(message)


def non_utf8_locale() -> str | None:
    """``VAR=value`` of the locale that sets the terminal's character set (LC_ALL, else LC_CTYPE, else LANG)
    when it is not UTF-8. Python reads a C or POSIX locale as UTF-8 (PEP 538/540), so the encoding of
    stdout alone does not tell; nothing set at all (a bare container) is let through."""
    # Python switched to UTF-8 itself (the locale was C or POSIX) and wrote LC_CTYPE=C.UTF-8 over it.
    coerced = sys.flags.utf8_mode and "PYTHONUTF8" not in os.environ and "utf8" not in sys._xoptions
    for var in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = os.environ.get(var, "")
        if not value or (var == "LC_CTYPE" and coerced and value == "C.UTF-8"):
            continue
        codeset = value.partition(".")[2].partition("@")[0].lower().replace("-", "")
        return f"{var}={value}" if value in ("C", "POSIX") or (codeset and codeset != "utf8") else None
    return None
