"""Whole-process time of headless regtui against the plain scripts a user would run (issue 19, item 7).

Each contender is a fresh ``python`` process timed from start to exit (imports, data, training,
output), so what a user waits for is what is measured:

- **weight-decay**: the seed tutorial's script (2 MLPs × 2000 steps, ``torch.optim.SGD`` with
  momentum, without its plotting) against ``regtui --scenario weight-decay --json``
  (the same two nets, plus the test loss, the fit curves and the JSON document). Bar: ≤ 0.5x.
- **32-model sweep**: a naive script training 8 λ × 4 seeds one model after another (the
  tutorial's loop, one ``nn.Sequential`` and one SGD per model) against
  ``regtui --scenario weight-decay-sweep --seeds 4 --json``. Bar: ≥ 4x faster.

The contenders are interleaved round by round so that a burst of load on a shared machine hits all
alike; the ratio is of the medians. Runs are saved to a temporary run store. regtui's modules are
compiled to bytecode first, as ``pip install`` does (torch's are): from a checkout under
``PYTHONDONTWRITEBYTECODE`` they would otherwise be compiled on every run (``--no-bytecode``: so).

    python benchmarks/bench_whole_process.py [--rounds 3] [--iters 2000] [--no-bytecode]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED_SCRIPT = """
import torch
import torch.nn as nn
n_hidden, max_iter, lr_init = 200, {iters}, 0.01
def gen_data(num_data=10, x_range=(-1, 1)):
    w = 1.5
    train_x = torch.linspace(*x_range, num_data).unsqueeze_(1)
    train_y = w * train_x + torch.normal(0, 0.5, size=train_x.size())
    test_x = torch.linspace(*x_range, num_data).unsqueeze_(1)
    test_y = w * test_x + torch.normal(0, 0.3, size=test_x.size())
    return train_x, train_y, test_x, test_y
def mlp(n):
    return nn.Sequential(nn.Linear(1, n), nn.ReLU(inplace=True), nn.Linear(n, n), nn.ReLU(inplace=True),
                         nn.Linear(n, n), nn.ReLU(inplace=True), nn.Linear(n, 1))
train_x, train_y, test_x, test_y = gen_data()
loss_func = nn.MSELoss()
"""

TUTORIAL = (
    SEED_SCRIPT
    + """
net_normal, net_weight_decay = mlp(n_hidden), mlp(n_hidden)
optim_normal = torch.optim.SGD(net_normal.parameters(), lr=lr_init, momentum=0.9)
optim_wdecay = torch.optim.SGD(net_weight_decay.parameters(), lr=lr_init, momentum=0.9, weight_decay=1e-2)
for epoch in range(max_iter):
    pred_normal, pred_wdecay = net_normal(train_x), net_weight_decay(train_x)
    loss_normal, loss_wdecay = loss_func(pred_normal, train_y), loss_func(pred_wdecay, train_y)
    optim_normal.zero_grad()
    optim_wdecay.zero_grad()
    loss_normal.backward()
    loss_wdecay.backward()
    optim_normal.step()
    optim_wdecay.step()
    if (epoch + 1) % 200 == 0:
        test_pred_normal, test_pred_wdecay = net_normal(test_x), net_weight_decay(test_x)
print(loss_normal.item(), loss_wdecay.item())
"""
)

NAIVE_SWEEP = (
    SEED_SCRIPT
    + """
for seed in range(4):
    torch.manual_seed(seed)
    train_x, train_y, test_x, test_y = gen_data()
    for wd in (0.0, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0):
        net = mlp(n_hidden)
        opt = torch.optim.SGD(net.parameters(), lr=lr_init, momentum=0.9, weight_decay=wd)
        for epoch in range(max_iter):
            loss = loss_func(net(train_x), train_y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(seed, wd, loss.item(), loss_func(net(test_x), test_y).item())
"""
)


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iters", type=int, default=2000)
    parser.add_argument("--no-bytecode", action="store_true", help="leave regtui's modules uncompiled")
    args = parser.parse_args()
    spec = importlib.util.find_spec("regtui")
    package = Path(spec.origin).parent if spec and spec.origin else None
    if package is not None and not args.no_bytecode:
        compileall.compile_dir(package, quiet=1)
    print(f"regtui from {package}, bytecode {'left as it is' if args.no_bytecode else 'compiled'}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="regtui-bench-"))
    (folder / "tutorial.py").write_text(TUTORIAL.format(iters=args.iters))
    (folder / "naive_sweep.py").write_text(NAIVE_SWEEP.format(iters=args.iters))
    env = dict(os.environ, REGTUI_RUNS_DIR=str(folder / "runs"))
    regtui = [sys.executable, "-m", "regtui", "--json", "--set", f"iters={args.iters}", "--scenario"]
    contenders = {
        "tutorial script": [sys.executable, str(folder / "tutorial.py")],
        "regtui weight-decay": [*regtui, "weight-decay"],
        "naive 32-model sweep": [sys.executable, str(folder / "naive_sweep.py")],
        "regtui weight-decay-sweep --seeds 4": [*regtui, "weight-decay-sweep", "--seeds", "4"],
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(args.rounds):
        for name, command in contenders.items():
            times[name].append(timed(command, env))
        print(f"round {r + 1}: " + ", ".join(f"{n} {t[-1]:.2f} s" for n, t in times.items()), flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    for name, value in median.items():
        print(f"  {name:38s} median {value:6.2f} s  (min {min(times[name]):.2f}, max {max(times[name]):.2f})")
    wd = median["regtui weight-decay"] / median["tutorial script"]
    sweep = median["naive 32-model sweep"] / median["regtui weight-decay-sweep --seeds 4"]
    print(f"\nweight-decay: regtui takes {wd:.2f}x the tutorial script's time (bar: <= 0.5x)")
    print(f"32-model sweep: regtui is {sweep:.1f}x faster than the naive script (bar: >= 4x)")
    print(
        f"{args.rounds} rounds, iters {args.iters}, {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}, load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
