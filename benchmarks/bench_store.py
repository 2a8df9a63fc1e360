"""Saving a run to the history costs nothing measurable: the same headless run with and without --no-save.

Runs the scenario headless in this process (torch imported once), alternating
saved and unsaved runs so the machine's noise hits both alike, and prints the
median wall time of each and their ratio. Then times the saving itself on the
last run's document: claiming the run (folder, meta.json, index row), streaming
its events (one flushed JSON line each) and finishing (document, meta.json,
index row), which is what the ratio should hide.

    python benchmarks/bench_store.py [--scenario weight-decay] [--rounds 5] [--set iters=2000 ...]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

from regtui import headless
from regtui import scenario as sc
from regtui.event_log import EventLog, encode, read
from regtui.report import Collector
from regtui.store import open_store
from regtui.store.recording import _latest


def _run(name: str, sets: tuple[str, ...], save: bool, runs_dir: Path) -> float:
    opts = headless.Options(name=name, as_json=True, device="cpu", sets=sets, jobs=1, save=save, runs_dir=str(runs_dir))
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = headless.run(opts)
    elapsed = time.perf_counter() - start
    assert code == 0, code
    return elapsed


def _save_parts(name: str, sets: tuple[str, ...], runs_dir: Path, repeats: int) -> dict[str, float]:
    """Median seconds spent in each part of saving a run, on the events and document of a real run."""
    events_file = runs_dir.parent / "events.jsonl"
    s = sc.load(sc.find(name))
    plan = sc.plan(s, sc.parse_sets(s.spec, sets))
    with contextlib.redirect_stdout(io.StringIO()):
        headless.run(
            headless.Options(
                name=name, as_json=True, device="cpu", sets=sets, jobs=1, save=False, events=str(events_file)
            )
        )
    events = list(read(events_file))
    collector = Collector()
    for event in events:
        collector(event)
    doc = collector.document()
    store = open_store(runs_dir)
    samples: dict[str, list[float]] = {"begin": [], "events": [], "finish": [], "plain_log": [], "writer": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        recording = store.begin(plan, "cpu")
        t1 = time.perf_counter()
        for event in events:
            recording(event)
        t2 = time.perf_counter()
        time.sleep(0.5)  # let the writer thread catch up, as it does long before a run ends
        t3 = time.perf_counter()
        recording.finish(doc)
        t4 = time.perf_counter()
        with open(runs_dir.parent / "plain.jsonl", "w", encoding="utf-8") as handle:  # --events, for scale
            log = EventLog(handle)
            t5 = time.perf_counter()
            for event in events:
                log(event)
            t6 = time.perf_counter()
        t7 = time.perf_counter()  # the writer thread's CPU work, were it to get all events in one batch
        for event in _latest(events):
            encode(event)
        t8 = time.perf_counter()
        for key, value in (
            ("begin", t1 - t0),
            ("events", t2 - t1),
            ("finish", t4 - t3),
            ("plain_log", t6 - t5),
            ("writer", t8 - t7),
        ):
            samples[key].append(value)
    return {**{k: statistics.median(v) for k, v in samples.items()}, "count": len(events)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="weight-decay")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    sets = tuple(args.sets)
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp) / "runs"
        _run(args.scenario, sets, True, runs_dir)  # warm-up: torch, the engine, the first index
        saved, unsaved = [], []
        for i in range(args.rounds):
            order = (True, False) if i % 2 == 0 else (False, True)
            for save in order:
                (saved if save else unsaved).append(_run(args.scenario, sets, save, runs_dir))
        parts = _save_parts(args.scenario, sets, runs_dir, args.rounds)
        kept = len(open_store(runs_dir).listing().runs)
    with_save, without = statistics.median(saved), statistics.median(unsaved)
    print(f"scenario {args.scenario} {' '.join(sets)}: {args.rounds} rounds, median wall time per run")
    print(f"  without saving (--no-save)  {without * 1000:8.1f} ms   (min {min(unsaved) * 1000:.1f})")
    print(f"  saved to the run history    {with_save * 1000:8.1f} ms   (min {min(saved) * 1000:.1f})")
    print(f"  ratio saved / not saved     {with_save / without:8.3f}   (min/min {min(saved) / min(unsaved):.3f})")
    pairs = sorted(s / u for s, u in zip(saved, unsaved))  # each round's two runs ran back to back
    q = statistics.quantiles(pairs, n=4) if len(pairs) >= 2 else [pairs[0]] * 3
    print(f"  per-round ratios: median {q[1]:.3f}, quartiles {q[0]:.3f}-{q[2]:.3f}", end="")
    print(f", range {pairs[0]:.3f}-{pairs[-1]:.3f}")
    total = parts["begin"] + parts["events"] + parts["finish"]
    print(f"the saving itself (median of {args.rounds}; {kept} runs in the store), on the run's own threads:")
    print(f"  begin (checks, claim the id)   {parts['begin'] * 1000:7.2f} ms")
    print(
        f"  {int(parts['count'])} events put on the queue  {parts['events'] * 1000:7.2f} ms   (a plain --events "
        f"log writes them in {parts['plain_log'] * 1000:.2f} ms)"
    )
    print(f"  finish (document, record, row) {parts['finish'] * 1000:7.2f} ms")
    print(f"  total                          {total * 1000:7.2f} ms = {total / without:.2%} of a run")
    print(
        f"  off the run's threads: the writer thread encodes the events in {parts['writer'] * 1000:.1f} ms at best "
        "(all in one batch; the batches of a real run drop fewer superseded events)"
    )


if __name__ == "__main__":
    main()
