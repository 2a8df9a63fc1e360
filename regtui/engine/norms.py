"""The four normalization layers (tutorial item 6).

**Part a** (once per plan, from the base parameters and base seed): one random
``(demo_batch, channels, size, size)`` input — every channel with its own scale and offset —
goes through ``BatchNorm2d(C)`` (train mode), ``LayerNorm([C, H, W])``, ``InstanceNorm2d(C)``
(PyTorch's defaults: ``affine=False``, ``track_running_stats=False``) and
``GroupNorm(groups, C)``. The affine γ/β of the layers that have them are set to random
values, and each output is compared with the same normalization written with plain tensor
ops (mean and *biased* variance over that layer's axes). Emitted as ``Summary("norms", [...])``.
``Summary("worked")`` (see :func:`worked`): how many values each statistic averages, predicted
and measured, and the GroupNorm(C, C) = InstanceNorm, GroupNorm(1, C) = LayerNorm equivalences.

**Part b** (per run): a small conv net with the run's ``norm`` —
``conv3×3(1→C) → norm → ReLU → maxpool 2`` (when ``size ≥ 4``) ``→ conv3×3(C→C) → norm →
ReLU → global average and max pool → Linear(2C, classes)`` — classifies synthetic images
generated in code: class ``k`` is a stripe pattern at angle ``k·180°/classes`` (± a little)
with random frequency and phase, random contrast, a strongly varying brightness (std 2) and
pixel noise (std 0.8). It is trained ``steps`` SGD-with-momentum steps on mini-batches of
``batch`` images drawn with replacement from ``train_samples`` images, then evaluated on
``test_samples`` images in eval mode (BatchNorm then uses its running statistics, which is
where tiny batches hurt). The norm layers use PyTorch's defaults (InstanceNorm: no affine, no
running statistics).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from regtui.engine.context import Context
from regtui.engine.init import init_layers
from regtui.engine.loop import SeriesStep, Tally, train_series
from regtui.engine.sgd import MomentumSGD
from regtui.events import Final, RunSpec, Summary
from regtui.scenario import Plan

Norm = nn.BatchNorm2d | nn.LayerNorm | nn.InstanceNorm2d | nn.GroupNorm

NORM_NAMES = {"batch": "BatchNorm", "layer": "LayerNorm", "instance": "InstanceNorm", "group": "GroupNorm"}


# --- part a: what each layer normalizes over ---------------------------------------------


def _by_hand(x: torch.Tensor, dims: tuple[int, ...], eps: float) -> torch.Tensor:
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)  # biased
    return (x - mean) / torch.sqrt(var + eps)


def _shape(t: torch.Tensor | None) -> list[int] | None:
    return None if t is None else list(t.shape)


def _group_axes(c: int, groups: int) -> str:
    per = c // groups
    return f"C/G (= {per} channel{'' if per == 1 else 's'} per group), H, W"


def _changed_outputs(layer: nn.Module, x: torch.Tensor) -> int:
    """Measured: how many outputs change when one input value changes — the values that share its
    statistics (float64 copies, so rounding cannot hide or fake a change)."""
    probe = copy.deepcopy(layer).to(device="cpu", dtype=torch.float64).train()
    x64 = x.detach().to("cpu", torch.float64)
    bumped = x64.clone()
    bumped.view(-1)[0] += 10.0
    with torch.no_grad():
        return int(((probe(bumped) - probe(x64)).abs() > 1e-9).sum())


def worked(p: dict[str, Any], seed: int) -> dict[str, Any]:
    """``Summary("worked")``: for each norm at the demo input's shape (N, C, H, W), how many statistics
    it computes and how many values each one averages, over which axes (the formula), beside the
    measured count (the outputs that change when one input value changes); and the two exact
    equivalences GroupNorm(C, C) = InstanceNorm and GroupNorm(1, C) = LayerNorm([C, H, W]) (no affine),
    checked on the demo input."""
    n, c, s, groups = p["demo_batch"], p["channels"], p["size"], p["groups"]
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, s, s, generator=g, dtype=torch.float64) * 3 + 1
    hw = s * s
    rows = [
        ("BatchNorm2d", nn.BatchNorm2d(c), "N, H, W", "C", c, f"N·H·W = {n}·{s}·{s}", n * hw),
        ("LayerNorm", nn.LayerNorm([c, s, s]), "C, H, W", "N", n, f"C·H·W = {c}·{s}·{s}", c * hw),
        ("InstanceNorm2d", nn.InstanceNorm2d(c), "H, W", "N·C", n * c, f"H·W = {s}·{s}", hw),
        (
            "GroupNorm",
            nn.GroupNorm(groups, c),
            _group_axes(c, groups),
            "N·G",
            n * groups,
            f"(C/G)·H·W = {c // groups}·{s}·{s}",
            (c // groups) * hw,
        ),
    ]
    norms = {
        name: {
            "input_shape": [n, c, s, s],
            "reduces_over": axes,
            "statistics": {"formula": count_formula, "predicted": count},
            "values_per_statistic": {"formula": per_formula, "predicted": per, "measured": _changed_outputs(layer, x)},
        }
        for name, layer, axes, count_formula, count, per_formula, per in rows
    }
    with torch.no_grad():
        gn_c = nn.GroupNorm(c, c, affine=False).double()(x)
        inorm = nn.InstanceNorm2d(c).double()(x)
        gn_1 = nn.GroupNorm(1, c, affine=False).double()(x)
        ln = nn.LayerNorm([c, s, s], elementwise_affine=False).double()(x)
    equivalences = [
        {
            "a": f"GroupNorm({c}, {c})",
            "b": f"InstanceNorm2d({c})",
            "formula": "G = C: each group is one channel",
            "max_abs_diff": float((gn_c - inorm).abs().max()),
        },
        {
            "a": f"GroupNorm(1, {c})",
            "b": f"LayerNorm([{c}, {s}, {s}])",
            "formula": "G = 1: one group holds C, H, W",
            "max_abs_diff": float((gn_1 - ln).abs().max()),
        },
    ]
    return {"norms": norms, "equivalences": equivalences}


def compare_norms(p: dict[str, Any], seed: int, device: torch.device) -> list[dict[str, Any]]:
    """Part a: each norm layer vs the same normalization written by hand."""
    n, c, s, groups = p["demo_batch"], p["channels"], p["size"], p["groups"]
    g = torch.Generator().manual_seed(seed)
    scale = torch.exp(torch.randn(1, c, 1, 1, generator=g))
    shift = 3 * torch.randn(1, c, 1, 1, generator=g)
    x = (torch.randn(n, c, s, s, generator=g) * scale + shift).to(device)
    layers: list[tuple[Norm, str, str, str]] = [
        (
            nn.BatchNorm2d(c),
            "N, H, W",
            "per channel, over the mini-batch",
            "CNNs with reasonably large mini-batches; eval mode uses the running statistics",
        ),
        (
            nn.LayerNorm([c, s, s]),
            "C, H, W",
            "per sample",
            "networks whose batch statistics are unreliable or variable-length (RNNs, Transformers)",
        ),
        (
            nn.InstanceNorm2d(c),
            "H, W",
            "per sample and channel",
            "image generation and style transfer (removes each image's contrast)",
        ),
        (
            nn.GroupNorm(groups, c),
            _group_axes(c, groups),
            "per sample and group of channels",
            "small mini-batches (detection, segmentation, large models), where BN's estimates are poor",
        ),
    ]
    out = []
    for layer, axes, per, made_for in layers:
        layer = layer.to(device).train()
        with torch.no_grad():
            for t in (getattr(layer, "weight", None), getattr(layer, "bias", None)):
                if t is not None:
                    t.copy_(torch.randn(t.shape, generator=g) * 0.5 + (1.0 if t is layer.weight else 0.0))
            y = layer(x)
            eps = layer.eps
            if isinstance(layer, nn.BatchNorm2d):
                ref = _by_hand(x, (0, 2, 3), eps)
                ref = ref * layer.weight.view(1, c, 1, 1) + layer.bias.view(1, c, 1, 1)
            elif isinstance(layer, nn.LayerNorm):
                ref = _by_hand(x, (1, 2, 3), eps) * layer.weight + layer.bias
            elif isinstance(layer, nn.InstanceNorm2d):
                ref = _by_hand(x, (2, 3), eps)
            else:
                ref = _by_hand(x.view(n, groups, -1), (2,), eps).view(n, c, s, s)
                ref = ref * layer.weight.view(1, c, 1, 1) + layer.bias.view(1, c, 1, 1)
            diff = float((y - ref).abs().max())
        buffers = [name for name, b in layer.named_buffers() if b is not None]
        out.append(
            {
                "norm": type(layer).__name__,
                "reduces_over": axes,
                "normalizes": per,
                "weight_shape": _shape(getattr(layer, "weight", None)),
                "bias_shape": _shape(getattr(layer, "bias", None)),
                "running_buffers": bool(buffers),
                "max_abs_diff": diff,
                "made_for": made_for,
            }
        )
    return out


# --- part b: a small conv net on synthetic stripes ----------------------------------------


def make_images(n: int, size: int, classes: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (n, 1, size, size) of oriented stripes; the label is the orientation."""
    labels = torch.randint(classes, (n,), generator=g)
    spacing = math.pi / classes
    theta = labels * spacing + (torch.rand(n, generator=g) - 0.5) * 0.5 * spacing
    freq = 0.7 + 0.8 * torch.rand(n, generator=g)  # radians per pixel
    phase = 2 * math.pi * torch.rand(n, generator=g)
    coords = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    proj = xx * torch.cos(theta).view(n, 1, 1) + yy * torch.sin(theta).view(n, 1, 1)
    img = torch.sin(freq.view(n, 1, 1) * proj + phase.view(n, 1, 1))
    # Exposure varies a lot from image to image (brightness std 2 vs stripe amplitude ~1):
    # per-sample norms remove it; BatchNorm on a batch of 2 normalizes each image with one
    # random partner in training and with noisy running averages in eval.
    contrast = torch.exp(0.5 * torch.randn(n, 1, 1, generator=g))
    brightness = 2.0 * torch.randn(n, 1, 1, generator=g)
    img = contrast * img + brightness + 0.8 * torch.randn(n, size, size, generator=g)
    return img.unsqueeze(1), labels


def _norm_layer(norm: str, c: int, size: int, groups: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(c)
    if norm == "layer":
        return nn.LayerNorm([c, size, size])
    if norm == "instance":
        return nn.InstanceNorm2d(c)
    return nn.GroupNorm(groups, c)


class ConvNet(nn.Module):
    def __init__(self, norm: str, channels: int, size: int, groups: int, classes: int) -> None:
        super().__init__()
        self.pool = size >= 4
        inner = size // 2 if self.pool else size
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.norm1 = _norm_layer(norm, channels, size, groups)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm2 = _norm_layer(norm, channels, inner, groups)
        self.head = nn.Linear(2 * channels, classes)

    def init(self, g: torch.Generator) -> ConvNet:
        """PyTorch's default init for convs and the head, drawn from the run's generator."""
        init_layers(self, g)  # conv1, conv2, head: the norm layers keep γ = 1, β = 0
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.norm1(self.conv1(x)))
        if self.pool:
            x = F.max_pool2d(x, 2)
        x = F.relu(self.norm2(self.conv2(x)))
        # Average and max pooling: after InstanceNorm every channel has mean 0 and variance 1
        # per image, so an average alone would leave the head almost nothing to read.
        return self.head(torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1))


def _run_one(run: RunSpec, ctx: Context, tally: Tally) -> None:
    p = run.params
    device = ctx.device
    steps, batch = p["steps"], p["batch"]
    g = torch.Generator().manual_seed(run.seed)
    x_train, y_train = make_images(p["train_samples"], p["size"], p["classes"], g)
    x_test, y_test = make_images(p["test_samples"], p["size"], p["classes"], g)
    model = ConvNet(p["norm"], p["channels"], p["size"], p["groups"], p["classes"]).init(g)
    model.to(device).train()
    x_train, y_train = x_train.to(device), y_train.to(device)
    opt = MomentumSGD(list(model.parameters()), p["lr"], p["momentum"])

    def chunk(start: int, n: int) -> SeriesStep:
        idx = torch.randint(len(y_train), (n, batch), generator=g).to(device)

        def train_step(i: int) -> dict[str, torch.Tensor]:
            loss = F.cross_entropy(model(x_train[idx[i]]), y_train[idx[i]])
            opt.step(loss)
            return {"train_loss": loss}

        return train_step

    trained = train_series(ctx, run, steps, chunk, tally)
    first_bad = trained.first_nonfinite_step

    ctx.check()
    model.eval()
    with torch.no_grad():
        logits = model(x_test.to(device))
        y = y_test.to(device)
        test_loss = float(F.cross_entropy(logits, y))
        test_acc = float((logits.argmax(dim=1) == y).float().mean())
    diverged = first_bad is not None or not math.isfinite(test_loss)
    ctx.emit(
        Final(
            run.variant,
            run.seed,
            {
                "train_loss": trained.train_loss,
                "test_loss": test_loss,
                "test_accuracy": float("nan") if diverged else test_acc,
                "diverged": diverged,
                "first_nonfinite_step": first_bad,
            },
        )
    )


def run(plan: Plan, ctx: Context) -> None:
    tally = Tally(ctx, sum(r.params["steps"] for r in plan.runs))
    tally.add(0, "compare")
    ctx.check()
    ctx.emit(Summary("norms", compare_norms(plan.params, plan.seed, ctx.device)))
    ctx.emit(Summary("worked", worked(plan.params, plan.seed)))
    for r in plan.runs:
        _run_one(r, ctx, tally)
