"""The ``regtui`` command.

``--help``, ``--list`` and ``--version`` must not import torch (a test checks),
so torch, the engine and Textual are imported only inside the functions that
need them. Every bad input ends as one line on stderr and exit code 2.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from regtui import __version__
from regtui.specs import ConfigError, parse_count

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


class OneLineErrors(click.Command):
    """Usage errors and ConfigErrors as a single 'regtui: error: …' line, exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except (click.UsageError, ConfigError) as exc:
            message = exc.format_message() if isinstance(exc, click.UsageError) else str(exc)
            click.echo(f"regtui: error: {message}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.Abort:
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code or 0)


@click.command(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("file", required=False)
@click.option("--scenario", "-s", metavar="NAME|PATH", help="Run this scenario headless (a bundled name or a .toml path).")
@click.option("--json", "as_json", is_flag=True, help="Print one strict JSON document on stdout.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@click.option("--seed", default="0", show_default=True, help="Base seed (models use seed, seed+1, …).")
@click.option("--seeds", default=None, help="Repeat every variant over N seeds (mean ± std).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a parameter (repeatable).")
@click.option("--sweep", "sweeps", multiple=True, metavar="KEY=V1,V2,…", help="Sweep a numeric parameter; several form a grid.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the JSON document to this file.")
@click.option("--threads", default="1", show_default=True, help="torch intra-op threads (1 is robust on small machines).")
@click.option("--jobs", default="auto", show_default=True, help="Model stacks trained at once on the CPU (auto: one per core).")
@click.option("--list", "list_only", is_flag=True, help="List the bundled scenarios and exit.")
@click.option("--scenarios-dir", type=click.Path(file_okay=False), help="Also offer the *.toml files in this folder (TUI and --list).")
@click.version_option(__version__, "--version", prog_name="regtui")
def main(
    file: str | None, scenario: str | None, as_json: bool, device: str, seed: str, seeds: str | None,
    sets: tuple[str, ...], sweeps: tuple[str, ...], out: str | None, threads: str, jobs: str,
    list_only: bool, scenarios_dir: str | None,
) -> int:
    """Watch PyTorch regularization and normalization experiments.

    With no --scenario, opens the dashboard (on FILE if given). With
    --scenario, runs it headless and prints a summary, or JSON with --json.
    """
    if list_only:
        _print_list(scenarios_dir)
        return 0
    if scenario is None:
        if as_json or sets or sweeps or seeds is not None or out:
            raise ConfigError("--json, --set, --sweep, --seeds and --out need --scenario NAME")
        return _open_app(file, scenarios_dir, device)
    if file:
        raise ConfigError(f"give either --scenario or a FILE, not both (got {file!r})")
    return _run_headless(
        scenario, as_json, device, parse_count("--seed", seed, 0), None if seeds is None else parse_count("--seeds", seeds, 1),
        sets, sweeps, out, parse_count("--threads", threads, 1), _jobs(jobs),
    )


def _jobs(text: str) -> int:
    if text.strip().lower() == "auto":
        import os

        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return parse_count("--jobs", text, 1)


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


def _open_app(file: str | None, scenarios_dir: str | None, device: str) -> int:
    try:
        from regtui.app.app import make_app
    except ImportError:
        click.echo("The dashboard is not built yet; run a scenario headless: regtui --scenario NAME", err=True)
        return EXIT_BAD_INPUT
    make_app(file=file, scenarios_dir=scenarios_dir, device=device).run()
    return 0


def _run_headless(
    name: str, as_json: bool, device: str, seed: int, seeds: int | None,
    sets: tuple[str, ...], sweeps: tuple[str, ...], out: str | None, threads: int, jobs: int,
) -> int:
    cancel = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:
        # First Ctrl-C: stop at the next step and still print the data so far.
        cancel.set()
        signal.signal(signal.SIGINT, previous)

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:  # before torch loads, so an early Ctrl-C also ends with valid output
        signal.signal(signal.SIGINT, on_sigint)
    try:
        return _run(name, as_json, device, seed, seeds, sets, sweeps, out, threads, jobs, cancel)
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)


def _run(
    name: str, as_json: bool, device: str, seed: int, seeds: int | None, sets: tuple[str, ...],
    sweeps: tuple[str, ...], out: str | None, threads: int, jobs: int, cancel: threading.Event,
) -> int:
    from regtui import scenario as sc

    scenario = sc.load(sc.find(name))
    plan = sc.plan(
        scenario, sc.parse_sets(scenario.spec, sets), sc.parse_sweeps(scenario.spec, sweeps), seed, seeds
    )
    from regtui import devices

    resolved = devices.resolve(device)
    from regtui.engine import run_plan
    from regtui.report import Collector, text_report, to_json

    collector = Collector()
    emit = _ProgressPrinter(collector) if sys.stderr.isatty() else collector
    try:
        finished = run_plan(plan, resolved, emit=emit, cancel=cancel, threads=threads, jobs=jobs)
    finally:
        if isinstance(emit, _ProgressPrinter):
            emit.close()
    doc = collector.document()
    if out:
        Path(out).write_text(to_json(doc) + "\n", encoding="utf-8")
    click.echo(to_json(doc) if as_json else text_report(doc))
    if finished.status == "failed":
        click.echo(f"regtui: run failed: {finished.error}", err=True)
        return EXIT_FAILED
    if finished.status == "interrupted":
        click.echo("regtui: interrupted; the output holds the data collected so far", err=True)
        return EXIT_INTERRUPTED
    return 0


class _ProgressPrinter:
    """Feeds the collector and draws a progress line on a terminal's stderr, ~10 times a second."""

    def __init__(self, collector: Any) -> None:
        self.collector = collector
        self.last = 0.0
        self.start = time.perf_counter()

    def __call__(self, event: Any) -> None:
        self.collector(event)
        progress = self.collector.progress
        now = time.perf_counter()
        if progress is None or now - self.last < 0.1:
            return
        self.last = now
        frac = progress.step / progress.total if progress.total else 0.0
        bar = "#" * int(frac * 30)
        sys.stderr.write(
            f"\r[{bar:<30}] {progress.step}/{progress.total} {progress.phase}  {now - self.start:5.1f}s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
