"""The dashboard refuses what it cannot draw on (one line, never a hang), and output survives any locale.

Real subprocesses: what a terminal is and which encoding stdout has are
properties of the process's own file descriptors and environment.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from reliability_support import TIMEOUT, one_error_line

REGTUI = [sys.executable, "-m", "regtui"]


def run_regtui(args, **kwargs) -> subprocess.CompletedProcess[bytes]:
    """Run to the end; a process still running after TIMEOUT s (e.g. a dashboard that started) fails."""
    try:
        return subprocess.run([*REGTUI, *args], capture_output=True, timeout=TIMEOUT, **kwargs)
    except subprocess.TimeoutExpired:
        pytest.fail(f"regtui {' '.join(args)} hung (killed after {TIMEOUT} s)")


def env_with(**changes: str) -> dict[str, str]:
    return {**os.environ, **changes}


def check_terminal_refusal(result: subprocess.CompletedProcess[bytes], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    message = one_error_line(result.stderr.decode())
    for word in words:
        assert word in message, message
    assert result.stdout == b""


def test_no_terminal_on_stdin_is_one_line_not_a_hang():
    result = run_regtui([], stdin=subprocess.DEVNULL, env=env_with(TERM="xterm-256color"))
    check_terminal_refusal(result, "terminal", "stdin", "--scenario")


def test_a_scenario_file_argument_without_a_terminal_is_refused_too(tmp_path):
    result = run_regtui([str(tmp_path / "any.toml")], stdin=subprocess.DEVNULL, env=env_with(TERM="xterm"))
    check_terminal_refusal(result, "terminal", "--scenario")


@pytest.fixture
def pty_fds():
    """A pseudo-terminal; yields (master, slave); both closed afterwards."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    yield master, slave
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def test_stdout_not_a_terminal_is_one_line(pty_fds):
    _, slave = pty_fds
    result = run_regtui([], stdin=slave, env=env_with(TERM="xterm-256color"))
    check_terminal_refusal(result, "terminal", "stdout", "--scenario")


@pytest.mark.parametrize("term", ["dumb", "unknown"])
def test_a_terminal_that_cannot_draw_is_one_line(pty_fds, term):
    _, slave = pty_fds
    # stdin and stdout a terminal (the isatty check passes), stderr a pipe to read the message from.
    try:
        proc = subprocess.run(
            [*REGTUI], stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env_with(TERM=term), timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the dashboard started on TERM={term} instead of refusing (killed after {TIMEOUT} s)")
    assert proc.returncode == 2, proc.stderr
    message = one_error_line(proc.stderr.decode())
    assert f"TERM={term}" in message and "--scenario" in message, message


def utf8_env(**changes: str) -> dict[str, str]:
    """The environment with a UTF-8 locale (and none of the variables that would override it), plus ``changes``."""
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_CTYPE", "PYTHONUTF8", "PYTHONIOENCODING")}
    return {**env, "LANG": "C.UTF-8", "TERM": "xterm-256color", **changes}


def read_terminal(master: int) -> str:
    """What the process wrote on the terminal (read from the pty's other end)."""
    import select

    chunks = []
    while select.select([master], [], [], 1.0)[0]:
        try:
            data = os.read(master, 4096)
        except OSError:  # the other end is closed: everything was read
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r", "")


@pytest.mark.parametrize("stderr", ["devnull", "pipe"])
def test_stderr_not_a_terminal_is_refused_where_it_can_be_read(pty_fds, stderr):
    """`regtui 2>/dev/null` drew nothing (Textual draws on stderr) and q quit blind: now one line on the
    terminal (and on stderr), exit 2, no dashboard."""
    master, slave = pty_fds
    target = subprocess.DEVNULL if stderr == "devnull" else subprocess.PIPE
    try:
        proc = subprocess.run([*REGTUI], stdin=slave, stdout=slave, stderr=target, env=utf8_env(), timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the dashboard started with stderr redirected instead of refusing (killed after {TIMEOUT} s)")
    assert proc.returncode == 2, proc.stderr
    shown = read_terminal(master)
    message = one_error_line(shown)
    assert "stderr" in message and "not a terminal" in message and "--scenario" in message, message
    if stderr == "pipe":
        assert one_error_line(proc.stderr.decode()) == message


@pytest.mark.parametrize(
    ("locale", "named"),
    [({"LANG": "C", "LC_ALL": "C"}, "LC_ALL=C"), ({"LANG": "C"}, "LANG=C"), ({"LANG": "POSIX"}, "LANG=POSIX")],
    ids=["LANG=C LC_ALL=C", "LANG=C", "LANG=POSIX"],
)
def test_a_c_locale_is_refused_in_one_line(pty_fds, locale, named):
    """Python reads a C locale as UTF-8 (PEP 538/540), so the encoding check alone let the dashboard start;
    the README says a non-UTF-8 terminal is refused."""
    _, slave = pty_fds
    env = {k: v for k, v in utf8_env().items() if k != "LANG"}
    try:
        proc = subprocess.run(
            [*REGTUI], stdin=slave, stdout=slave, stderr=subprocess.PIPE, env={**env, **locale}, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the dashboard started on {named} instead of refusing (killed after {TIMEOUT} s)")
    assert proc.returncode == 2, proc.stderr
    message = one_error_line(proc.stderr.decode())
    assert named in message and "LC_ALL=C.UTF-8" in message and "LANG=C.UTF-8" in message, message
    assert "--scenario" in message


@pytest.mark.parametrize(
    ("env", "refused"),
    [
        ({"LANG": "en_US.UTF-8"}, None),
        ({"LANG": "C.utf8"}, None),
        ({"LC_ALL": "de_DE.ISO-8859-1", "LANG": "de_DE.UTF-8"}, "LC_ALL=de_DE.ISO-8859-1"),
        ({"LC_CTYPE": "C", "LANG": "en_US.UTF-8"}, "LC_CTYPE=C"),
        ({}, None),  # nothing set (a bare container): let through, Python reads it as UTF-8
    ],
)
def test_which_locale_is_refused(monkeypatch, env, refused):
    from regtui.cli.terminal import non_utf8_locale

    for name in ("LC_ALL", "LC_CTYPE", "LANG", "PYTHONUTF8"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert non_utf8_locale() == refused


NON_ASCII_SCENARIO = """experiment = "bn-stats"
title = "Bätch stätistics — γ and λ ✓"
summary = "naïve “quotes”, ±, →, 😀 and 日本語"
[params]
iters = 1
"""

COMMANDS = {
    "--list": ["--list", "--scenarios-dir", "{dir}"],
    "--help": ["--help"],
    "text report": ["--scenario", "{dir}/unicode.toml"],  # bn-stats: its report and this file's title
    "one-line error": ["--scenario", "weight-decay", "--seeds", "600"],  # the message has a ×
}


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize("command", COMMANDS, ids=COMMANDS.keys())
def test_a_narrow_locale_gets_readable_output_not_a_traceback(tmp_path, encoding, command):
    (tmp_path / "unicode.toml").write_text(NON_ASCII_SCENARIO, encoding="utf-8")
    args = [a.replace("{dir}", str(tmp_path)) for a in COMMANDS[command]]
    result = run_regtui(args, env=env_with(PYTHONIOENCODING=encoding), stdin=subprocess.DEVNULL)

    assert b"Traceback" not in result.stderr, result.stderr.decode("utf-8", "replace")
    assert b"UnicodeEncodeError" not in result.stderr
    result.stdout.decode(encoding)  # strict: every byte is valid in the terminal's encoding
    result.stderr.decode(encoding)
    if command == "one-line error":
        assert result.returncode == 2
        assert "600 seed(s)" in one_error_line(result.stderr.decode(encoding))
    else:
        assert result.returncode == 0, result.stderr.decode(encoding)
        assert result.stdout.strip()
    if command == "--list":
        listing = result.stdout.decode(encoding)
        assert "bn-stats" in listing and "unicode.toml" in listing and "(invalid)" not in listing
