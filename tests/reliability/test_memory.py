"""The memory estimate refuses plans that cannot fit, in one line, before anything runs; and it errs high."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from reliability_support import TIMEOUT, one_error_line

from regtui import memory
from regtui import scenario as sc
from regtui.specs import ConfigError


def make_plan(name: str, *sets: str) -> sc.Plan:
    scenario = sc.load(sc.find(name))
    return sc.plan(scenario, sc.parse_sets(scenario.spec, sets))


def test_check_refuses_in_one_line_naming_memory_the_estimate_and_its_drivers():
    plan = make_plan("bn", "width=8192")
    need, why = memory.estimate(plan)
    assert "width=8192" in why
    with pytest.raises(ConfigError) as caught:
        memory.check(plan, available=need - 1)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("memory:"), message
    assert memory.human(need) in message and "width=8192" in message and "depth=100" in message, message
    assert "--no-memory-check" in message


def test_check_passes_when_the_estimate_fits():
    plan = make_plan("bn", "width=8192")
    need, _ = memory.estimate(plan)
    memory.check(plan, available=need)  # exactly enough is enough
    memory.check(plan, available=10**18)


def test_every_bundled_scenario_has_an_estimate_that_fits_a_small_machine():
    """The bundled scenarios as shipped must never be refused on a 2 GB box."""
    for name in sc.bundled_names():
        plan = sc.plan(sc.load(sc.find(name)))
        found = memory.estimate(plan)
        if found is not None:
            memory.check(plan, available=2 * 1024**3)


def test_the_cli_refuses_a_plan_larger_than_what_is_free(cli, forbid_runs):
    plan = make_plan("bn", "width=8192")
    need, _ = memory.estimate(plan)
    available = memory.available_bytes()
    if available is None or available >= need:
        pytest.skip(f"this machine has {available} bytes free, enough for {need}")
    result = cli("--scenario", "bn", "--set", "width=8192", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    message = one_error_line(result.stderr)
    assert message.startswith("memory:") and "--no-memory-check" in message, message


# --- the estimate against a measured peak -----------------------------------------------------

# Runs a command as its child and prints the child's peak RSS in KiB (Linux's ru_maxrss unit), so
# the peak of exactly one process is measured (RUSAGE_CHILDREN of this pytest worker would hold the
# largest of every subprocess any test started).
PEAK_OF_CHILD = textwrap.dedent("""
    import resource, subprocess, sys
    done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        sys.exit(f"exit {done.returncode}: {done.stderr}")
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
""")


def peak_kib(*commands: list[str]) -> list[int]:
    """The peak RSS of each command, run side by side (each measured in its own wrapper process)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PEAK_OF_CHILD, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for command in commands
    ]
    peaks = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=TIMEOUT * 2)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            pytest.fail("a measured run did not finish")
        assert proc.returncode == 0, err
        peaks.append(int(out))
    return peaks


def run_command(name: str, sets: tuple[str, ...]) -> list[str]:
    args = [a for s in sets for a in ("--set", s)]
    return [
        sys.executable,
        "-m",
        "regtui",
        "--scenario",
        name,
        "--json",
        "--no-save",
        "--device",
        "cpu",  # host memory is what is measured: on a GPU machine "auto" would train on the GPU
        "--jobs",
        "1",
        "--no-memory-check",
        *args,
    ]


def measured_growth(name: str, sets: tuple[str, ...], tiny: tuple[str, ...]) -> int:
    """Peak RSS of the run, less that of the same scenario at a negligible size, in bytes.

    The baseline is a tiny run rather than a process that only imports torch and the engine: a run
    also pays a fixed cost no estimate of tensors can know, e.g. torch.optim's lazily imported
    modules on the first SGD step (about 75 MiB on the CPU build, whatever the plan's size). The
    estimate is of what grows with the plan, so that is what is compared with it.
    """
    run, base = peak_kib(run_command(name, sets), run_command(name, tiny))
    return (run - base) * 1024


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux (bytes on macOS)")
def test_the_estimate_is_at_least_the_measured_peak_growth():
    # Measured on the CPU build: the run peaks about 224 MiB above the tiny run and the estimate is
    # 258 MiB; both peaks repeat to within a few hundred KiB, so the strict bound is kept. Only 3
    # iterations run: the peak is reached in the first step.
    sets = ("hidden=1024", "layers=8", "iters=3")
    need, why = memory.estimate(make_plan("weight-decay", *sets))
    growth = measured_growth("weight-decay", sets, ("hidden=1", "layers=1", "iters=1", "n_points=2"))
    if growth <= 100 * 1024**2 and _cuda_build():
        # Seen on an H200 box (torch 2.11+cu130, --device cpu): the peak RSS grew by 42 MB only. The
        # estimate is still an upper bound there; the measurement itself is calibrated on CPU builds.
        pytest.skip(f"a CUDA build of torch: peak RSS grew by {growth} bytes only; measured on CPU builds")
    assert growth > 100 * 1024**2, f"the run hardly allocated ({growth} bytes): the measurement is broken"
    assert need >= growth, f"estimate {memory.human(need)} ({why}) < measured {memory.human(growth)}"


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux (bytes on macOS)")
def test_the_estimate_covers_the_dropout_scaling_demo():
    # The scaling demo was once counted as 2 floats per input: 114.5 MiB estimated against about
    # 189 MiB measured for scaling_n=10000000.
    sets = ("hidden=8", "iters=3", "scaling_n=10000000")
    need, why = memory.estimate(make_plan("dropout", *sets))
    growth = measured_growth("dropout", sets, ("hidden=1", "layers=1", "iters=1", "n_points=2", "scaling_n=1"))
    assert need >= growth, f"estimate {memory.human(need)} ({why}) < measured {memory.human(growth)}"


def _cuda_build() -> bool:
    import torch

    return torch.version.cuda is not None


@pytest.mark.parametrize("norm", ["batch", "layer", "group", "instance"])
def test_train_kind_counts_the_parameters_of_the_same_net_written_in_plain_pytorch(norm):
    """digits-norms' conv net, written out with torch.nn: the estimate's parameter count is its numel."""
    from torch import nn

    def make_norm(c: int, hw: int) -> nn.Module:
        return {
            "batch": lambda: nn.BatchNorm2d(c),
            "layer": lambda: nn.LayerNorm([c, hw, hw]),
            "group": lambda: nn.GroupNorm(4, c),
            "instance": lambda: nn.InstanceNorm2d(c),
        }[norm]()

    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), make_norm(16, 8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), make_norm(32, 4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )  # fmt: skip
    expected = sum(p.numel() for p in net.parameters())
    scenario = sc.load(sc.find("digits-norms"))
    plan = sc.plan(scenario, sc.parse_sets(scenario.spec, [f"norm={norm}"]), sweep={"batch": (64,)})
    need, why = memory.estimate(plan)
    assert f"{expected:,} parameters × {len(plan.runs)} model(s)" in why, why
    assert "1,797 samples of (1, 8, 8)" in why
    assert 0 < need < 2 * 1024**3


def test_train_kind_scales_with_models_and_is_refused_up_front(write_toml, cli, forbid_runs):
    """A train plan far too large for the machine is refused in one line before any training."""
    path = write_toml(
        """
experiment = "train"
title = "huge"
summary = "wide MLP on generated images"
[params]
steps = 1
[model]
layers = [{type = "flatten"}, {type = "linear", out = 65536}, {type = "relu"}, {type = "linear"}]
[data]
source = "images"
n = 1000
size = 64
channels = 3
"""
    )
    one = sc.plan(sc.load(path), sc.parse_sets(sc.load(path).spec, []), seeds=1)
    many = sc.plan(sc.load(path), sc.parse_sets(sc.load(path).spec, []), seeds=64)
    (need_one, _), (need_many, why) = memory.estimate(one), memory.estimate(many)
    assert "64 model(s)" in why
    params = 3 * 64 * 64 * 65536 + 65536 + 65536 * 4 + 4
    assert need_many > 64 * 3 * 4 * params  # weights, gradients, momentum of every model
    assert need_many > 30 * need_one
    available = memory.available_bytes()
    if available is None or available >= need_many:
        pytest.skip(f"this machine has {available} bytes free, enough for {need_many}")
    result = cli("--scenario", str(path), "--seeds", "64", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert one_error_line(result.stderr).startswith("memory:")
