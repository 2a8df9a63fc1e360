"""BatchNorm's running statistics, step by step (tutorial item 5).

For ``nn.BatchNorm1d``, ``nn.BatchNorm2d`` and ``nn.BatchNorm3d`` with ``C = features``
channels, the input holds the value ``c + 1`` in channel ``c`` (0-based) for every sample and
position — the tutorial's input — plus ``noise``·N(0, 1) when ``noise > 0``:

=========  ===========================  ========================
table      module                       input shape
=========  ===========================  ========================
``bn1d``   ``BatchNorm1d(C)``           ``(batch, C, 1)`` (the tutorial's; ``(batch, C)`` behaves the same)
``bn2d``   ``BatchNorm2d(C)``           ``(batch, C, 2, 2)``
``bn3d``   ``BatchNorm3d(C)``           ``(batch, C, 2, 2, 3)``
=========  ===========================  ========================

Each training iteration appends one row per feature (``feature`` is 1-based: feature ``k``
holds the value ``k``) with the batch mean and the biased and unbiased batch variance, computed
by hand over every dimension but the channel one, and the module's running statistics after
that iteration's update. PyTorch's rule: ``running = (1 − m)·running + m·batch`` with the
*unbiased* variance for ``running_var``, starting from 0 and 1.

At ``batch = 1`` PyTorch refuses ``BatchNorm1d`` in training (one value per channel: "Expected
more than 1 value per channel when training, ..."); that module's result is then PyTorch's own
message (``final["bn1d_refused"]``, and ``{"refused": ...}`` in the summaries) and it gets no
table, while ``BatchNorm2d``/``BatchNorm3d`` run (1·2·2 and 1·2·2·3 values per channel).

``Summary("worked")`` (first run): per module, the first ``WORKED_ITERS`` updates of the first
``WORKED_FEATURES`` features written with their numbers and predicted in plain Python from the
input values alone — the unbiased variance as s²·n/(n − 1), then ``(1 − m)·running + m·batch`` —
beside the module's measured running statistics, and the eval-mode output of the last input's
first sample predicted from those predicted statistics beside the measured one.

The modules run in float64 (float32 on MPS) so the table shows the tutorial's numbers (0.3,
0.7, 0.51, 0.49) without float32 rounding noise. With several runs (seeds, sweeps) the table
names get a `` · <variant> · seed <n>`` suffix; the ``shapes`` and ``eval`` summaries come from
the first run.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from regtui.engine.context import Context
from regtui.engine.loop import floats
from regtui.events import Final, RunSpec, Summary, TableRows
from regtui.scenario import Plan

BatchNorm = nn.BatchNorm1d | nn.BatchNorm2d | nn.BatchNorm3d

COLUMNS = (
    "iteration",
    "feature",
    "batch_mean",
    "batch_var_biased",
    "batch_var_unbiased",
    "running_mean",
    "running_var",
)
WORKED_ITERS = 3  # iterations and features written out in Summary("worked")
WORKED_FEATURES = 3
KINDS: tuple[tuple[str, type[BatchNorm], tuple[int, ...]], ...] = (
    ("bn1d", nn.BatchNorm1d, (1,)),
    ("bn2d", nn.BatchNorm2d, (2, 2)),
    ("bn3d", nn.BatchNorm3d, (2, 2, 3)),
)


def _dtype(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64


def _input(
    batch: int, features: int, spatial: tuple[int, ...], noise: float, g: torch.Generator, dtype: torch.dtype
) -> torch.Tensor:
    shape = (batch, features, *spatial)
    values = torch.arange(1, features + 1, dtype=dtype).view(1, features, *([1] * len(spatial)))
    x = values.expand(shape).clone()
    if noise > 0:
        x += noise * torch.randn(shape, generator=g, dtype=dtype)
    return x


def _stats(bn: BatchNorm) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """running_mean, running_var and num_batches_tracked: never None, the modules track running statistics."""
    mean, var, count = bn.running_mean, bn.running_var, bn.num_batches_tracked
    assert mean is not None and var is not None and count is not None
    return mean, var, count


def _run_one(
    run: RunSpec,
    ctx: Context,
    suffix: str,
    done: int,
    total: int,
    shapes: dict[str, Any] | None,
    evals: dict[str, Any] | None,
    worked: dict[str, Any] | None = None,
) -> int:
    p = run.params
    batch, features, momentum, iters, eps, noise = (
        p["batch"],
        p["features"],
        p["bn_momentum"],
        p["iters"],
        p["eps"],
        p.get("noise", 0.0),
    )
    device = ctx.device
    dtype = _dtype(device)
    g = torch.Generator().manual_seed(run.seed)
    final: dict[str, Any] = {}
    for name, cls, spatial in KINDS:
        bn = cls(features, eps=eps, momentum=momentum).to(device=device, dtype=dtype).train()
        dims = [0, *range(2, 2 + len(spatial))]  # every dimension but the channel one
        channel_values: list[list[list[float]]] = []  # per recorded iteration, per worked feature
        measured: list[list[tuple[float, float]]] = []  # running (mean, var) after each recorded iteration
        refused: str | None = None
        for it in range(1, iters + 1):
            ctx.check()
            x = _input(batch, features, spatial, noise, g, dtype).to(device)
            with torch.no_grad():
                try:
                    out = bn(x)
                except ValueError as exc:
                    # PyTorch refuses one value per channel in training (BatchNorm1d at batch 1):
                    # its own message is this module's result.
                    refused = str(exc)
                    break
                mean = x.mean(dim=dims)
                var_b = x.var(dim=dims, unbiased=False)
                var_u = x.var(dim=dims, unbiased=True)
                running_mean, running_var, _ = _stats(bn)
                table = torch.stack([mean, var_b, var_u, running_mean, running_var], dim=1)
            values = table.to("cpu", torch.float64).tolist()
            if worked is not None and it <= WORKED_ITERS:
                shown = range(min(features, WORKED_FEATURES))
                channel_values.append([x.select(1, c).flatten().tolist() for c in shown])
                measured.append([(values[c][3], values[c][4]) for c in shown])
            rows = tuple((it, c + 1, *values[c]) for c in range(features))
            ctx.emit(TableRows(name + suffix, COLUMNS, rows, key=("iteration", "feature")))
            done += 1
            ctx.progress(done, total, name)
        if refused is not None:
            done += iters - (it - 1)
            ctx.progress(done, total, name)
            final[f"{name}_refused"] = refused
            if shapes is not None:
                shapes[name] = {"input": list(x.shape), "refused": refused}
            if evals is not None:
                evals[name] = {"refused": refused}
            if worked is not None:
                worked[name] = {"input": list(x.shape), "refused": refused}
            continue
        # iters >= 1 (the spec's minimum): x and out hold the last iteration's input and output.
        running_mean, running_var, count = _stats(bn)
        if shapes is not None:
            shapes[name] = {
                "input": list(x.shape),
                "weight": list(bn.weight.shape),
                "bias": list(bn.bias.shape),
                "running_mean": list(running_mean.shape),
                "running_var": list(running_var.shape),
            }
        if evals is not None:
            evals[name] = _eval_demo(bn, x, out)
        if worked is not None:
            eval_demo = _eval_demo(bn, x, out) if evals is None else evals[name]
            eval_measured = eval_demo["output_first_sample"]
            worked[name] = _worked(channel_values, measured, momentum, eps, eval_measured, list(x.shape))
        if name == "bn1d":
            final["bn1d_running_mean"] = list(floats(running_mean))
            final["bn1d_running_var"] = list(floats(running_var))
            final["num_batches_tracked"] = int(count)
    ctx.emit(Final(run.variant, run.seed, final))
    return done


def _num(v: float) -> str:
    return f"{v:.6g}"


def _worked(
    channel_values: list[list[list[float]]],
    measured: list[list[tuple[float, float]]],
    m: float,
    eps: float,
    eval_measured: list[float],
    shape: list[int],
) -> dict[str, Any]:
    """Each recorded update written with its numbers and predicted in plain Python from the input
    values alone, beside the module's measured running statistics; then the eval-mode output of
    the last input's first sample predicted from the predicted running statistics (γ = 1, β = 0)."""
    n_feat = len(channel_values[0]) if channel_values else 0
    pred = [(0.0, 1.0)] * n_feat  # running_mean, running_var start at 0 and 1
    updates = []
    for it, per_feature in enumerate(channel_values, start=1):
        new = []
        for c, vals in enumerate(per_feature):
            n = len(vals)
            mean = sum(vals) / n
            s2 = sum((v - mean) ** 2 for v in vals) / n  # biased: what the output is normalized with
            unbiased = s2 * n / (n - 1)
            rm, rv = pred[c]
            new_rm = (1 - m) * rm + m * mean
            new_rv = (1 - m) * rv + m * unbiased
            new.append((new_rm, new_rv))
            updates.append(
                {
                    "feature": c + 1,
                    "iteration": it,
                    "n": n,
                    "batch_mean": mean,
                    "batch_var_biased": s2,
                    "batch_var_unbiased": {
                        "formula": f"s²·n/(n − 1) = {_num(s2)}·{n}/({n} − 1)",
                        "predicted": unbiased,
                    },
                    "running_mean": {
                        "formula": f"(1 − {_num(m)})·{_num(rm)} + {_num(m)}·{_num(mean)}",
                        "predicted": new_rm,
                        "measured": measured[it - 1][c][0],
                    },
                    "running_var": {
                        "formula": f"(1 − {_num(m)})·{_num(rv)} + {_num(m)}·{_num(unbiased)}",
                        "predicted": new_rv,
                        "measured": measured[it - 1][c][1],
                    },
                }
            )
        pred = new
    eval_rows = []
    if channel_values:
        last = channel_values[-1]
        for c in range(n_feat):
            x0 = last[c][0]  # first sample, first position of feature c
            rm, rv = pred[c]
            eval_rows.append(
                {
                    "feature": c + 1,
                    "formula": f"({_num(x0)} − {_num(rm)}) / √({_num(rv)} + {_num(eps)})·1 + 0",
                    "predicted": (x0 - rm) / math.sqrt(rv + eps),
                    "measured": eval_measured[c],
                }
            )
    return {"input": shape, "updates": updates, "eval_output_first_sample": eval_rows}


def _eval_demo(bn: BatchNorm, x: torch.Tensor, train_out: torch.Tensor) -> dict[str, Any]:
    """Eval mode: output from the running stats; nothing is updated."""
    with torch.no_grad():
        running_mean, running_var, count = _stats(bn)
        before = (running_mean.clone(), running_var.clone(), int(count))
        bn.eval()
        out = bn(x)
        bn.train()
        shape = (1, -1, *([1] * (x.dim() - 2)))
        rm, rv = before[0].view(shape), before[1].view(shape)
        by_hand = (x - rm) / torch.sqrt(rv + bn.eps) * bn.weight.view(shape) + bn.bias.view(shape)
        diff = float((out - by_hand).abs().max())
        first: tuple[int | slice, ...] = (0, slice(None), *([0] * (x.dim() - 2)))
        after_mean, after_var, after_count = _stats(bn)
        return {
            "max_abs_diff": diff,
            "output_first_sample": list(floats(out[first])),
            "train_output_first_sample": list(floats(train_out[first])),
            "running_mean_unchanged": bool(torch.equal(before[0], after_mean)),
            "running_var_unchanged": bool(torch.equal(before[1], after_var)),
            "num_batches_tracked_before": before[2],
            "num_batches_tracked_after": int(after_count),
        }


def run(plan: Plan, ctx: Context) -> None:
    total = sum(len(KINDS) * r.params["iters"] for r in plan.runs)
    ctx.progress(0, total, "bn1d")
    done = 0
    shapes: dict[str, Any] = {}
    evals: dict[str, Any] = {}
    worked: dict[str, Any] = {}
    for i, r in enumerate(plan.runs):
        suffix = "" if len(plan.runs) == 1 else f" · {r.variant} · seed {r.seed}"
        first = i == 0
        done = _run_one(
            r, ctx, suffix, done, total, shapes if first else None, evals if first else None, worked if first else None
        )
        if first:
            ctx.emit(Summary("shapes", shapes))
            ctx.emit(Summary("eval", evals))
            ctx.emit(Summary("worked", worked))
