"""What ``regtui.track()`` costs a training loop: the same loop plain and tracked, step by step, in one process.

Two models on scikit-learn's 8x8 digits: the digits MLP (64 → 128 → 128 → 10 with ReLU and
Dropout) and a small conv net (conv(16) → BatchNorm → ReLU → maxpool → conv(32) → BatchNorm → ReLU
→ maxpool → linear), batch 64, SGD with momentum, ``log_every=100``. Each round trains two copies
of the model (the same initial weights) ``--steps`` steps *in lockstep*: step k of the plain copy
(``loss.item()`` every step, as a loop that prints does) and step k of the tracked copy
(``run.log(step, train_loss=loss.item())`` every step, model and optimizer given, so its logging
steps install hooks, measure every layer and check the pitfalls), which goes first alternating
from step to step, and which copy is tracked alternating from round to round. Every step is timed
on its own. Interleaving steps matters on a shared machine: run one whole loop after the other,
a neighbour's load and where each copy's tensors happen to lie in memory moved the ratio by
±3–5% between identical loops, more than what is measured.

Each table also has a **control**: the tracked copy calls a function that does nothing instead of
``run.log`` — the same loop twice, whose ratio (ideally 1.000) is the benchmark's own noise.

Prints per model and arm: the median over rounds of (arm time / plain time) for the whole loop
(rounds' min–max), for the loop from its second logging interval on (the steady state: the run's
start — its folder in the store, its index row, the writer thread's first files — falls in the
first steps), the ratio of the median steps (a step that does not log: a logging step is one in
100), and what the logging steps add, as a share of the plain loop. One intra-op thread (the
project's default for small models).

    python benchmarks/bench_track.py [--rounds 8] [--steps 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

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


class Control:
    """The control arm's "run": a log that does nothing."""

    def log(self, step: int, **scalars: Any) -> None:
        pass

    def close(self) -> None:
        pass


def copy(make: Callable[[], nn.Module]) -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = make()
    return model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def paired(
    make: Callable[[], nn.Module], x: torch.Tensor, y: torch.Tensor, steps: int, arm: str, store: str, swap: bool
) -> tuple[list[float], list[float]]:
    """One round: each step's seconds of the plain copy and of the ``arm`` copy (tracked or control),
    trained in lockstep on the same mini-batches."""
    copies = [copy(make), copy(make)]
    if swap:
        copies.reverse()
    (plain_model, plain_opt), (model, opt) = copies
    run: Any = Control()
    if arm == "tracked":
        run = regtui.track("bench", model=model, optimizer=opt, log_every=LOG_EVERY, runs_dir=store)
    order = torch.randint(0, len(x), (steps, BATCH), generator=torch.Generator().manual_seed(0))
    plain: list[float] = []
    other: list[float] = []
    for step in range(steps):
        idx = order[step]
        for which in (0, 1) if step % 2 == 0 else (1, 0):
            start = time.perf_counter()
            m, o = (plain_model, plain_opt) if which == 0 else (model, opt)
            loss = F.cross_entropy(m(x[idx]), y[idx])
            o.zero_grad()
            loss.backward()
            o.step()
            value = loss.item()
            if which == 1:
                run.log(step, train_loss=value)
            (plain if which == 0 else other).append(time.perf_counter() - start)
    run.close()
    return plain, other


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    x, y = digits()
    print(f"torch {torch.__version__} · {os.cpu_count()} CPUs · 1 thread · batch {BATCH} · log_every {LOG_EVERY}")
    with tempfile.TemporaryDirectory() as store:
        for name, make in (("digits MLP", mlp), ("small conv net", conv)):
            paired(make, x, y, 200, "control", store, False)  # warm up: the first step imports torch._dynamo
            for arm in ("control", "tracked"):
                whole, steady, bare, logging, step_us = [], [], [], [], []
                for r in range(args.rounds):
                    plain, other = paired(make, x, y, args.steps, arm, store, swap=r % 2 == 1)
                    whole.append(sum(other) / sum(plain))
                    steady.append(sum(other[LOG_EVERY:]) / sum(plain[LOG_EVERY:]))
                    bare.append(statistics.median(other) / statistics.median(plain))
                    logs = range(0, args.steps, LOG_EVERY)
                    logging.append(sum(other[i] - plain[i] for i in logs) / sum(plain))
                    step_us.append(1e6 * statistics.median(plain))
                print(
                    f"{name:15s} {arm:8s} / plain: whole loop {statistics.median(whole):.3f} "
                    f"(rounds {min(whole):.3f}–{max(whole):.3f}) · from step {LOG_EVERY} on "
                    f"{statistics.median(steady):.3f} · a step that does not log {statistics.median(bare):.3f} · "
                    f"logging steps add {100 * statistics.median(logging):.1f}% · "
                    f"plain step {statistics.median(step_us):.0f} µs"
                )


if __name__ == "__main__":
    main()
