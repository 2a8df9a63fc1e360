"""What ``regtui.track()`` costs a training loop: the same loop plain and tracked, in one process.

Two models on scikit-learn's 8x8 digits: the digits MLP (64 → 128 → 128 → 10 with ReLU and
Dropout) and a small conv net (conv(16) → BatchNorm → ReLU → maxpool → conv(32) → BatchNorm → ReLU
→ maxpool → linear), batch 64, SGD with momentum, ``log_every=100``. Each round trains the
model ``--steps`` steps plain (``loss.item()`` every step, as a loop that prints does) and tracked
(``run.log(step, train_loss=loss.item())`` every step, model and optimizer given, so its logging
steps install hooks, measure every layer and check the pitfalls), alternating which goes first so
the machine's noise hits both alike. Every step is timed on its own.

Prints per model: the median over rounds of (tracked time / plain time) for the whole loop, for the
loop from its second logging interval on (the steady state: the run's start — its folder in the store,
its index row, the writer thread's first files — falls in the first steps), and the
same ratio over the steps that do not log (the median step of each: a logging step is one in 100),
which is what a step without hooks costs; and the share of the tracked loop spent in its logging
steps. One intra-op thread (the project's default for small models).

    python benchmarks/bench_track.py [--rounds 7] [--steps 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch
from torch import nn
from torch.nn import functional as F

import regtui

LOG_EVERY = 100
BATCH = 64


def digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return torch.tensor(bunch.data, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16, torch.tensor(bunch.target)


def mlp() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10)
    )


def conv() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 10),
    )  # fmt: skip


def loop(make: type | object, x: torch.Tensor, y: torch.Tensor, steps: int, runs_dir: str | None) -> list[float]:
    """Each step's seconds; tracked when ``runs_dir`` is given."""
    torch.manual_seed(0)
    model = make()  # type: ignore[operator]
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    order = torch.randint(0, len(x), (steps, BATCH), generator=g)
    times = []
    run = None
    if runs_dir is not None:
        run = regtui.track("bench", model=model, optimizer=opt, log_every=LOG_EVERY, runs_dir=runs_dir)
    for step in range(steps):
        start = time.perf_counter()
        idx = order[step]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = loss.item()
        if run is not None:
            run.log(step, train_loss=value)
        times.append(time.perf_counter() - start)
    if run is not None:
        run.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    x, y = digits()
    print(f"torch {torch.__version__} · {os.cpu_count()} CPUs · 1 thread · batch {BATCH} · log_every {LOG_EVERY}")
    with tempfile.TemporaryDirectory() as store:
        for name, make in (("digits MLP", mlp), ("small conv net", conv)):
            loop(make, x, y, 200, None)  # warm up: the first optimizer step imports torch._dynamo
            whole, steady, bare, logging_share = [], [], [], []
            for r in range(args.rounds):
                order = [None, store] if r % 2 == 0 else [store, None]
                times = {str(d): loop(make, x, y, args.steps, d) for d in order}
                plain, tracked = times["None"], times[store]
                whole.append(sum(tracked) / sum(plain))
                steady.append(sum(tracked[LOG_EVERY:]) / sum(plain[LOG_EVERY:]))
                bare.append(statistics.median(tracked) / statistics.median(plain))
                logged = sum(t for i, t in enumerate(tracked) if i % LOG_EVERY == 0)
                logging_share.append(logged / sum(tracked))
            print(
                f"{name:15s} tracked/plain: whole loop {statistics.median(whole):.3f} "
                f"(rounds {min(whole):.3f}–{max(whole):.3f}) · from step {LOG_EVERY} on "
                f"{statistics.median(steady):.3f} ({min(steady):.3f}–{max(steady):.3f}) · a step that does not log "
                f"{statistics.median(bare):.3f} · logging steps {100 * statistics.median(logging_share):.1f}% "
                "of the tracked loop"
            )


if __name__ == "__main__":
    main()
