"""Long runs: the collector's cost per chunk and its memory, at 1,000 vs 1,000,000 steps.

Feeds a Collector the events of the weight-decay scenario (two models, a
Metrics chunk of 25 steps with train_loss and test_loss each) for STEPS steps,
without training (a million real steps take minutes), then writes the JSON
document. Prints, in one run:

- the collector's time per chunk near step 1,000 and near the end (ratio; target <= 1.5),
- the memory the collected data holds (tracemalloc; target <= 50 MB at 1,000,000 steps),
- the document's size and the writer's peak on top of the collected data (target <= 2x the size).

    python benchmarks/bench_collector.py [--steps 1000000]
"""

from __future__ import annotations

import argparse
import math
import time
import tracemalloc

from regtui.events import Metrics, RunFinished, RunSpec, RunStarted
from regtui.json_writer import write_json
from regtui.report import Collector

CHUNK = 25
MODELS = ("no weight decay", "weight decay")


def _started(steps: int) -> RunStarted:
    runs = tuple(RunSpec(name, 0, {"iters": steps}) for name in MODELS)
    return RunStarted("weight-decay", "weight-decay", "Weight decay", "cpu", 0, "bench", {"iters": steps}, runs)


def _chunk(model: str, start: int) -> Metrics:
    steps = tuple(range(start, start + CHUNK))
    values = {"train_loss": tuple(1.0 / s for s in steps), "test_loss": tuple(math.log1p(s) for s in steps)}
    return Metrics(model, 0, steps, values)


class _Counter:
    """A stream that only counts what is written (a file would not hold it in memory either)."""

    chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def _per_chunk(collector: Collector, start: int, chunks: int = 40) -> float:
    """Seconds per chunk (both models) over 40 chunks from ``start``."""
    events = [_chunk(m, start + i * CHUNK) for i in range(chunks) for m in MODELS]
    t0 = time.perf_counter()
    for e in events:
        collector(e)
    return (time.perf_counter() - t0) / chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    args = parser.parse_args()
    tracemalloc.start()
    collector = Collector()
    collector(_started(args.steps))
    step = 1
    while step < 1_000:
        for m in MODELS:
            collector(_chunk(m, step))
        step += CHUNK
    early = min(_per_chunk(collector, step + i * 40 * CHUNK) for i in range(3))
    step += 3 * 40 * CHUNK
    while step < args.steps - 3 * 40 * CHUNK:
        for m in MODELS:
            collector(_chunk(m, step))
        step += CHUNK
    late = min(_per_chunk(collector, step + i * 40 * CHUNK) for i in range(3))
    collector(RunFinished("completed", 1.0))
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    sink = _Counter()
    write_json(collector.document(compact=True), sink)  # as headless.py writes it
    size = sink.chars
    _, peak = tracemalloc.get_traced_memory()
    writer_peak = peak - held  # what writing needed on top of the collected data
    mb = 1024 * 1024
    print(f"steps {args.steps:,} x {len(MODELS)} models")
    print(
        f"collector per chunk: {early * 1e6:.0f} µs near step 1,000, {late * 1e6:.0f} µs near the end "
        f"(ratio {late / early:.2f}, target <= 1.5)"
    )
    print(f"collected data held: {held / mb:.1f} MB (target <= 50 MB at 1,000,000 steps)")
    print(
        f"document: {size / mb:.1f} MB; writer peak on top of the data: {writer_peak / mb:.1f} MB "
        f"({writer_peak / size:.2f}x the document, target <= 2x)"
    )


if __name__ == "__main__":
    main()
