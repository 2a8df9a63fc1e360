"""The ``regtui`` command: the dashboard, or a headless run with ``--scenario``.

``--help``, ``--list`` and ``--version`` must not import torch (a test checks),
so torch, the engine and Textual are imported only inside the functions that
need them. Every bad input ends as one line on stderr and exit code 2
(:mod:`regtui.cli.common`). ``regtui runs …`` and ``regtui download …`` are
commands of their own (:mod:`regtui.cli.runs`, :mod:`regtui.cli.download`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from regtui import __version__
from regtui.cli.common import OneLineErrorsMixin, parse_jobs
from regtui.cli.dashboard import open_app
from regtui.sampling import points_count
from regtui.specs import JOBS_MAX, MAX_MODELS, SEED_MAX, THREADS_MAX, ConfigError, parse_count


class OneLineErrors(OneLineErrorsMixin, click.Command):
    """The main command; ``regtui runs …``, ``regtui attach …`` and ``regtui download …`` go to their own commands.

    A group cannot take the positional FILE of ``regtui FILE.toml`` without a
    subcommand name shadowing a file of that name, so the first argument picks.
    """

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if argv[:1] == ["runs"]:
            from regtui.cli.runs import runs

            kwargs.setdefault("prog_name", "regtui runs")
            return runs.main(argv[1:], *rest, **kwargs)
        if argv[:1] == ["attach"]:
            from regtui.cli.attach import attach_command

            kwargs.setdefault("prog_name", "regtui attach")
            return attach_command.main(argv[1:], *rest, **kwargs)
        if argv[:1] == ["download"]:
            from regtui.cli.download import download_command

            kwargs.setdefault("prog_name", "regtui download")
            return download_command.main(argv[1:], *rest, **kwargs)
        self.headless_json = "--json" in argv and any(
            a in ("--scenario", "-s") or a.startswith("--scenario=") for a in argv
        )
        detached = any(a == "--run-id" or a.startswith("--run-id=") for a in argv)  # the run --detach started
        if not (self.headless_json or detached):
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
            from regtui.json_writer import to_json
            from regtui.output import write_stdout
            from regtui.report import Collector

            write_stdout(lambda stream: stream.write(to_json(Collector().document()) + "\n"))


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
@click.option(
    "--sweep",
    "sweeps",
    multiple=True,
    metavar="KEY=V1,V2,…",
    help="Sweep a parameter: numbers, true,false or choices (several form a grid).",
)
@click.option(
    "--sample",
    metavar="N",
    default=None,
    help="Random search: draw N points from the --sweep ranges KEY=log(a,b), uniform(a,b) or choice(v1,v2,…).",
)
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
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where the models train: this process, or each stack as a task on a Ray cluster (regtui[ray]).",
)
@click.option(
    "--ray-address",
    metavar="ADDRESS",
    help="The Ray cluster of --executor ray (default: $RAY_ADDRESS, else a Ray started for the run).",
)
@click.option("--list", "list_only", is_flag=True, help="List the bundled scenarios and exit.")
@click.option("--scenarios-dir", help="Also offer the *.toml files in this folder (dashboard and --list).")
@click.option(
    "--runs-dir",
    metavar="DIR",
    help="Keep runs in this folder (default: $REGTUI_RUNS_DIR, else $XDG_DATA_HOME/regtui/runs).",
)
@click.option("--no-save", is_flag=True, help="Do not keep this run in the run history.")
@click.option(
    "--detach",
    is_flag=True,
    help="Run it in the background, apart from this terminal: print its run id and return at once "
    "(then regtui runs follow ID, regtui runs stop ID).",
)
@click.option("--run-id", type=int, hidden=True, help="The run id --detach claimed for this run (its own use).")
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
    sample: str | None,
    out: str | None,
    events: str | None,
    rebuild: str | None,
    no_memory_check: bool,
    threads: str,
    jobs: str,
    executor: str,
    ray_address: str | None,
    list_only: bool,
    scenarios_dir: str | None,
    runs_dir: str | None,
    no_save: bool,
    detach: bool,
    run_id: int | None,
) -> int:
    """Watch PyTorch regularization and normalization experiments.

    With no --scenario, opens the dashboard (on FILE if given). With
    --scenario, runs it headless and prints a summary, or JSON with --json
    (with --detach, in the background); the run is kept in the run history
    (regtui runs --help: list, show, follow, stop, compare, export, rm,
    rerun). regtui attach [ID] opens the dashboard following a running run.
    regtui download SOURCE FOLDER fetches MNIST, Fashion-MNIST or CIFAR-10
    for your own experiments.
    """
    if scenarios_dir is not None and not Path(scenarios_dir).is_dir():
        raise ConfigError(f"--scenarios-dir: {scenarios_dir!r} is not a folder")
    if detach:
        refuse_with_detach(scenario, as_json, rebuild, list_only, no_save, out, events)
    if list_only:
        print_list(scenarios_dir)
        return 0
    if rebuild is not None:
        from regtui import headless

        return headless.rebuild(rebuild, as_json, out)
    if scenario is None:
        if as_json or sets or sweeps or sample or seeds is not None or out is not None or events is not None:
            raise ConfigError("--json, --set, --sweep, --sample, --seeds, --out and --events need --scenario NAME")
        if executor != "local" or ray_address is not None:
            raise ConfigError(
                "--executor and --ray-address need --scenario NAME (the dashboard offers Ray as a device)"
            )
        return open_app(file, scenarios_dir, device, save=not no_save, runs_dir=runs_dir)
    if file:
        raise ConfigError(f"give either --scenario or a FILE, not both (got {file!r})")
    check_executor(executor, ray_address, device)
    from regtui import headless

    opts = headless.Options(
        name=scenario,
        as_json=as_json,
        device=device,
        seed=parse_count("--seed", seed, 0, SEED_MAX),
        seeds=None if seeds is None else parse_count("--seeds", seeds, 1, MAX_MODELS),
        sets=sets,
        sweeps=sweeps,
        sample=None if sample is None else points_count(sample),
        out=out,
        events=events,
        threads=parse_count("--threads", threads, 1, THREADS_MAX),
        jobs=parse_jobs(jobs),
        memory_check=not no_memory_check,
        save=not no_save,
        runs_dir=runs_dir,
        run_id=run_id,
        executor=executor,
        ray_address=ray_address,
    )
    if detach:
        from regtui.cli.detach import start_detached

        return start_detached(opts)
    return headless.run(opts)


def check_executor(executor: str, ray_address: str | None, device: str) -> None:
    """--executor ray needs Ray installed and a device its tasks can use; --ray-address needs --executor ray."""
    if ray_address is not None and executor != "ray":
        raise ConfigError("--ray-address needs --executor ray")
    if executor == "ray":
        name = device.strip().lower()
        if name not in ("auto", "cpu", "cuda") and not (name.startswith("cuda:") and name[5:].isdigit()):
            raise ConfigError(f"--device {device!r}: with --executor ray the tasks train on cpu or cuda (or auto)")
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise ConfigError("--executor ray: Ray is not installed here; pip install 'regtui[ray]'")


def refuse_with_detach(
    scenario: str | None,
    as_json: bool,
    rebuild: str | None,
    list_only: bool,
    no_save: bool,
    out: str | None,
    events: str | None,
) -> None:
    """--detach with options that make no sense for a run in the background: one line each."""
    if rebuild is not None or list_only:
        raise ConfigError("--detach starts a run; --rebuild and --list do not run anything")
    if scenario is None:
        raise ConfigError("--detach needs --scenario NAME: the dashboard cannot run in the background")
    if as_json:
        raise ConfigError(
            "--detach: --json prints on this terminal, which a run in the background does not keep; "
            "its document is in the run store (regtui runs show ID --json), or give --out FILE"
        )
    if no_save:
        raise ConfigError("--detach keeps the run in the run store (that is how it is followed); drop --no-save")
    for option, path in (("--out", out), ("--events", events)):
        if path is not None and path.strip() in ("-", "/dev/stdout", "/dev/stderr", "/dev/tty"):
            raise ConfigError(f"{option} {path}: a run in the background has no terminal to write to; give a file")


def print_list(scenarios_dir: str | None) -> None:
    """--list: name, title and summary of every scenario (an invalid file says why, in its row)."""
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
