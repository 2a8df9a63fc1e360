"""Stacked MLP trainer vs the straightforward per-model loop, measured in the same process.

Baseline: what a user would write — one ``nn.Sequential`` and one
``torch.optim.SGD`` per model, trained one model after another (forward, MSE,
zero_grad, backward, step), full batch. Stacked: :class:`regtui.engine.stacked.StackedMLP`
training all models at once (forward, MSE, backward, SGD update; per-step
losses stay on the device), split into stacks of at most ``stack_limit(device)``
models that take turns chunk by chunk, as the engine does. Both start from the
same initial weights and data, run with one intra-op thread and do the same
number of model-steps.

To be fair on a shared, noisy machine the two are interleaved: each case runs
in ``--rounds`` rounds, and every round trains every contender for
iters/rounds more steps (state carries over), so a burst of load hits all of
them alike; the ratio is of the summed times. Denormals are flushed for the
baseline as for the engine (``torch.set_flush_denormal(True)``); with
``--plain-baseline`` a second baseline runs as a user's script does: without
flushing (its λ = 0 nets may slow down on subnormal momentum buffers) and with
torch's default intra-op thread count (all cores).
The "engine" column times the whole ``run_plan`` (training plus test loss,
Metrics/Curve events, host transfers every 25 steps), once, not interleaved,
with ``--jobs`` stacks trained concurrently (default: one per core, as the CLI).

Cases: (a) the bundled weight-decay scenario's 2 variants (λ = 0 and 1e-2)
with the tutorial's defaults; (b) a 32-model sweep, 8 λ × 4 seeds.

With ``--autograd`` the same stacks also train the ``train`` kind's way (a ``baddbmm`` forward,
autograd's gradients, the same stacked update): the measure of whether StackedMLP's hand-written
backward still earns its place as the lessons' kernel.

    python benchmarks/bench_stacked.py [--device cpu|cuda] [--iters 2000] [--rounds 10] [--plain-baseline] [--autograd]
"""

from __future__ import annotations

import argparse
import os
import time

import torch
import torch.optim  # imported up front: its first import pulls in torch._dynamo (~1 s)
from torch import nn

from regtui import scenario
from regtui.engine import run_plan
from regtui.engine.mlp_training import CHUNK, make_data
from regtui.engine.stack_optim import StackedOptimizer
from regtui.engine.stacked import StackedMLP, linear_init
from regtui.engine.stacking import stack_limit

SWEEP = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Baseline:
    """The per-model loop over all runs."""

    def __init__(self, runs, device: torch.device, flush: bool = True, threads: int | None = None) -> None:
        self.device, self.flush, self.threads = device, flush, threads
        self.nets = []
        for r in runs:
            p = r.params
            sizes = [1] + [p["hidden"]] * p["layers"] + [1]
            layers: list[nn.Module] = []
            for i, (w, b) in enumerate(linear_init(r.seed, sizes)):
                lin = nn.Linear(w.shape[1], w.shape[0])
                with torch.no_grad():
                    lin.weight.copy_(w)
                    lin.bias.copy_(b)
                layers.append(lin)
                if i < len(sizes) - 2:
                    layers.append(nn.ReLU(inplace=True))
            net = nn.Sequential(*layers).to(device)
            opt = torch.optim.SGD(net.parameters(), lr=p["lr"], momentum=p["momentum"], weight_decay=p["weight_decay"])
            data = make_data(r.seed, p["n_points"], p["slope"], p["train_noise"], p["test_noise"])
            self.nets.append((net, opt, data.x.view(-1, 1).to(device), data.train_y.view(-1, 1).to(device)))
        self.loss_fn = nn.MSELoss()

    def train(self, steps: int) -> float:
        torch.set_flush_denormal(self.flush)
        threads = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        sync(self.device)
        start = time.perf_counter()
        for net, opt, x, y in self.nets:
            for _ in range(steps):
                loss = self.loss_fn(net(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        sync(self.device)
        elapsed = time.perf_counter() - start
        torch.set_flush_denormal(True)
        torch.set_num_threads(threads)
        return elapsed


class Stacked:
    """StackedMLP in stacks of at most stack_limit(device) models, each running a chunk of steps in turn."""

    def __init__(self, runs, device: torch.device) -> None:
        self.device = device
        p = runs[0].params
        size = stack_limit(device)
        self.stacks = []
        for i in range(0, len(runs), size):
            part = runs[i : i + size]
            stack = StackedMLP.from_seeds(
                [r.seed for r in part],
                p["hidden"],
                p["layers"],
                lr=[r.params["lr"] for r in part],
                momentum=[r.params["momentum"] for r in part],
                weight_decay=[r.params["weight_decay"] for r in part],
                device=device,
            )
            data = [make_data(r.seed, p["n_points"], p["slope"], p["train_noise"], p["test_noise"]) for r in part]
            x = stack.inputs(data[0].x)
            y = torch.stack([d.train_y for d in data]).view(stack.m, -1, 1).to(device)
            self.stacks.append((stack, x, y, torch.empty(CHUNK, stack.m, device=device)))

    def train(self, steps: int) -> float:
        torch.set_flush_denormal(True)
        sync(self.device)
        start = time.perf_counter()
        for chunk in range(0, steps, CHUNK):
            for stack, x, y, losses in self.stacks:
                for t in range(min(CHUNK, steps - chunk)):
                    stack.train_step(x, y, loss_out=losses[t])
        sync(self.device)
        return time.perf_counter() - start


class Autograd(Stacked):
    """The same stacks trained the train kind's way (:mod:`regtui.engine.custom.batched`): a ``baddbmm`` forward,
    autograd's gradients and the same stacked SGD update; what StackedMLP's hand-written backward must beat."""

    def __init__(self, runs, device: torch.device) -> None:
        super().__init__(runs, device)
        self.autograd = []
        for stack, x, y, _ in self.stacks:
            params = [t.detach().clone().requires_grad_() for t in stack.params]
            keys = [list(zip(stack.lr, stack.momentum, stack.weight_decay))] * len(params)
            self.autograd.append((params, StackedOptimizer("sgd", params, keys), x, y))

    def train(self, steps: int) -> float:
        torch.set_flush_denormal(True)
        sync(self.device)
        start = time.perf_counter()
        for chunk in range(0, steps, CHUNK):
            for params, opt, x, y in self.autograd:
                for _ in range(min(CHUNK, steps - chunk)):
                    a = x
                    for j in range(0, len(params), 2):
                        a = torch.baddbmm(params[j + 1], a, params[j])
                        a = a.relu() if j + 2 < len(params) else a
                    loss = (a - y).square().mean((1, 2))
                    opt.step(torch.autograd.grad(loss.sum(), params))
        sync(self.device)
        return time.perf_counter() - start


def engine(plan, device: torch.device, jobs: int) -> float:
    sync(device)
    start = time.perf_counter()
    finished = run_plan(plan, str(device), threads=torch.get_num_threads(), jobs=jobs)
    sync(device)
    if finished.status != "completed":
        raise SystemExit(f"engine run {finished.status}: {finished.error}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N (default cpu)")
    parser.add_argument("--iters", type=int, default=2000, help="training steps per model (default 2000)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds per case (default 10)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads for every contender (default 1)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="model stacks the engine trains at once, as regtui --jobs (default: one per core)",
    )
    parser.add_argument(
        "--plain-baseline",
        action="store_true",
        help="also time the baseline as a user's script runs it: torch's default thread count, no flushed denormals",
    )
    parser.add_argument(
        "--autograd",
        action="store_true",
        help="also time the same stacks with autograd gradients (the train kind's way) against StackedMLP's backward",
    )
    args = parser.parse_args()
    device = torch.device("cuda:0" if args.device == "cuda" else args.device)
    default_threads = torch.get_num_threads()  # what a user's script runs with
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)

    wd = scenario.load(scenario.find("weight-decay"))
    cases = [
        ("a) weight-decay, 2 variants", scenario.plan(wd, sets={"iters": args.iters})),
        (
            "b) sweep 8 λ × 4 seeds",
            scenario.plan(wd, sets={"iters": args.iters}, sweep={"weight_decay": SWEEP}, seeds=4),
        ),
    ]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(
        f"torch {torch.__version__}, device {device} ({name}), {args.threads} intra-op thread(s), "
        f"{args.iters} iterations per model, {args.rounds} interleaved rounds"
    )
    header = (
        f"{'case':28s} {'models':>6s} {'baseline':>13s} {'stacked':>13s} {'ratio':>7s} {'engine':>13s} {'ratio':>7s}"
    )
    if args.plain_baseline:
        header += f" {'plain base':>13s} {'ratio':>7s}"
    if args.autograd:
        header += f" {'autograd':>13s} {'ratio':>7s}"
    print(header)
    print("-" * len(header))
    for label, plan in cases:
        runs = plan.runs
        contenders = {"baseline": Baseline(runs, device), "stacked": Stacked(runs, device)}
        if args.plain_baseline:
            contenders["plain"] = Baseline(runs, device, flush=False, threads=default_threads)
        if args.autograd:
            contenders["autograd"] = Autograd(runs, device)
        for c in contenders.values():  # warm-up, not timed
            c.train(3)
        times = dict.fromkeys(contenders, 0.0)
        done = 0
        for r in range(args.rounds):
            steps = (args.iters * (r + 1)) // args.rounds - done
            done += steps
            for key, c in contenders.items():
                times[key] += c.train(steps)
        t_engine = engine(plan, device, args.jobs)
        total = len(runs) * args.iters

        def rate(t: float, total: int = total) -> str:
            return f"{total / t:6.0f} st/s"

        line = (
            f"{label:28s} {len(runs):6d} {rate(times['baseline']):>13s} {rate(times['stacked']):>13s} "
            f"{times['baseline'] / times['stacked']:6.2f}x {rate(t_engine):>13s} {times['baseline'] / t_engine:6.2f}x"
        )
        if args.plain_baseline:
            line += f" {rate(times['plain']):>13s} {times['plain'] / times['stacked']:6.2f}x"
        if args.autograd:
            line += f" {rate(times['autograd']):>13s} {times['autograd'] / times['stacked']:6.2f}x"
        print(line, flush=True)
    print(
        "st/s = model-steps per second (one full-batch SGD step of one model); ratio = baseline time / that time.\n"
        "baseline: per-model nn.Sequential + torch.optim.SGD, flushed denormals and threads like the engine; plain\n"
        "base: the same as a user's script runs it (no flushing, torch's default threads), ratio = plain / stacked.\n"
        "autograd: the same stacks, baddbmm forward + autograd + the same update, ratio = autograd / stacked.\n"
        "stacked: StackedMLP, one stack at a time, "
        f"{'one stack' if stack_limit(device) > len(runs) else f'stacks of <= {stack_limit(device)} models'}. "
        f"engine: run_plan with events, up to {args.jobs} stacks at once (--jobs), timed once after the rounds.\n"
        "Targets: a) >= 1.7x, b) >= 6x."
    )


if __name__ == "__main__":
    main()
