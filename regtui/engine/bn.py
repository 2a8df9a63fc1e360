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
from typing import Any, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from regtui.engine.sgd import MomentumSGD
from regtui.events import Final, LayerStats, Metrics, TableRows
from regtui.events import RunSpec
from regtui.scenario import Plan

CLASSES = 4  # classes of the synthetic blob task
CHUNK = 10  # steps per Metrics event (one host transfer per chunk)
RUNNING_COLUMNS = (
    "variant", "seed", "step", "layer", "feature",
    "running_mean", "running_var", "batch_mean", "batch_var",
)


# --- shared helpers (also used by norms.py) --------------------------------------------------


def floats(t: torch.Tensor) -> tuple[float, ...]:
    """A 1-d tensor as a tuple of Python floats (one host transfer)."""
    return tuple(float(x) for x in t.detach().to("cpu", torch.float64).tolist())


def first_nonfinite(values: Sequence[float]) -> int | None:
    """Index of the first non-finite value, or None."""
    for i, v in enumerate(values):
        if not math.isfinite(v):
            return i
    return None


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

    def init(self, init: str, generator: torch.Generator) -> "DeepMLP":
        self.to_empty(device="cpu")
        with torch.no_grad():
            for lin in self.linears:
                w = lin.weight
                if init == "normal":
                    nn.init.normal_(w, 0.0, 1.0, generator=generator)
                elif init == "kaiming":
                    nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu", generator=generator)
                else:  # PyTorch's default nn.Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
                    nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=generator)
            nn.init.kaiming_uniform_(self.head.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(self.head.in_features)
            nn.init.uniform_(self.head.bias, -bound, bound, generator=generator)
            if self.bns is not None:
                for bn in self.bns:
                    bn.reset_parameters()  # γ = 1, β = 0, running_mean = 0, running_var = 1
        return self

    def body(self, x: torch.Tensor, capture: dict[int, torch.Tensor] | None = None,
             per_layer: list[torch.Tensor] | None = None) -> torch.Tensor:
        """The deep part. ``capture``: 0-based BN index -> filled with that BN layer's input.
        ``per_layer``: filled with every block's output."""
        for i, lin in enumerate(self.linears):
            x = lin(x)
            if self.bns is not None:
                if capture is not None and i in capture:
                    capture[i] = x.detach()
                x = self.bns[i](x)
            x = F.relu(x)
            if per_layer is not None:
                per_layer.append(x.detach())
        return x

    def forward(self, x: torch.Tensor, capture: dict[int, torch.Tensor] | None = None) -> torch.Tensor:
        return self.head(self.body(x, capture))


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


def _run_one(run: RunSpec, ctx: Any, done: int, total: int) -> int:
    p = run.params
    depth, width, batch = p["depth"], p["width"], p["batch"]
    steps = p["train_steps"]
    device = ctx.device
    g = torch.Generator().manual_seed(run.seed)

    model = DeepMLP(depth, width, p["batchnorm"], p["bn_momentum"], CLASSES).init(p["init"], g)
    x0 = torch.randn(batch, width, generator=g)
    centers = torch.randn(CLASSES, width, generator=g)
    model.to(device).train()

    # 1. measure
    ctx.check()
    means, stds, first_layer = _measure(model, x0.to(device))
    ctx.emit(LayerStats(run.variant, run.seed, means, stds, first_layer))
    if model.bns is not None:
        for bn in model.bns:
            bn.reset_running_stats()
    done += 1
    ctx.progress(done, total, "measure")

    # 2. train
    opt = MomentumSGD(list(model.parameters()), p["lr"], p["momentum"])
    tracked = _tracked_layers(depth) if model.bns is not None else []
    n_feat = min(p["stats_features"], width)
    every = max(1, steps // 10)
    losses_all: list[float] = []
    first_bad_step: int | None = None
    step = 0
    while step < steps:
        n = min(CHUNK, steps - step)
        labels = torch.randint(CLASSES, (n, batch), generator=g)
        xs = (centers[labels] + torch.randn(n, batch, width, generator=g)) / math.sqrt(2.0)
        xs, labels = xs.to(device), labels.to(device)
        buf = torch.empty(n, device=device)
        for i in range(n):
            ctx.check()
            step += 1
            record = tracked and (step % every == 0 or step == steps)
            capture = dict.fromkeys(tracked) if record else None
            loss = F.cross_entropy(model(xs[i], capture), labels[i])
            opt.step(loss)
            buf[i] = loss.detach()
            if record:
                ctx.emit(_running_rows(run, model, capture, step, n_feat))
        chunk = floats(buf)
        losses_all.extend(chunk)
        ctx.emit(Metrics(run.variant, run.seed, tuple(range(step - n + 1, step + 1)),
                         {"train_loss": chunk}))
        done += n
        ctx.progress(done, total, "train")
        bad = first_nonfinite(chunk)
        if bad is not None:
            first_bad_step = step - n + 1 + bad
            done += steps - step  # the rest of this run is skipped: its weights are NaN now
            ctx.progress(done, total, "train")
            break

    tail = losses_all[-CHUNK:]
    train_loss = sum(tail) / len(tail) if tail else None
    if first_bad_step is not None:
        train_loss = float("nan")
    ctx.emit(Final(run.variant, run.seed, {
        "output_std": stds[-1] if stds else None,
        "output_mean": means[-1] if means else None,
        "first_nonfinite_layer": first_layer,
        "train_loss": train_loss,
        "diverged": first_layer is not None or first_bad_step is not None,
        "first_nonfinite_step": first_bad_step,
    }))
    return done


def _running_rows(run: RunSpec, model: DeepMLP, capture: dict[int, torch.Tensor], step: int,
                  n_feat: int) -> TableRows:
    with torch.no_grad():
        parts = []
        for i in sorted(capture):
            x = capture[i][:, :n_feat].to(torch.float64)
            bn = model.bns[i]
            parts.append(torch.stack([
                bn.running_mean[:n_feat].to(torch.float64),
                bn.running_var[:n_feat].to(torch.float64),
                x.mean(dim=0),
                x.var(dim=0, unbiased=True),
            ], dim=1))
        values = torch.cat(parts).cpu().tolist()
    rows = []
    k = 0
    for i in sorted(capture):
        for f in range(n_feat):
            rm, rv, bm, bv = values[k]
            rows.append((run.variant, run.seed, step, i + 1, f + 1, rm, rv, bm, bv))
            k += 1
    return TableRows("running_stats", RUNNING_COLUMNS, tuple(rows), key=("variant", "layer", "feature"))


def run(plan: Plan, ctx: Any) -> None:
    total = sum(1 + r.params["train_steps"] for r in plan.runs)
    done = 0
    ctx.progress(0, total, "measure")
    for r in plan.runs:
        done = _run_one(r, ctx, done, total)
