"""Following a run does not slow it: a run's steps/s with two `regtui runs follow` processes vs none.

Each round starts the same headless run twice with ``--detach`` (in a store of
its own), once alone and once with two ``regtui runs follow ID`` processes
attached from its start (each polls the run's events every 0.1 s and prints a
line a second), alternating which goes first so the machine's noise hits both
alike. A run's speed is its own: model-steps (iters × variants) over the
``elapsed_s`` of its document, which times the training, not the process
start. Prints the median steps/s of each, their ratio, and the per-round ratios;
and, as a measure that the machine's other load does not blur, the CPU time
the followers used (their rusage) as a share of one core over the run.

Then the lag: a follower in this process polls a run for ``--lag-seconds``
(every 0.1 s, as ``regtui runs follow`` does) and, each time it reads new
events, takes the age of the newest write it read: now minus the events file's
modification time, taken before the read (an upper bound). Prints its median
and worst. The run queues its events up to 0.1 s before it writes them (its
batches), which comes on top.

    python benchmarks/bench_follow.py [--rounds 5] [--iters 10000] [--followers 2] [--lag-seconds 20]
                                      [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT_S = 600.0


def regtui(*args: str) -> list[str]:
    return [sys.executable, "-m", "regtui", *args]


def one_run(runs_dir: Path, iters: int, sets: list[str], followers: int) -> tuple[float, float, float]:
    """Start a detached run, attach ``followers``, wait for its end; its steps/s, the followers'
    CPU seconds (all of them together) and the run's wall time from its start to its followers' end."""
    env = {**os.environ, "REGTUI_RUNS_DIR": str(runs_dir)}
    run = ["--scenario", "weight-decay", "--device", "cpu", "--set", f"iters={iters}"]
    for s in sets:
        run += ["--set", s]
    start = time.monotonic()
    started = subprocess.run(regtui(*run, "--detach"), capture_output=True, text=True, env=env, check=True)
    run_id = started.stdout.strip()
    watchers = [
        subprocess.Popen(regtui("runs", "follow", run_id), stdout=subprocess.DEVNULL, env=env) for _ in range(followers)
    ]
    document = runs_dir / run_id / "run.json"
    deadline = time.monotonic() + TIMEOUT_S
    while not document.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"run {run_id} did not end within {TIMEOUT_S} s")
        time.sleep(0.2)
    cpu = 0.0
    for watcher in watchers:
        _, status, usage = os.wait4(watcher.pid, 0)  # its exit status and the CPU time it used
        watcher.returncode = os.waitstatus_to_exitcode(status)
        if watcher.returncode != 0:
            raise SystemExit(f"a follower of run {run_id} exited with {watcher.returncode}")
        cpu += usage.ru_utime + usage.ru_stime
    wall = time.monotonic() - start
    doc = json.loads(document.read_text(encoding="utf-8"))
    if doc["status"] != "completed":
        raise SystemExit(f"run {run_id} ended {doc['status']}")
    steps = sum(len(v["series"]["step"]) for v in doc["variants"])
    return steps / doc["elapsed_s"], cpu, wall


def startup_cpu(runs_dir: Path, run_id: str, repeats: int = 5) -> float:
    """A follower's CPU seconds when the run has ended already: its start-up and exit (median)."""
    env = {**os.environ, "REGTUI_RUNS_DIR": str(runs_dir)}
    samples = []
    for _ in range(repeats):
        proc = subprocess.Popen(regtui("runs", "follow", run_id), stdout=subprocess.DEVNULL, env=env)
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        samples.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(samples)


def lag(runs_dir: Path, seconds: float, sets: list[str]) -> list[float]:
    """The age of the newest events a follower read, at each poll that read some, over ``seconds`` of a run."""
    from regtui.store import open_store
    from regtui.store.follow import POLL_S, Follower

    env = {**os.environ, "REGTUI_RUNS_DIR": str(runs_dir)}
    run = ["--scenario", "weight-decay", "--device", "cpu", "--set", "iters=10000000", *(f"--set={s}" for s in sets)]
    started = subprocess.run(regtui(*run, "--detach"), capture_output=True, text=True, env=env, check=True)
    run_id = started.stdout.strip()
    follower = Follower(open_store(runs_dir), run_id)
    events = runs_dir / run_id / "events.jsonl"
    ages: list[float] = []
    end = None
    while end is None or time.monotonic() < end:
        try:
            written = events.stat().st_mtime
        except FileNotFoundError:
            written = None
        new = follower.poll()
        if new and written is not None and follower.caught_up:
            ages.append(time.time() - written)
            end = end or time.monotonic() + seconds
        if follower.ended:
            raise SystemExit(f"run {run_id} ended {follower.state} before {seconds} s")
        time.sleep(POLL_S)
    follower.close()
    subprocess.run(regtui("runs", "stop", run_id), env=env, check=True, capture_output=True)
    return ages[1:]  # the first read caught up with the run's start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=10000)
    parser.add_argument("--followers", type=int, default=2)
    parser.add_argument("--lag-seconds", type=float, default=20.0)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    alone: list[float] = []
    followed: list[float] = []
    cpus: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp) / "runs"
        one_run(runs_dir, 200, args.sets, 0)  # warm-up: the disk cache, the store
        for i in range(args.rounds):
            order = (0, args.followers) if i % 2 == 0 else (args.followers, 0)
            for n in order:
                rate, cpu, wall = one_run(runs_dir, args.iters, args.sets, n)
                (followed if n else alone).append(rate)
                if n:
                    cpus.append((cpu, wall))
            print(f"  round {i + 1}: alone {alone[-1]:8.0f}  followed {followed[-1]:8.0f} steps/s", flush=True)
        start_cpu = startup_cpu(runs_dir, "1")
        report(args, alone, followed, cpus, start_cpu)
        ages = lag(runs_dir, args.lag_seconds, args.sets) if args.lag_seconds > 0 else []
    if ages:
        print(
            f"  lag from an event written to it read by a follower, over {args.lag_seconds:.0f} s "
            f"({len(ages)} reads): median {statistics.median(ages) * 1000:.0f} ms, worst {max(ages) * 1000:.0f} ms"
        )


def report(
    args: argparse.Namespace,
    alone: list[float],
    followed: list[float],
    cpus: list[tuple[float, float]],
    start_cpu: float,
) -> None:
    if not alone:
        return
    with_f, without = statistics.median(followed), statistics.median(alone)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"weight-decay iters={args.iters} {' '.join(args.sets)}: {args.rounds} rounds (load now {load:.2f})")
    print(f"  alone                      {without:8.0f} steps/s (median)")
    print(f"  with {args.followers} followers (0.1 s)   {with_f:8.0f} steps/s (median)")
    print(f"  ratio followed / alone     {with_f / without:8.3f}")
    pairs = sorted(f / a for f, a in zip(followed, alone))
    q = statistics.quantiles(pairs, n=4) if len(pairs) >= 2 else [pairs[0]] * 3
    print(f"  per-round ratios: median {q[1]:.3f}, quartiles {q[0]:.3f}-{q[2]:.3f}", end="")
    print(f", range {pairs[0]:.3f}-{pairs[-1]:.3f}")
    shares = [cpu / wall for cpu, wall in cpus]
    steady = [max(0.0, cpu - args.followers * start_cpu) / wall for cpu, wall in cpus]
    print(
        f"  the {args.followers} followers' CPU time: {statistics.median(shares) * 100:.1f}% of one core over "
        f"the run (median; max {max(shares) * 100:.1f}%), {statistics.median(steady) * 100:.2f}% without their "
        f"start-up ({start_cpu * 1000:.0f} ms each)"
    )


if __name__ == "__main__":
    main()
