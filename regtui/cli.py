"""The ``regtui`` command.

``--help``, ``--list`` and ``--version`` must not import torch (a test checks),
so torch, the engine and Textual are imported only inside the functions that
need them. Every bad input ends as one line on stderr and exit code 2.
"""

from __future__ import annotations

import codecs
import io
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from regtui import __version__
from regtui.specs import JOBS_MAX, MAX_MODELS, SEED_MAX, THREADS_MAX, ConfigError, parse_count

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

# What a terminal that cannot show Unicode gets instead (any other character: '?').
ASCII = {
    "λ": "lambda",
    "μ": "mu",
    "σ": "sigma",
    "·": "*",
    "−": "-",
    "–": "-",
    "—": "--",
    "×": "x",
    "±": "+/-",
    "→": "->",
    "≥": ">=",
    "≤": "<=",
    "≈": "~",
    "‖": "||",
    "…": "...",
    "√": "sqrt",
    "²": "^2",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "⚠": "!",
    "█": "#",
    "░": ".",
}


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(ASCII.get(ch, "?") for ch in text), exc.end


codecs.register_error("regtui-ascii", _ascii_fallback)


class _AsciiEncoder(codecs.IncrementalEncoder):
    def encode(self, text: str, final: bool = False) -> bytes:
        return codecs.ascii_encode(text, "regtui-ascii")[0]


def _find_codec(name: str) -> codecs.CodecInfo | None:
    """ASCII with stand-ins under a name of its own: click re-wraps a stream it sees as plain
    ASCII in UTF-8 (mojibake on an ASCII terminal), but leaves this one alone."""
    if name != "regtui_ascii":
        return None
    return codecs.CodecInfo(
        name="regtui-ascii",
        encode=lambda text, errors="strict": codecs.ascii_encode(text, "regtui-ascii"),
        decode=codecs.ascii_decode,
        incrementalencoder=_AsciiEncoder,
    )


codecs.register(_find_codec)


def _readable_streams() -> None:
    """On a non-UTF-8 locale, print ASCII stand-ins instead of dying with UnicodeEncodeError."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            encoding = codecs.lookup(stream.encoding or "utf-8").name
        except LookupError:
            continue
        if encoding in ("utf-8", "regtui-ascii") or not hasattr(stream, "reconfigure"):
            continue
        if encoding == "ascii" and hasattr(stream, "buffer"):
            stream.flush()
            setattr(
                sys,
                name,
                io.TextIOWrapper(stream.buffer, encoding="regtui_ascii", line_buffering=stream.line_buffering),
            )
        else:
            stream.reconfigure(errors="regtui-ascii")


class OneLineErrorsMixin:
    """Usage errors and ConfigErrors as a single 'regtui: error: …' line, exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        _readable_streams()
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)  # type: ignore[misc]
        except (click.UsageError, ConfigError) as exc:
            message = exc.format_message() if isinstance(exc, click.UsageError) else str(exc)
            click.echo(f"regtui: error: {message}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except (click.Abort, KeyboardInterrupt):
            self.interrupted_early()
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code or 0)

    def interrupted_early(self) -> None:
        """Ctrl-C before a run had its own handlers (while the options were parsed)."""


class OneLineErrors(OneLineErrorsMixin, click.Command):
    """The main command; ``regtui runs …`` and ``regtui download …`` go to their own commands instead.

    A group cannot take the positional FILE of ``regtui FILE.toml`` without a
    subcommand name shadowing a file of that name, so the first argument picks.
    """

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if argv[:1] == ["runs"]:
            from regtui.store.commands import runs

            kwargs.setdefault("prog_name", "regtui runs")
            return runs.main(argv[1:], *rest, **kwargs)
        if argv[:1] == ["download"]:
            from regtui.download import download_command

            kwargs.setdefault("prog_name", "regtui download")
            return download_command.main(argv[1:], *rest, **kwargs)
        self.headless_json = "--json" in argv and any(
            a in ("--scenario", "-s") or a.startswith("--scenario=") for a in argv
        )
        if not self.headless_json:
            return super().main(argv, *rest, **kwargs)
        from regtui import headless

        headless.catch_early_signals()  # a Ctrl-C while the options are parsed stops the run at once
        try:
            return super().main(argv, *rest, **kwargs)
        finally:
            headless.release_early_signals(exiting=args is None)  # args None: the real command line

    def interrupted_early(self) -> None:
        """--json promises a document, even when no run started: status "interrupted", no data."""
        if getattr(self, "headless_json", False):
            from regtui.report import Collector, to_json

            sys.stdout.write(to_json(Collector().document()) + "\n")


class RunsGroup(OneLineErrorsMixin, click.Group):
    """``regtui runs``: the same one-line errors as the main command."""


@click.command(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("file", required=False)
@click.option("--scenario", "-s", metavar="NAME|PATH", help="Run this scenario headless (a bundled name or a .toml).")
@click.option("--json", "as_json", is_flag=True, help="Print one strict JSON document on stdout.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@click.option(
    "--seed", default="0", show_default=True, help=f"Base seed, 0 to {SEED_MAX} (models use seed, seed+1, …)."
)
@click.option("--seeds", default=None, help="Repeat every variant over N seeds (mean ± std).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a parameter (repeatable).")
@click.option("--sweep", "sweeps", multiple=True, metavar="KEY=V1,V2,…", help="Sweep a numeric parameter (a grid).")
@click.option("--out", help="Also write the JSON document to this file (atomically).")
@click.option("--events", help="Write every event to this file as JSON lines, flushed as they happen.")
@click.option("--rebuild", metavar="EVENTS", help="Rebuild the document of an --events file (e.g. of a killed run).")
@click.option("--no-memory-check", is_flag=True, help="Run even when the memory estimate exceeds what is free.")
@click.option("--threads", default="1", show_default=True, help=f"torch intra-op threads, 1 to {THREADS_MAX}.")
@click.option(
    "--jobs",
    default="auto",
    show_default=True,
    help=f"Model stacks trained at once (auto: one per core; max {JOBS_MAX}).",
)
@click.option("--list", "list_only", is_flag=True, help="List the bundled scenarios and exit.")
@click.option("--scenarios-dir", help="Also offer the *.toml files in this folder (dashboard and --list).")
@click.option(
    "--runs-dir",
    metavar="DIR",
    help="Keep runs in this folder (default: $REGTUI_RUNS_DIR, else $XDG_DATA_HOME/regtui/runs).",
)
@click.option("--no-save", is_flag=True, help="Do not keep this run in the run history.")
@click.version_option(__version__, "--version", prog_name="regtui")
def main(
    file: str | None,
    scenario: str | None,
    as_json: bool,
    device: str,
    seed: str,
    seeds: str | None,
    sets: tuple[str, ...],
    sweeps: tuple[str, ...],
    out: str | None,
    events: str | None,
    rebuild: str | None,
    no_memory_check: bool,
    threads: str,
    jobs: str,
    list_only: bool,
    scenarios_dir: str | None,
    runs_dir: str | None,
    no_save: bool,
) -> int:
    """Watch PyTorch regularization and normalization experiments.

    With no --scenario, opens the dashboard (on FILE if given). With
    --scenario, runs it headless and prints a summary, or JSON with --json;
    the run is kept in the run history (regtui runs --help: list, show,
    compare, export, rm, rerun). regtui download SOURCE FOLDER fetches
    MNIST, Fashion-MNIST or CIFAR-10 for your own experiments.
    """
    if scenarios_dir is not None and not Path(scenarios_dir).is_dir():
        raise ConfigError(f"--scenarios-dir: {scenarios_dir!r} is not a folder")
    if list_only:
        _print_list(scenarios_dir)
        return 0
    if rebuild is not None:
        from regtui import headless

        return headless.rebuild(rebuild, as_json, out)
    if scenario is None:
        if as_json or sets or sweeps or seeds is not None or out is not None or events is not None:
            raise ConfigError("--json, --set, --sweep, --seeds, --out and --events need --scenario NAME")
        return _open_app(file, scenarios_dir, device, save=not no_save, runs_dir=runs_dir)
    if file:
        raise ConfigError(f"give either --scenario or a FILE, not both (got {file!r})")
    from regtui import headless

    return headless.run(
        headless.Options(
            name=scenario,
            as_json=as_json,
            device=device,
            seed=parse_count("--seed", seed, 0, SEED_MAX),
            seeds=None if seeds is None else parse_count("--seeds", seeds, 1, MAX_MODELS),
            sets=sets,
            sweeps=sweeps,
            out=out,
            events=events,
            threads=parse_count("--threads", threads, 1, THREADS_MAX),
            jobs=_jobs(jobs),
            memory_check=not no_memory_check,
            save=not no_save,
            runs_dir=runs_dir,
        )
    )


def _jobs(text: str) -> int:
    if text.strip().lower() == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        return parse_count("--jobs", text, 1, JOBS_MAX)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (or auto: one per core)") from None


def _print_list(scenarios_dir: str | None) -> None:
    from regtui import scenario as sc

    paths = sc.bundled_paths() + (sorted(Path(scenarios_dir).glob("*.toml")) if scenarios_dir else [])
    rows = []
    for path in paths:
        try:
            s = sc.load(path)
            rows.append((s.name if path.parent == sc.bundled_dir() else str(path), s.title, s.summary))
        except ConfigError as exc:
            rows.append((str(path), "(invalid)", str(exc)))
    if not rows:
        click.echo("no scenarios found", err=True)
        return
    width = max(len(r[0]) for r in rows)
    title_width = max(len(r[1]) for r in rows)
    for name, title, summary in rows:
        click.echo(f"{name.ljust(width)}  {title.ljust(title_width)}  {summary}")


def _open_app(
    file: str | None, scenarios_dir: str | None, device: str, save: bool = True, runs_dir: str | None = None
) -> int:
    _check_terminal()
    # Something on screen at once: on a cold disk importing Textual takes seconds, and the
    # dashboard's first frame (which replaces this line) comes only after it.
    sys.stdout.write("regtui: starting the dashboard…\r\n")
    sys.stdout.flush()
    from regtui.app.app import make_app

    if save and runs_dir is not None:
        from regtui.store.location import ensure_writable, resolve

        ensure_writable(resolve(runs_dir))  # a bad --runs-dir is one line before the dashboard opens
    app = make_app(file=file, scenarios_dir=scenarios_dir, device=device, save=save, runs_dir=runs_dir)
    app.run()
    # Quit at once: a cancelled run's thread may be inside a long torch op, and tearing down an
    # interpreter that loaded torch takes a second or more. The app has closed the terminal and
    # wrote what it keeps as it went; nothing is left to finish but the flush.
    code = app.return_code or 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _check_terminal() -> None:
    """The dashboard needs a terminal it can draw on; say so instead of hanging or spinning."""
    headless = "run a scenario headless instead: regtui --scenario NAME [--json]"
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        which = "stdin" if not sys.stdin.isatty() else "stdout"
        raise ConfigError(f"the dashboard needs a terminal, but {which} is not one; {headless}")
    encoding = getattr(sys.__stdout__, "encoding", None) or "utf-8"
    if codecs.lookup(encoding).name != "utf-8":
        _refuse(
            f"the dashboard draws with Unicode, but this terminal's encoding is {encoding}; "
            f"set LANG=C.UTF-8 (or another UTF-8 locale), or {headless}"
        )
    locale = _non_utf8_locale()
    if locale:
        _refuse(
            f"the dashboard draws with Unicode, but {locale} is not a UTF-8 locale; "
            f"run it with LC_ALL=C.UTF-8 (or LANG=C.UTF-8 and LC_ALL unset), or {headless}"
        )
    term = os.environ.get("TERM", "")
    if term in ("dumb", "unknown"):
        _refuse(f"the dashboard cannot draw on TERM={term}; set TERM=xterm-256color, or {headless}")
    if not sys.stderr.isatty():
        # Textual draws on stderr: redirected, the screen would stay blank and q would quit blind.
        _refuse(f"the dashboard draws on stderr, but stderr is not a terminal (2> redirects it); {headless}")


def _refuse(message: str) -> NoReturn:
    """A one-line refusal on stderr, and on the terminal (stdout) too when stderr is out of sight."""
    if not sys.stderr.isatty():
        click.echo(f"regtui: error: {message}")
    raise ConfigError(message)


def _non_utf8_locale() -> str | None:
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
