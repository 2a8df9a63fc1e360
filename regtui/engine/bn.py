"""Batch normalization in a 100-layer MLP (tutorial item 4).

Every run builds ``depth`` blocks ``Linear(width, width, bias=False) [→ BatchNorm1d] → ReLU``
(the tutorial's net: no biases, so the init alone decides how the scale evolves), then

1. **measures**: one forward pass of an N(0, 1) batch in train mode and reports the mean and
   std of the activations after every block (after the ReLU, as the tutorial prints them) as
   :class:`LayerStats`, with the 1-based block where the activations first hold inf/NaN.
   Statistics are taken in float64 so a std of huge-but-finite float32 activations is not
   mistaken for an overflow;
2. **trains** ``train_steps`` SGD-with-momentum steps on a synthetic task — classify
   ``CLASSES`` Gaussian blobs in ``width`` dimensions from fresh mini-batches, read out by a
   ``Linear(width, CLASSES)`` head with PyTorch's default init — emitting the mini-batch
   cross-entropy as ``Metrics("train_loss")`` in chunks, and for BatchNorm runs the running
   statistics of the first, middle and last BN layer as the ``running_stats`` table.

Divergence is a result: a run whose loss turns inf/NaN stops training at the end of that
chunk, and its ``Final`` says ``diverged = True`` with the first non-finite step. The running
statistics are reset after the measuring pass, so the table shows training updates only.
``batch_var`` in the table is the *unbiased* variance of the BN layer's input over the
mini-batch — the value PyTorch feeds into ``running_var``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from regtui.engine.context import Context
from regtui.engine.loop import StepFn, floats, train_in_chunks
from regtui.engine.sgd import MomentumSGD
from regtui.events import Final, LayerStats, RunSpec, TableRows
from regtui.scenario import Plan

CLASSES = 4  # classes of the synthetic blob task
RUNNING_COLUMNS = (
    "variant", "seed", "step", "layer", "feature",
    "running_mean", "running_var", "batch_mean", "batch_var",
)


# --- the model -------------------------------------------------------------------------------


class DeepMLP(nn.Module):
    """``depth`` × (Linear → [BatchNorm1d] → ReLU) and a small classification head."""

    def __init__(self, depth: int, width: int, batchnorm: bool, bn_momentum: float, classes: int) -> None:
        super().__init__()
        # Built on the meta device: the weights are initialised below from the run's generator.
        self.linears = nn.ModuleList(
            nn.Linear(width, width, bias=False, device="meta") for _ in range(depth))
        self.bns = nn.ModuleList(
            nn.BatchNorm1d(width, momentum=bn_momentum, device="meta") for _ in range(depth)
        ) if batchnorm else None
        self.head = nn.Linear(width, classes, device="meta")

    def batchnorms(self) -> list[nn.BatchNorm1d]:
        """The BatchNorm layers in order (none without BatchNorm)."""
        return [bn for bn in self.bns if isinstance(bn, nn.BatchNorm1d)] if self.bns is not None else []

    def init(self, init: str, generator: torch.Generator) -> DeepMLP:
        self.to_empty(device="cpu")
        with torch.no_grad():
            for w in self.linears.parameters():  # each block's weight (the blocks have no bias)
                if init == "normal":
                    nn.init.normal_(w, 0.0, 1.0, generator=generator)
                elif init == "kaiming":
                    nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu", generator=generator)
                else:  # PyTorch's default nn.Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
                    nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=generator)
            nn.init.kaiming_uniform_(self.head.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(self.head.in_features)
            nn.init.uniform_(self.head.bias, -bound, bound, generator=generator)
            for bn in self.batchnorms():
                bn.reset_parameters()  # γ = 1, β = 0, running_mean = 0, running_var = 1
        return self

    def body(self, x: torch.Tensor, bn_inputs: list[torch.Tensor] | None = None,
             per_layer: list[torch.Tensor] | None = None) -> torch.Tensor:
        """The deep part. ``bn_inputs``: filled with every BN layer's input.
        ``per_layer``: filled with every block's output."""
        for i, lin in enumerate(self.linears):
            x = lin(x)
            if self.bns is not None:
                if bn_inputs is not None:
                    bn_inputs.append(x.detach())
                x = self.bns[i](x)
            x = F.relu(x)
            if per_layer is not None:
                per_layer.append(x.detach())
        return x

    def forward(self, x: torch.Tensor, bn_inputs: list[torch.Tensor] | None = None) -> torch.Tensor:
        return self.head(self.body(x, bn_inputs))


def _running(bn: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """``running_mean`` and ``running_var``: never None here, the layers track running statistics."""
    mean, var = bn.running_mean, bn.running_var
    assert mean is not None and var is not None
    return mean, var


# --- one run ---------------------------------------------------------------------------------


def _measure(model: DeepMLP, x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...], int | None]:
    """Per-block mean/std (float64) and the 1-based first block with non-finite activations."""
    outs: list[torch.Tensor] = []
    with torch.no_grad():
        model.body(x, per_layer=outs)
        stacked = torch.stack([o.to(torch.float64) for o in outs])  # (depth, batch, width)
        flat = stacked.flatten(1)
        means = flat.mean(dim=1)
        stds = flat.std(dim=1)
        finite = torch.isfinite(stacked).flatten(1).all(dim=1)
    finite_list = finite.tolist()
    first = next((i + 1 for i, ok in enumerate(finite_list) if not ok), None)
    return floats(means), floats(stds), first


def _tracked_layers(depth: int) -> list[int]:
    """0-based indices of the first, middle and last layer."""
    return sorted({0, max(1, depth // 2) - 1, depth - 1})


def _run_one(run: RunSpec, ctx: Context, done: int, total: int) -> int:
    p = run.params
    depth, width, batch = p["depth"], p["width"], p["batch"]
    steps = p["train_steps"]
    device = ctx.device
    g = torch.Generator().manual_seed(run.seed)

    model = DeepMLP(depth, width, p["batchnorm"], p["bn_momentum"], CLASSES).init(p["init"], g)
    bns = model.batchnorms()
    x0 = torch.randn(batch, width, generator=g)
    centers = torch.randn(CLASSES, width, generator=g)
    model.to(device).train()

    # 1. measure
    ctx.check()
    means, stds, first_layer = _measure(model, x0.to(device))
    ctx.emit(LayerStats(run.variant, run.seed, means, stds, first_layer))
    for bn in bns:
        bn.reset_running_stats()
    done += 1
    ctx.progress(done, total, "measure")

    # 2. train
    opt = MomentumSGD(list(model.parameters()), p["lr"], p["momentum"])
    tracked = _tracked_layers(depth) if bns else []
    n_feat = min(p["stats_features"], width)
    every = max(1, steps // 10)

    def chunk(start: int, n: int) -> StepFn:
        labels = torch.randint(CLASSES, (n, batch), generator=g)
        xs = (centers[labels] + torch.randn(n, batch, width, generator=g)) / math.sqrt(2.0)
        xs, labels = xs.to(device), labels.to(device)

        def train_step(i: int) -> torch.Tensor:
            step = start + i + 1
            record = bool(tracked) and (step % every == 0 or step == steps)
            bn_inputs: list[torch.Tensor] | None = [] if record else None
            loss = F.cross_entropy(model(xs[i], bn_inputs), labels[i])
            opt.step(loss)
            if bn_inputs is not None:
                ctx.emit(_running_rows(run, bns, tracked, bn_inputs, step, n_feat))
            return loss

        return train_step

    trained = train_in_chunks(ctx, run, steps, chunk, done, total)
    ctx.emit(Final(run.variant, run.seed, {
        "output_std": stds[-1] if stds else None,
        "output_mean": means[-1] if means else None,
        "first_nonfinite_layer": first_layer,
        "train_loss": trained.train_loss,
        "diverged": first_layer is not None or trained.first_nonfinite_step is not None,
        "first_nonfinite_step": trained.first_nonfinite_step,
    }))
    return trained.done


def _running_rows(run: RunSpec, bns: Sequence[nn.BatchNorm1d], tracked: Sequence[int],
                  bn_inputs: Sequence[torch.Tensor], step: int, n_feat: int) -> TableRows:
    """The ``running_stats`` rows of the tracked BN layers after ``step`` (inputs: that step's batch)."""
    with torch.no_grad():
        parts = []
        for i in tracked:
            x = bn_inputs[i][:, :n_feat].to(torch.float64)
            running_mean, running_var = _running(bns[i])
            parts.append(torch.stack([
                running_mean[:n_feat].to(torch.float64),
                running_var[:n_feat].to(torch.float64),
                x.mean(dim=0),
                x.var(dim=0, unbiased=True),
            ], dim=1))
        values = torch.cat(parts).cpu().tolist()
    rows = []
    k = 0
    for i in tracked:
        for f in range(n_feat):
            rm, rv, bm, bv = values[k]
            rows.append((run.variant, run.seed, step, i + 1, f + 1, rm, rv, bm, bv))
            k += 1
    return TableRows("running_stats", RUNNING_COLUMNS, tuple(rows), key=("variant", "layer", "feature"))


def run(plan: Plan, ctx: Context) -> None:
    total = sum(1 + r.params["train_steps"] for r in plan.runs)
    done = 0
    ctx.progress(0, total, "measure")
    for r in plan.runs:
        done = _run_one(r, ctx, done, total)
