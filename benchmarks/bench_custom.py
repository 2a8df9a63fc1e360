"""regtui's ``train`` kind vs a plain PyTorch loop doing the same training.

    python benchmarks/bench_custom.py [--steps N] [--rounds N] [--batch N] [--log-every N]

Target ≤ 1.25x wall time): one MLP (64-256-256-10, ReLU) on sklearn's digits,
Adam, ``--steps`` mini-batch steps. Baseline: the loop a user would write — the same
``nn.Sequential``, ``torch.optim.Adam``, the same mini-batches — and nothing else.
Contender: the whole ``run_plan`` of an equivalent ``experiment = "train"`` scenario,
events collected by the headless Collector (test loss and accuracy, layer statistics and
per-layer norms at every logging step, the final evaluation). Rounds alternate and the
median of each is compared; 1 intra-op thread for both.

Not done yet (the stretch): training several variants/seeds of one architecture together
with ``torch.func`` (functional_call + vmap over stacked parameters); the engine trains the
runs of a plan one after another.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from regtui import scenario as sc  # noqa: E402
from regtui.engine import run_plan  # noqa: E402
from regtui.engine.custom import data as data_mod  # noqa: E402
from regtui.engine.custom.train import batch_order  # noqa: E402
from regtui.report import Collector  # noqa: E402

SCENARIO = """
experiment = "train"
[params]
optimizer = "adam"
lr = 0.001
batch = {batch}
steps = {steps}
train_size = 0
log_every = {log_every}
[model]
layers = [{{type = "flatten"}}, {{type = "linear", out = 256}}, {{type = "relu"}},
          {{type = "linear", out = 256}}, {{type = "relu"}}, {{type = "linear"}}]
[data]
source = "digits"
"""


def plain(plan: sc.Plan) -> float:
    """The user's loop: same data, init, optimizer and batches; no logging at all."""
    run = plan.runs[0]
    p = run.params
    data = data_mod.load(plan.scenario.tables, plan.scenario.path.parent, p, run.seed)
    start = time.perf_counter()
    torch.manual_seed(run.seed)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    opt = torch.optim.Adam(model.parameters(), lr=p["lr"])
    loss_fn = nn.CrossEntropyLoss()
    order = batch_order(run.seed, len(data.x_train), p["batch"], True, torch.device("cpu"))
    for _ in range(p["steps"]):
        idx = next(order)
        loss = loss_fn(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def regtui_run(plan: sc.Plan) -> float:
    collector = Collector()
    start = time.perf_counter()
    finished = run_plan(plan, "cpu", emit=collector, threads=1)
    elapsed = time.perf_counter() - start
    assert finished.status == "completed", finished.error
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--log-every", type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.toml"
        path.write_text(SCENARIO.format(batch=args.batch, steps=args.steps, log_every=args.log_every))
        plan = sc.plan(sc.load(path))
        plain(plan), regtui_run(plan)  # warm-up (imports, sklearn's file, allocator)
        base, ours = [], []
        for _ in range(args.rounds):
            base.append(plain(plan))
            ours.append(regtui_run(plan))
    b, o = statistics.median(base), statistics.median(ours)
    print(
        f"digits MLP, {args.steps} steps, batch {args.batch}, log_every {args.log_every}, 1 thread, "
        f"median of {args.rounds}"
    )
    print(f"  plain PyTorch loop  {b:7.3f} s  ({args.steps / b:7.0f} steps/s)")
    print(f"  regtui run_plan     {o:7.3f} s  ({args.steps / o:7.0f} steps/s)")
    print(f"  ratio regtui/plain  {o / b:.3f}x  (target <= 1.25x)")


if __name__ == "__main__":
    main()
