"""``regtui runs …``: the run history on the command line.

A click group of its own, reached from :mod:`regtui.cli.main` when the first
argument is ``runs`` (the main command takes a positional FILE, which a
subcommand name would shadow). Everything here is torch-free except
``rerun``, which runs an experiment. Bad input is a one-line error, exit 2.
``follow`` and ``stop`` reach runs going on in other processes
(:mod:`regtui.store.follow`, :mod:`regtui.store.control`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from regtui.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    OneLineErrorsMixin,
    parse_jobs,
    print_error,
)
from regtui.numbers import fmt
from regtui.output import is_terminal, quiet_thread_errors, staged_folder
from regtui.specs import ConfigError
from regtui.store.compare import compare, compare_text, table
from regtui.store.control import STOP_WAIT_S
from regtui.store.record import RunInfo, local_time
from regtui.store.runs import MAX_ID, RunStore, open_store

F = TypeVar("F", bound=Callable[..., Any])


class RunsGroup(OneLineErrorsMixin, click.Group):
    """``regtui runs``: the same one-line errors as the main command."""


def runs_dir_option(func: F) -> F:
    return click.option(
        "--runs-dir",
        metavar="DIR",
        envvar=None,
        help="The run store (default: $REGTUI_RUNS_DIR, else $XDG_DATA_HOME/regtui/runs).",
    )(func)


def _problems(lines: list[str]) -> int:
    for line in lines:
        print_error(line)
    return EXIT_BAD_INPUT if lines else 0


def _load(store: RunStore, ids: tuple[str, ...]) -> list[tuple[RunInfo, dict[str, Any]]]:
    """Every run's record and document, or the first one-line error (before anything is written)."""
    return [(store.get(i), store.document(i)) for i in dict.fromkeys(ids)]


@click.group(cls=RunsGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def runs(ctx: click.Context) -> None:
    """The run history: every headless run is kept (see --runs-dir, --no-save).

    Without a command: list.
    """
    if ctx.invoked_subcommand is None:
        ctx.exit(ctx.invoke(list_runs))


@runs.command("list")
@click.option("--scenario", "-s", metavar="NAME", help="Only the runs of this scenario.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of the runs' records.")
@runs_dir_option
def list_runs(scenario: str | None = None, as_json: bool = False, runs_dir: str | None = None) -> int:
    """id, when, scenario, status, what differs from the defaults, headline results."""
    from regtui.text_report import fit_lines, terminal_columns

    listing = open_store(runs_dir).listing(scenario)
    if as_json:
        records = [
            {**vars(r), "status": r.shown_status, "state": r.state, "headline": r.headline()} for r in listing.runs
        ]
        click.echo(json.dumps(records, indent=1, allow_nan=False))
    elif listing.runs:
        rows = [
            [str(r.id), local_time(r.created), r.scenario, r.state, r.changed_text(), r.headline()]
            for r in listing.runs
        ]
        lines = table(["id", "when", "scenario", "status", "changed", "results"], rows)
        click.echo("\n".join(fit_lines(lines, terminal_columns())))  # on a terminal: a line a run, cut
    elif not listing.problems:
        click.echo("no runs saved yet" + (f" for {scenario}" if scenario else ""), err=True)
    return _problems(listing.problems)


@runs.command()
@click.argument("run_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="The run's JSON document.")
@runs_dir_option
def show(run_id: str, as_json: bool, runs_dir: str | None) -> int:
    """The run's text report, or its document with --json."""
    from regtui.json_writer import to_json
    from regtui.text_report import terminal_columns, text_report

    store = open_store(runs_dir)
    info, doc = store.get(run_id), store.document(run_id)
    if as_json:
        click.echo(to_json(doc))
        return 0
    origin = "rebuilt from its events: " if not (store.folder(info.id) / "run.json").exists() else ""
    again = info.plan.get("command") if info.plan.get("tracked") else f"regtui runs rerun {info.id}"
    click.echo(f"run {info.id} · {local_time(info.created)} · {origin}{info.state} · again: {again}\n")
    click.echo(text_report(doc, width=terminal_columns()))
    return 0


@runs.command("compare")
@click.argument("run_ids", metavar="ID ID…", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="The comparison as JSON.")
@runs_dir_option
def compare_runs(run_ids: tuple[str, ...], as_json: bool, runs_dir: str | None) -> int:
    """Finals side by side, and what differs in how the runs were made."""
    if len(set(run_ids)) < 2:
        raise ConfigError("compare: give at least two different run ids")
    result = compare(_load(open_store(runs_dir), run_ids))
    click.echo(json.dumps(result, indent=1, allow_nan=False) if as_json else compare_text(result))
    return 0


@runs.command()
@click.argument("run_ids", metavar="ID…", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "tensorboard", "checkpoint"]),
    required=True,
    help="csv: tidy CSV files in the folder OUT; jsonl: one run per line in the file OUT "
    "(OUT a folder or ending in /: OUT/runs.jsonl); "
    "tensorboard: event files in the folder OUT (needs regtui[tensorboard]); "
    "checkpoint: a train run's checkpoint (torch.save of state dicts) copied to the file OUT.",
)
@click.option("--out", required=True, metavar="PATH", help="The folder (csv, tensorboard) or file (jsonl, checkpoint).")
@click.option(
    "--checkpoint",
    "which",
    metavar="NAME",
    help="--format checkpoint: which of the run's checkpoint files (needed when it keeps several).",
)
@runs_dir_option
def export(run_ids: tuple[str, ...], fmt: str, out: str, which: str | None, runs_dir: str | None) -> int:
    """Write runs as CSV, JSON lines or TensorBoard event files, or hand out a run's checkpoint."""
    from regtui.store import export as ex

    if not out.strip():
        raise ConfigError("--out: the path is empty")
    if fmt == "checkpoint":
        return _export_checkpoint(open_store(runs_dir), run_ids, out, which)
    target = Path(out)
    if fmt == "tensorboard":
        from regtui.store import tensorboard as tb

        tb.tensorboard_modules()  # the missing extra is said before any work
    loaded = _load(open_store(runs_dir), run_ids)
    try:
        if fmt == "jsonl":
            from regtui.output import check_writable

            if out.endswith(("/", os.sep)) or target.is_dir():  # a folder: the file goes into it
                if not target.parent.is_dir():
                    raise ConfigError(f"--out: the folder {target.parent} does not exist")
                target.mkdir(exist_ok=True)
                out = str(target / ex.JSONL_NAME)
            ex.write_jsonl(check_writable("--out", out), loaded)
        else:
            if target.exists() and not target.is_dir():
                raise ConfigError(f"--out: {out} is a file; {fmt} export writes a folder")
            with staged_folder(target) as staging, quiet_thread_errors():  # a failed export leaves nothing
                if fmt == "csv":
                    ex.write_csv(staging, loaded)
                else:
                    tb.write_tensorboard(staging, loaded)
    except OSError as exc:
        raise ConfigError(f"--out: cannot write {out} ({exc.strerror or exc})") from None
    click.echo(f"exported {len(loaded)} run(s) as {fmt} to {out}", err=True)
    return 0


def _export_checkpoint(store: RunStore, run_ids: tuple[str, ...], out: str, which: str | None) -> int:
    """Copy one checkpoint file of one run to ``out`` (atomically)."""
    import shutil

    from regtui.output import check_writable
    from regtui.store.export import pick_checkpoint

    if len(set(run_ids)) != 1:
        raise ConfigError("--format checkpoint: give one run id")
    info = store.get(run_ids[0])
    source = pick_checkpoint(store.folder(info.id), info.id, info.params.get("checkpoint"), which)
    target = check_writable("--out", out)
    try:
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise ConfigError(f"--out: cannot write {out} ({exc.strerror or exc})") from None
    click.echo(f"exported run {info.id}'s checkpoint {source.name} to {out}", err=True)
    return 0


@runs.command()
@click.argument("run_ids", metavar="ID…", nargs=-1, required=True)
@runs_dir_option
def rm(run_ids: tuple[str, ...], runs_dir: str | None) -> int:
    """Delete runs (every id is checked first; a run still going is refused)."""
    removed = open_store(runs_dir).remove(list(run_ids))
    click.echo(f"removed run(s) {', '.join(map(str, removed))}", err=True)
    return 0


@runs.command()
@click.argument("run_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the new run's JSON document.")
@click.option("--out", help="Also write the JSON document to this file (atomically).")
@click.option("--no-save", is_flag=True, help="Do not keep the new run in the history.")
@click.option(
    "--jobs", default="auto", show_default=True, help="Model stacks trained at once (results do not depend on it)."
)
@click.option("--strict", is_flag=True, help="Refuse when a file the run read (data, factory code) has changed.")
@runs_dir_option
def rerun(
    run_id: str, as_json: bool, out: str | None, no_save: bool, jobs: str, strict: bool, runs_dir: str | None
) -> int:
    """Run it again: the same plan, seed and device (on the CPU, the same numbers).

    The files the run read besides its scenario (data files, factory modules) are checked
    against their recorded sha256: a changed one is a warning naming it, or with --strict
    a refusal.
    """
    from regtui import headless
    from regtui.store.replay import changed_inputs, rerun_options

    store = open_store(runs_dir)
    info = store.get(run_id)
    device = info.device
    if device in (None, "", "auto"):  # a killed run's record never learnt its device; its events did
        with contextlib.suppress(ConfigError):
            device = store.document(info.id).get("device") or device
    try:
        kwargs = rerun_options(info.plan, store.folder(info.id), device)
    except ConfigError:
        raise
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"run {info.id}: its record does not say how it was run; it cannot be rerun") from None
    changes = changed_inputs(info.plan)
    if changes and strict:
        raise ConfigError(
            f"run {info.id}: --strict: {changes[0]}" + (f" (and {len(changes) - 1} more)" if changes[1:] else "")
        )
    for line in changes:
        click.echo(f"regtui: warning: run {info.id}: {line}; the rerun may differ", err=True)
    if is_terminal(sys.stderr):
        click.echo(f"regtui: rerunning run {info.id}: {info.plan.get('command', '')}", err=True)
    return headless.run(
        headless.Options(**kwargs, as_json=as_json, out=out, jobs=parse_jobs(jobs), save=not no_save, runs_dir=runs_dir)
    )


@runs.command()
@click.argument("run_id", metavar="[ID]", required=False)
@runs_dir_option
def follow(run_id: str | None, runs_dir: str | None) -> int:
    """A running run's progress, one line a second, from any terminal (without ID: the newest running run).

    Exits when the run ends, with its status as the code: 0 completed, 1 failed,
    130 stopped or interrupted. Ctrl-C stops following; the run goes on.
    """
    from regtui.cli.following import follow as follow_lines
    from regtui.store.follow import Follower, newest_running

    store = open_store(runs_dir)
    follower = Follower(store, run_id if run_id is not None else newest_running(store).id)
    try:
        with follower:
            return follow_lines(follower)
    except KeyboardInterrupt:
        click.echo(
            f"regtui: stopped following run {follower.id}; it goes on (regtui runs follow {follower.id})", err=True
        )
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # its reader went away (`regtui runs follow | head -3`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush does not fail too
        return 0


@runs.command()
@click.argument("run_id", metavar="ID")
@click.option("--now", is_flag=True, help="Stop at once, as a second Ctrl-C (the first: at the next step).")
@click.option(
    "--wait",
    default=STOP_WAIT_S,
    show_default=True,
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Wait this long for the run to save and end (0: do not wait).",
)
@runs_dir_option
def stop(run_id: str, now: bool, wait: float, runs_dir: str | None) -> int:
    """Stop a run of this host, as Ctrl-C in its terminal would: it saves what it has as stopped."""
    from regtui.store.control import stop as stop_run
    from regtui.store.control import wait_ended

    store = open_store(runs_dir)
    info = stop_run(store, run_id, now=now)
    how = "at once" if now else "at its next step"
    if not wait:
        click.echo(f"regtui: asked run {info.id} (process {info.pid}) to stop {how}", err=True)
        return 0
    ended = wait_ended(store, info, wait)
    if ended is None:
        click.echo(
            f"regtui: run {info.id} is still stopping after {fmt(wait)} s; "
            f"'regtui runs stop {info.id} --now' stops it at once",
            err=True,
        )
        return EXIT_FAILED
    click.echo(f"regtui: run {info.id} {ended.state} (regtui runs show {info.id})", err=True)
    return 0


@runs.command()
@runs_dir_option
def reindex(runs_dir: str | None) -> int:
    """Rebuild the index from the run folders (after a crash or a damaged index file)."""
    store = open_store(runs_dir)
    listing = store.reindex()
    for name in store.strangers():
        shown = name if len(name) <= 24 else name[:20] + "…"
        click.echo(
            f"regtui: warning: {store.root / shown} is not a run's folder (ids are 1 to {MAX_ID}); ignored", err=True
        )
    click.echo(f"reindexed {len(listing.runs)} run(s)", err=True)
    return _problems(listing.problems)
