"""Batch normalization in a 100-layer MLP (tutorial item 4).

Every run builds ``depth`` blocks ``Linear(width, width, bias=False) [→ BatchNorm1d] → ReLU``
(the tutorial's net: no biases, so the init alone decides how the scale evolves), then

1. **measures**: one forward pass of an N(0, 1) batch in train mode and reports the mean and
   std of the activations after every block (after the ReLU, as the tutorial prints them) as
   :class:`LayerStats`, with the 1-based block where the activations first hold inf/NaN.
   Statistics are taken in float64 so a std of huge-but-finite float32 activations is not
   mistaken for an overflow. The measuring pass runs with ``torch.set_flush_denormal(False)``
   (the runner turns flushing on process-wide for training speed and it is turned back on
   afterwards), so subnormal float32 activations (below ~1.2e-38) keep their values as in
   plain PyTorch instead of reading as 0;
2. **trains** ``train_steps`` SGD-with-momentum steps on a synthetic task — classify
   ``CLASSES`` Gaussian blobs in ``width`` dimensions from fresh mini-batches, read out by a
   ``Linear(width, CLASSES)`` head with PyTorch's default init — emitting the mini-batch
   cross-entropy as ``Metrics("train_loss")`` in chunks, the same per-block mean and std for
   the last mini-batch of every chunk (``LayerStats`` with its ``step``: the Layers chart
   follows the scale as the net trains; subnormals are flushed then, so a vanishing block
   reads as 0), and for BatchNorm runs the running statistics of the first, middle and last
   BN layer as the ``running_stats`` table.

``Summary("worked")`` sets the per-layer scale factor each init predicts (derived below, in
:func:`worked`) beside the measured one (the geometric mean of the per-layer std ratios), and
the layer where the predicted scale leaves float32's range beside the measured one.

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
from regtui.engine.init import default_init
from regtui.engine.loop import SeriesStep, Tally, floats, train_series
from regtui.engine.measures import RUNNING_COLUMNS
from regtui.engine.sgd import MomentumSGD
from regtui.events import Final, LayerStats, RunSpec, Summary, TableRows
from regtui.scenario import Plan

CLASSES = 4  # classes of the synthetic blob task


# --- the model -------------------------------------------------------------------------------


class DeepMLP(nn.Module):
    """``depth`` × (Linear → [BatchNorm1d] → ReLU) and a small classification head."""

    def __init__(self, depth: int, width: int, batchnorm: bool, bn_momentum: float, classes: int) -> None:
        super().__init__()
        # Built on the meta device: the weights are initialised below from the run's generator.
        self.linears = nn.ModuleList(nn.Linear(width, width, bias=False, device="meta") for _ in range(depth))
        self.bns = (
            nn.ModuleList(nn.BatchNorm1d(width, momentum=bn_momentum, device="meta") for _ in range(depth))
            if batchnorm
            else None
        )
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
                    default_init(w, None, generator)
            default_init(self.head.weight, self.head.bias, generator)
            for bn in self.batchnorms():
                bn.reset_parameters()  # γ = 1, β = 0, running_mean = 0, running_var = 1
        return self

    def body(
        self, x: torch.Tensor, bn_inputs: list[torch.Tensor] | None = None, per_layer: list[torch.Tensor] | None = None
    ) -> torch.Tensor:
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

    def forward(
        self, x: torch.Tensor, bn_inputs: list[torch.Tensor] | None = None, per_layer: list[torch.Tensor] | None = None
    ) -> torch.Tensor:
        return self.head(self.body(x, bn_inputs, per_layer))


def _running(bn: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """``running_mean`` and ``running_var``: never None here, the layers track running statistics."""
    mean, var = bn.running_mean, bn.running_var
    assert mean is not None and var is not None
    return mean, var


# --- one run ---------------------------------------------------------------------------------


def _measure(model: DeepMLP, x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...], int | None]:
    """Per-block mean/std (float64) and the 1-based first block with non-finite activations.

    Runs with subnormal flushing off, as plain PyTorch does by default: the runner turns it on
    process-wide for training speed, which would turn vanishing activations below ~1.2e-38
    into exact zeros. ``set_flush_denormal`` has no getter; the runner set it, so it is turned
    back on afterwards.
    """
    torch.set_flush_denormal(False)
    try:
        return _measure_unflushed(model, x)
    finally:
        torch.set_flush_denormal(True)


def _measure_unflushed(model: DeepMLP, x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...], int | None]:
    outs: list[torch.Tensor] = []
    with torch.no_grad():
        model.body(x, per_layer=outs)
    return _profile(outs)


def _profile(outs: Sequence[torch.Tensor]) -> tuple[tuple[float, ...], tuple[float, ...], int | None]:
    """Mean and std (float64) of every block's output, and the 1-based first block holding inf/NaN."""
    with torch.no_grad():
        stacked = torch.stack([o.detach().to(torch.float64) for o in outs])  # (depth, batch, width)
        flat = stacked.flatten(1)
        means = flat.mean(dim=1)
        stds = flat.std(dim=1)
        finite = torch.isfinite(stacked).flatten(1).all(dim=1)
    finite_list = finite.tolist()
    first = next((i + 1 for i, ok in enumerate(finite_list) if not ok), None)
    return floats(means), floats(stds), first


FLOAT32_MAX = float(torch.finfo(torch.float32).max)  # ≈ 3.4e38
FLOAT32_TINY = float(torch.finfo(torch.float32).tiny)  # ≈ 1.18e-38, the smallest normal float32
RELU_STD_OVER_RMS = math.sqrt(1 - 1 / math.pi)  # std/rms of ReLU(z), z ~ N(0, σ²)


def predicted_factor(init: str, width: int, batchnorm: bool) -> tuple[float, str]:
    """The per-layer factor on the activations' scale, and its formula.

    A Linear layer with n = width inputs gives each output the variance n·Var(w)·E[x²]; for
    ReLU outputs E[x²] is half the pre-activation variance, so the rms of the activations is
    multiplied by √(n·Var(w)/2) per block. Var(w): default init U(−1/√n, 1/√n) → 1/(3n);
    N(0, 1) → 1; Kaiming normal → 2/n. BatchNorm resets the pre-activation variance to 1 at
    every block, so the factor is 1.
    """
    if batchnorm:
        return 1.0, "1 (BatchNorm resets the scale every block)"
    if init == "normal":
        return math.sqrt(width / 2), f"√(n·1/2) = √({width}/2)"
    if init == "kaiming":
        return 1.0, "√(n·(2/n)/2) = 1"
    return math.sqrt(1 / 6), "√(n·(1/(3n))/2) = √(1/6)"


def worked(
    init: str, width: int, depth: int, batchnorm: bool, stds: Sequence[float], first_nonfinite: int | None
) -> dict[str, object]:
    """Predicted factor, std and float32 limits beside the measured ones (one run)."""
    factor, formula = predicted_factor(init, width, batchnorm)
    # rms after block L is factor**L (the input is N(0, 1), so E[x²] = 1 at block 1); std = rms·√(1 − 1/π).
    log_f = math.log(factor)
    overflow = math.ceil(math.log(FLOAT32_MAX) / log_f) if log_f > 0 else None
    subnormal = math.ceil(math.log(FLOAT32_TINY) / log_f) if log_f < 0 else None
    last = (first_nonfinite - 1) if first_nonfinite is not None else len(stds)  # finite blocks
    finite = list(stds[:last])
    measured_factor = None
    if len(finite) >= 2 and finite[0] > 0 and finite[-1] > 0:
        measured_factor = (finite[-1] / finite[0]) ** (1 / (len(finite) - 1))
    predicted_std = None if batchnorm else RELU_STD_OVER_RMS * factor**depth
    return {
        "factor": {
            "formula": formula,
            "predicted": factor,
            "measured": measured_factor,
            "measured_over": f"geometric mean of the std ratio between consecutive blocks, blocks 1–{len(finite)}",
        },
        "std_last_block": {
            "formula": f"√(1 − 1/π)·factor^{depth}" if not batchnorm else "√(1/2 − 1/(2π)) ≈ 0.58",
            "predicted": predicted_std if predicted_std is not None else math.sqrt(0.5 - 1 / (2 * math.pi)),
            "measured": stds[-1] if stds else None,
        },
        "overflow_block": {
            "formula": "first L with factor^L > float32 max ≈ 3.4e38",
            "predicted": overflow,
            "measured": first_nonfinite,
        },
        "subnormal_block": {
            "formula": "first L with factor^L < float32's smallest normal ≈ 1.18e-38",
            "predicted": subnormal,
            "measured": next((i + 1 for i, s in enumerate(stds) if 0 < s < FLOAT32_TINY), None),
        },
    }


def _tracked_layers(depth: int) -> list[int]:
    """0-based indices of the first, middle and last layer."""
    return sorted({0, max(1, depth // 2) - 1, depth - 1})


def _run_one(run: RunSpec, ctx: Context, tally: Tally, worked_runs: dict[str, object]) -> None:
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
    worked_runs[f"{run.variant} · seed {run.seed}"] = worked(p["init"], width, depth, p["batchnorm"], stds, first_layer)
    ctx.emit(Summary("worked", dict(worked_runs)))  # after every run, so an interrupted run keeps it
    for bn in bns:
        bn.reset_running_stats()
    tally.add(1, "measure")

    # 2. train
    opt = MomentumSGD(list(model.parameters()), p["lr"], p["momentum"])
    tracked = _tracked_layers(depth) if bns else []
    n_feat = min(p["stats_features"], width)
    every = max(1, steps // 10)

    def chunk(start: int, n: int) -> SeriesStep:
        labels = torch.randint(CLASSES, (n, batch), generator=g)
        xs = (centers[labels] + torch.randn(n, batch, width, generator=g)) / math.sqrt(2.0)
        xs, labels = xs.to(device), labels.to(device)

        def train_step(i: int) -> dict[str, torch.Tensor]:
            step = start + i + 1
            record = bool(tracked) and (step % every == 0 or step == steps)
            bn_inputs: list[torch.Tensor] | None = [] if record else None
            per_layer: list[torch.Tensor] | None = [] if i == n - 1 else None  # the chunk's last step
            loss = F.cross_entropy(model(xs[i], bn_inputs, per_layer), labels[i])
            if per_layer is not None:  # the profile of this mini-batch, before the update
                ctx.emit(LayerStats(run.variant, run.seed, *_profile(per_layer), step=step))
            opt.step(loss)
            if bn_inputs is not None:
                ctx.emit(_running_rows(run, bns, tracked, bn_inputs, step, n_feat))
            return {"train_loss": loss}

        return train_step

    trained = train_series(ctx, run, steps, chunk, tally)
    ctx.emit(
        Final(
            run.variant,
            run.seed,
            {
                "output_std": stds[-1] if stds else None,
                "output_mean": means[-1] if means else None,
                "first_nonfinite_layer": first_layer,
                "train_loss": trained.train_loss,
                "diverged": first_layer is not None or trained.first_nonfinite_step is not None,
                "first_nonfinite_step": trained.first_nonfinite_step,
            },
        )
    )


def _running_rows(
    run: RunSpec,
    bns: Sequence[nn.BatchNorm1d],
    tracked: Sequence[int],
    bn_inputs: Sequence[torch.Tensor],
    step: int,
    n_feat: int,
) -> TableRows:
    """The ``running_stats`` rows of the tracked BN layers after ``step`` (inputs: that step's batch)."""
    with torch.no_grad():
        parts = []
        for i in tracked:
            x = bn_inputs[i][:, :n_feat].to(torch.float64)
            running_mean, running_var = _running(bns[i])
            parts.append(
                torch.stack(
                    [
                        running_mean[:n_feat].to(torch.float64),
                        running_var[:n_feat].to(torch.float64),
                        x.mean(dim=0),
                        x.var(dim=0, unbiased=True),
                    ],
                    dim=1,
                )
            )
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
    tally = Tally(ctx, sum(1 + r.params["train_steps"] for r in plan.runs))
    tally.add(0, "measure")
    worked_runs: dict[str, object] = {}
    for r in plan.runs:
        _run_one(r, ctx, tally, worked_runs)
