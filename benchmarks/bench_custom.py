"""regtui's ``train`` kind: (a) one model vs a plain PyTorch loop, (b) 8 models stacked vs one at a time.

    python benchmarks/bench_custom.py [--steps N] [--rounds N] [--batch N] [--log-every N]
                                      [--models N] [--multi-steps N] [--kernels]
                                      [--schedule NAME] [--checkpoint none|final] [--no-histograms]

Both on one MLP (64-256-256-10, ReLU) on sklearn's digits (1,347 training digits), Adam,
mini-batches of ``--batch``.

(a) Target ≤ 1.25x wall time. Baseline: the loop a user would write — the same
``nn.Sequential``, ``torch.optim.Adam``, the same mini-batches — and nothing else.
Contender: the whole ``run_plan`` of an equivalent ``experiment = "train"`` scenario,
events collected by the headless Collector (test loss and accuracy, layer statistics and
per-layer norms at every logging step, the final evaluation). 1 intra-op thread. Both
with the lr schedule ``--schedule`` (default cosine: ``CosineAnnealingLR`` stepped after
every step) and, with ``--checkpoint final`` (the default), a ``torch.save`` of the model's,
optimizer's and scheduler's state dicts at the end (regtui: into a run folder of its own);
regtui also takes per-layer histograms at every logging step (``--no-histograms``: not).

(b) Target ≥ 2x. The same scenario with ``seeds = --models`` (8 runs: one architecture,
the data split and batches of each seed): the whole ``run_plan`` with ``stack_runs =
"auto"`` (the 8 runs train together as one stacked model) vs ``stack_runs = "off"``
(one after another, the engine's sequential path), both with every event. At 1 intra-op
thread and at torch's default thread count.

Rounds alternate the contenders and the median of each is compared. The machine (CPU,
cores, load average before and after) is printed: on a shared machine, read the ratios
with the load. ``--kernels`` also times the two ways of stacking the training step that
were considered (same fused Adam update): ``torch.func`` (``functional_call`` +
``vmap(grad(...))`` over stacked parameters) and ``torch.baddbmm`` per Linear with
autograd (what :mod:`regtui.engine.custom.batched` does).
"""

from __future__ import annotations

import argparse
import os
import platform
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
from regtui.engine.custom import schedule  # noqa: E402
from regtui.engine.custom.model_run import batch_order  # noqa: E402
from regtui.report import Collector  # noqa: E402

SCENARIO = """
experiment = "train"
seeds = {seeds}
[params]
optimizer = "adam"
lr = 0.001
batch = {batch}
steps = {steps}
train_size = 0
log_every = {log_every}
stack_runs = "{stack}"
schedule = "{schedule}"
checkpoint = "{checkpoint}"
histograms = {histograms}
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
    sched = schedule.build(opt, p)  # torch.optim.lr_scheduler's, as a user would make it
    loss_fn = nn.CrossEntropyLoss()
    order = batch_order(run.seed, len(data.x_train), p["batch"], True, torch.device("cpu"))
    for _ in range(p["steps"]):
        idx = next(order)
        loss = loss_fn(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
    if p["checkpoint"] != "none":
        state = {"model": model.state_dict(), "optimizer": opt.state_dict()}
        torch.save({**state, "scheduler": sched.state_dict() if sched else None}, RUN_FOLDER.parent / "plain.pt")
    return time.perf_counter() - start


def regtui_run(plan: sc.Plan, threads: int = 1) -> float:
    collector = Collector()
    start = time.perf_counter()
    finished = run_plan(plan, "cpu", emit=collector, threads=threads, files=lambda: RUN_FOLDER)
    elapsed = time.perf_counter() - start
    assert finished.status == "completed", finished.error
    return elapsed


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, default threads {DEFAULT_THREADS}"


def load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def make_plan(tmp: Path, args: argparse.Namespace, seeds: int, steps: int, stack: str) -> sc.Plan:
    path = tmp / f"bench-{seeds}-{stack}.toml"
    text = SCENARIO.format(
        batch=args.batch,
        steps=steps,
        log_every=args.log_every,
        seeds=seeds,
        stack=stack,
        schedule=args.schedule,
        checkpoint=args.checkpoint,
        histograms=str(args.histograms).lower(),
    )
    path.write_text(text)
    return sc.plan(sc.load(path))


def single(tmp: Path, args: argparse.Namespace) -> None:
    plan = make_plan(tmp, args, 1, args.steps, "auto")
    torch.set_num_threads(1)
    plain(plan), regtui_run(plan)  # warm-up (imports, sklearn's file, allocator)
    base, ours = [], []
    for _ in range(args.rounds):
        base.append(plain(plan))
        ours.append(regtui_run(plan))
    b, o = statistics.median(base), statistics.median(ours)
    print(
        f"(a) one digits MLP, {args.steps} steps, batch {args.batch}, log_every {args.log_every}, 1 thread, "
        f"schedule {args.schedule}, checkpoint {args.checkpoint}, histograms {args.histograms}, median of {args.rounds}"
    )
    print(f"  plain PyTorch loop  {b:7.3f} s  ({args.steps / b:7.0f} steps/s)")
    print(f"  regtui run_plan     {o:7.3f} s  ({args.steps / o:7.0f} steps/s)")
    print(f"  ratio regtui/plain  {o / b:.3f}x  (target <= 1.25x)")


def multi(tmp: Path, args: argparse.Namespace, threads: int) -> float:
    stacked = make_plan(tmp, args, args.models, args.multi_steps, "auto")
    alone = make_plan(tmp, args, args.models, args.multi_steps, "off")
    regtui_run(stacked, threads), regtui_run(alone, threads)  # warm-up
    one, together = [], []
    for _ in range(args.rounds):
        one.append(regtui_run(alone, threads))
        together.append(regtui_run(stacked, threads))
    a, t = statistics.median(one), statistics.median(together)
    model_steps = args.models * args.multi_steps
    print(
        f"(b) {args.models} digits MLPs (seeds), {args.multi_steps} steps each, batch {args.batch}, "
        f"log_every {args.log_every}, {threads} thread{'s' if threads > 1 else ''}, schedule {args.schedule}, "
        f"checkpoint {args.checkpoint}, histograms {args.histograms}, median of {args.rounds}"
    )
    print(f"  one at a time (stack_runs=off)  {a:7.3f} s  ({a / model_steps * 1e6:6.0f} µs a model-step)")
    print(f"  stacked (stack_runs=auto)       {t:7.3f} s  ({t / model_steps * 1e6:6.0f} µs a model-step)")
    print(f"  speed-up                        {a / t:.2f}x  (target >= 2x)")
    return a / t


def kernels(args: argparse.Namespace, threads: int) -> None:
    """The training step of M stacked MLPs two ways, with the same fused Adam: torch.func vs baddbmm + autograd."""
    from torch.func import functional_call, grad, vmap

    torch.set_num_threads(threads)
    m, b, steps = args.models, args.batch, 300
    x, y = torch.randn(1347, 64), torch.randint(0, 10, (1347,))
    g = torch.Generator().manual_seed(0)
    batches = torch.randint(0, 1347, (steps, m, b), generator=g)
    nets = []
    for seed in range(m):
        torch.manual_seed(seed)
        nets.append(nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)))

    def adam(params: list[torch.Tensor], grads: list[torch.Tensor], state: list[list[torch.Tensor]], t: torch.Tensor):
        t += 1
        kw = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "weight_decay": 0.0, "eps": 1e-8}
        torch._fused_adam_(
            params, grads, state[0], state[1], [], [t] * len(params), **kw, amsgrad=False, maximize=False
        )

    def with_vmap() -> float:
        names = [n for n, _ in nets[0].named_parameters()]
        stacked = {n: torch.stack([dict(net.named_parameters())[n].detach() for net in nets]) for n in names}
        params = list(stacked.values())
        state = [[torch.zeros_like(q) for q in params] for _ in range(2)]
        t = torch.zeros(())

        def loss(p: dict[str, torch.Tensor], xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
            return nn.functional.cross_entropy(functional_call(nets[0], p, (xb,)), yb)

        step = vmap(grad(loss))
        start = time.perf_counter()
        for i in range(steps):
            gs = step(stacked, x[batches[i]], y[batches[i]])
            adam(params, [gs[n] for n in names], state, t)
        return time.perf_counter() - start

    def with_bmm() -> float:
        layers = [nets[0][k] for k in (0, 2, 4)]
        ws = [torch.stack([net[k].weight.detach().t() for net in nets]).requires_grad_() for k in (0, 2, 4)]
        bs = [torch.stack([net[k].bias.detach() for net in nets]).unsqueeze(1).requires_grad_() for k in (0, 2, 4)]
        params = [q for pair in zip(ws, bs) for q in pair]
        state = [[torch.zeros_like(q) for q in params] for _ in range(2)]
        t = torch.zeros(())
        start = time.perf_counter()
        for i in range(steps):
            a = x[batches[i]]
            for j in range(len(layers)):
                a = torch.baddbmm(bs[j], a, ws[j])
                if j < len(layers) - 1:
                    a = torch.relu(a)
            loss = nn.functional.cross_entropy(a.reshape(m * b, -1), y[batches[i]].reshape(-1), reduction="none")
            gs = torch.autograd.grad(loss.view(m, b).mean(1).sum(), params)
            with torch.no_grad():
                adam(params, list(gs), state, t)
        return time.perf_counter() - start

    with_vmap(), with_bmm()
    v = statistics.median(with_vmap() for _ in range(3))
    k = statistics.median(with_bmm() for _ in range(3))
    per = 1e6 / (m * steps)
    print(
        f"  kernels, {m} models, {threads} thread{'s' if threads > 1 else ''}: "
        f"torch.func vmap+grad {v * per:5.0f} µs, baddbmm+autograd {k * per:5.0f} µs a model-step"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000, help="(a): steps of the one model")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--models", type=int, default=8, help="(b): models (seeds) of one architecture")
    ap.add_argument("--multi-steps", type=int, default=500, help="(b): steps of each model")
    ap.add_argument("--kernels", action="store_true", help="also time torch.func vmap vs baddbmm stacking")
    ap.add_argument("--schedule", default="cosine", help="the lr schedule of both contenders (none: no scheduler)")
    ap.add_argument("--checkpoint", default="final", choices=("none", "final"), help="save the states at the end")
    ap.add_argument("--histograms", action=argparse.BooleanOptionalAction, default=True, help="regtui's histograms")
    args = ap.parse_args()
    print(machine())
    print(load())
    global RUN_FOLDER
    with tempfile.TemporaryDirectory() as tmp:
        RUN_FOLDER = Path(tmp) / "run"
        RUN_FOLDER.mkdir()
        single(Path(tmp), args)
        for threads in sorted({1, DEFAULT_THREADS}):
            multi(Path(tmp), args, threads)
            if args.kernels:
                kernels(args, threads)
    print(load())


DEFAULT_THREADS = torch.get_num_threads()
RUN_FOLDER = Path(tempfile.gettempdir())  # where regtui keeps the checkpoints (set in main)


if __name__ == "__main__":
    main()
