"""--executor ray against local training, in one run: a 32-model digits sweep.

    python benchmarks/bench_ray.py [--rounds 3] [--steps 1000] [--json FILE]

The plan is ``digits-overfit --seeds 8``: 4 variants × 8 seeds = 32 MLPs, 4 stacks of 8 on the
CPU, so 4 Ray tasks. Measured in turns, round after round (the machine is shared: each
round takes every setting once, and the ratios are of medians), each run timed from the
first event to the last in this process (a cluster already started; its start is timed
apart, as is the whole ``regtui --executor ray`` process):

- ``local``: :func:`regtui.engine.run_plan` with ``jobs`` = the cores (``--jobs auto``);
- ``ray 1 node``: :func:`regtui.engine.ray_executor.run_on_ray` on one node with as many CPUs
  (the issue's bound: at most 1.15x the local time);
- ``ray 1 node, 1 CPU`` and ``ray 2 nodes, 1 CPU each`` (``ray.cluster_utils.Cluster``, the
  test cluster): the second should be at least 1.6x faster.

Every Ray run is checked against the local run's figures (identical on the CPU). The load
average is printed before and after each run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import ray
from ray.cluster_utils import Cluster

from regtui import headless
from regtui.engine import run_plan
from regtui.engine.ray_executor import run_on_ray
from regtui.engine.ray_relay import TASKS_KEY
from regtui.report import Collector


def make_plan(steps: int) -> Any:
    opts = headless.Options(name="digits-overfit", seeds=8, sets=(f"steps={steps}",), memory_check=False)
    return headless.prepare(opts)[1]


def figures(doc: dict[str, Any]) -> Any:
    return doc["variants"], {k: v for k, v in doc["summary"].items() if k != TASKS_KEY}


def load() -> float:
    return os.getloadavg()[0]


def timed(run: Any) -> tuple[float, dict[str, Any], float, float, float]:
    """(wall s, document, load before, load after, this process's CPU s)."""
    before = load()
    collector = Collector()
    start, cpu = time.perf_counter(), time.process_time()
    finished = run(collector)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert finished.status == "completed", finished.error
    return elapsed, collector.document(), before, load(), cpu


def worker_cpu(doc: dict[str, Any]) -> dict[str, float]:
    """CPU seconds (user + system) of each node's Ray worker processes so far, from /proc: their
    imports, data and training. On a loaded machine wall times follow the load; CPU times much less."""
    tick = os.sysconf("SC_CLK_TCK")
    per_node: dict[str, float] = {}
    for pid, node in {(row["pid"], row["node"]) for row in doc["summary"][TASKS_KEY]}:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        per_node[node] = per_node.get(node, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return per_node


def on_cluster(nodes: list[int], plan: Any) -> tuple[float, dict[str, Any], float, float, float, float, dict]:
    """Start a cluster of ``nodes`` (CPUs each), run the plan on it, shut it down:
    (wall s, doc, loads, driver CPU s, start s, workers' CPU s per node)."""
    start = time.perf_counter()
    cluster = Cluster(
        initialize_head=True, connect=True, head_node_args={"num_cpus": nodes[0], "include_dashboard": False}
    )
    for cpus in nodes[1:]:
        cluster.add_node(num_cpus=cpus)
    cluster.wait_for_nodes()
    started = time.perf_counter() - start
    try:
        elapsed, doc, before, after, cpu = timed(lambda c: run_on_ray(plan, "cpu", emit=c))
        workers = worker_cpu(doc)
    finally:
        ray.shutdown()
        cluster.shutdown()
    return elapsed, doc, before, after, cpu, started, workers


def whole_process(steps: int, executor: str) -> float:
    """``regtui --scenario digits-overfit --seeds 8 --executor …`` as a user runs it (Ray started and stopped)."""
    args = ["--scenario", "digits-overfit", "--seeds", "8", "--set", f"steps={steps}", "--json", "--no-save"]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "regtui", *args, "--executor", executor], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--json", help="write every measurement here")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    plan = make_plan(args.steps)
    print(f"{len(plan.runs)} models, {args.steps} steps, {cores} cores, load {load():.2f}", flush=True)
    run_plan(make_plan(20), "cpu", jobs=cores)  # warm: the digits, torch's first ops
    settings = {
        "local": None,
        f"ray 1 node, {cores} CPUs": [cores],
        "ray 1 node, 1 CPU": [1],
        "ray 2 nodes, 1 CPU each": [1, 1],
    }
    times: dict[str, list[float]] = {name: [] for name in settings}
    starts: dict[str, list[float]] = {name: [] for name in settings}
    cpus: dict[str, list[float]] = {name: [] for name in settings}  # all CPU s: this process's and the workers'
    busiest: dict[str, list[float]] = {name: [] for name in settings}  # the busiest node's workers' CPU s
    records = []
    reference = None
    for round_ in range(args.rounds):
        for name, nodes in settings.items():
            workers: dict[str, float] = {}
            if nodes is None:
                elapsed, doc, before, after, cpu = timed(lambda c: run_plan(plan, "cpu", emit=c, jobs=cores))
                reference = reference or figures(doc)
                started = 0.0
            else:
                elapsed, doc, before, after, cpu, started, workers = on_cluster(nodes, plan)
                starts[name].append(started)
            same = reference is None or figures(doc) == reference
            times[name].append(elapsed)
            cpus[name].append(cpu + sum(workers.values()))
            busiest[name].append(max(workers.values(), default=cpu))
            records.append(
                {
                    "round": round_,
                    "setting": name,
                    "s": elapsed,
                    "start_s": started,
                    "load": [before, after],
                    "driver_cpu_s": cpu,
                    "worker_cpu_s": workers,
                }
            )
            print(
                f"round {round_ + 1} {name:26s} {elapsed:6.1f} s  (cluster start {started:4.1f} s)  "
                f"CPU {cpu + sum(workers.values()):5.1f} s (busiest node {busiest[name][-1]:5.1f})  "
                f"load {before:.2f}->{after:.2f}  same figures as local: {same}",
                flush=True,
            )
            assert same, f"{name}: the figures differ from the local run's"
    whole = {ex: whole_process(args.steps, ex) for ex in ("local", "ray")}
    med = {name: statistics.median(ts) for name, ts in times.items()}
    one_node = f"ray 1 node, {cores} CPUs"
    summary = {
        "models": len(plan.runs),
        "steps": args.steps,
        "cores": cores,
        "rounds": args.rounds,
        "median_s": med,
        "ray_1_node_over_local": med[one_node] / med["local"],
        "two_nodes_speedup_over_one_cpu": med["ray 1 node, 1 CPU"] / med["ray 2 nodes, 1 CPU each"],
        "median_cpu_s": {name: statistics.median(v) for name, v in cpus.items()},
        "ray_1_node_cpu_over_local": statistics.median(cpus[one_node]) / statistics.median(cpus["local"]),
        # With a free core per node the wall time would follow the busiest node's CPU time:
        "two_nodes_speedup_from_cpu": statistics.median(busiest["ray 1 node, 1 CPU"])
        / statistics.median(busiest["ray 2 nodes, 1 CPU each"]),
        "median_cluster_start_s": {k: statistics.median(v) for k, v in starts.items() if v},
        "whole_process_s": whole,
        "load_at_end": load(),
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "runs": records}, f, indent=2)


if __name__ == "__main__":
    main()
