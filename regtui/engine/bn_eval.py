"""A BatchNorm net evaluated in train mode vs eval mode at several batch sizes (pitfall lesson 8).

Every run trains ``Linear(features, hidden) → BatchNorm1d(hidden) → ReLU → Linear(hidden, classes)``
(PyTorch's default init drawn from the run's generator) ``steps`` steps of
``torch.optim.SGD(lr, momentum)`` on fresh mini-batches of ``classes`` Gaussian blobs
(centers ~ N(0, I), unit noise), emitting the mini-batch cross-entropy as ``Metrics("train_loss")``.

Then one test set of ``TEST_SAMPLES`` samples (+ ``shift`` on every input) is classified in
chunks of each batch size in ``TEST_BATCHES``:

- in **eval mode** BatchNorm uses its running statistics:
  (x − running_mean) / sqrt(running_var + eps) · γ + β, the same for every batch size;
- in **train mode** (on a copy of the model, so its running statistics stay as trained) it
  uses each chunk's own mean and biased variance; with one sample per chunk BatchNorm1d
  refuses (``ValueError``), and that refusal is reported as the result.

Tables: ``batch_eval`` (``seed, mode, batch, test_loss, test_accuracy, max_abs_diff``
against the eval-mode logits of the whole test set at once, ``error``) and ``running_stats``
(per BatchNorm feature: ``running_mean, running_var`` and the mean and biased variance of
the BatchNorm input over the whole test set). ``Final`` holds the same numbers flat.
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
from regtui.engine.loop import SeriesStep, Tally, run_each, train_series
from regtui.events import Final, RunSpec, TableRows
from regtui.scenario import Plan

TEST_SAMPLES = 64
TEST_BATCHES = (1, 2, 8, 64)
EVAL_COLUMNS = ("seed", "mode", "batch", "test_loss", "test_accuracy", "max_abs_diff", "error")
STATS_COLUMNS = ("seed", "feature", "running_mean", "running_var", "test_mean", "test_var_biased")


def make_model(p: dict[str, Any], g: torch.Generator) -> nn.Sequential:
    model = nn.Sequential(
        nn.Linear(p["features"], p["hidden"]),
        nn.BatchNorm1d(p["hidden"], momentum=p["bn_momentum"]),
        nn.ReLU(),
        nn.Linear(p["hidden"], p["classes"]),
    )
    init_layers(model, g)
    return model


def setup(
    p: dict[str, Any], seed: int
) -> tuple[nn.Sequential, torch.Tensor, torch.Tensor, torch.Tensor, torch.Generator]:
    """Model, blob centers, test set; the returned generator then draws the training batches."""
    g = torch.Generator().manual_seed(seed)
    model = make_model(p, g)
    centers = torch.randn(p["classes"], p["features"], generator=g)
    y_test = torch.randint(p["classes"], (TEST_SAMPLES,), generator=g)
    x_test = centers[y_test] + torch.randn(TEST_SAMPLES, p["features"], generator=g) + p["shift"]
    return model, centers, x_test, y_test, g


def draw_batches(
    p: dict[str, Any], centers: torch.Tensor, n: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` training mini-batches: (n, batch, features) inputs and (n, batch) labels."""
    labels = torch.randint(p["classes"], (n, p["batch"]), generator=g)
    return centers[labels] + torch.randn(n, p["batch"], p["features"], generator=g), labels


def chunked_logits(model: nn.Module, x: torch.Tensor, batch: int) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)])


def evaluate(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, seed: int) -> list[tuple[Any, ...]]:
    """The ``batch_eval`` rows: eval mode, then train mode (on a copy) at every test batch size."""
    model.eval()
    reference = chunked_logits(model, x, len(x))
    rows: list[tuple[Any, ...]] = []
    for mode in ("eval", "train"):
        for b in TEST_BATCHES:
            m = model if mode == "eval" else copy.deepcopy(model).train()
            try:
                logits = chunked_logits(m, x, b)
            except ValueError as e:  # BatchNorm1d in train mode with one value per channel
                rows.append((seed, mode, b, None, None, None, str(e).splitlines()[0]))
                continue
            loss = float(F.cross_entropy(logits, y))
            acc = float((logits.argmax(dim=1) == y).float().mean())
            diff = float((logits - reference).abs().max())
            rows.append((seed, mode, b, loss, acc, diff, None))
    return rows


def _run_one(run: RunSpec, ctx: Context, tally: Tally) -> None:
    p = run.params
    dev = ctx.device
    model, centers, x_test, y_test, g = setup(p, run.seed)
    model.to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"])

    def chunk(start: int, n: int) -> SeriesStep:
        xs, labels = draw_batches(p, centers, n, g)
        xs, labels = xs.to(dev), labels.to(dev)

        def train_step(i: int) -> dict[str, torch.Tensor]:
            opt.zero_grad()
            loss = F.cross_entropy(model(xs[i]), labels[i])
            loss.backward()
            opt.step()
            return {"train_loss": loss}

        return train_step

    trained = train_series(ctx, run, p["steps"], chunk, tally)
    ctx.check()
    x_test, y_test = x_test.to(dev), y_test.to(dev)
    rows = evaluate(model, x_test, y_test, run.seed)
    ctx.emit(TableRows("batch_eval", EVAL_COLUMNS, tuple(rows)))
    bn = model[1]
    assert isinstance(bn, nn.BatchNorm1d) and bn.running_mean is not None and bn.running_var is not None
    k = min(p["stats_features"], p["hidden"])
    with torch.no_grad():
        h = model[0](x_test)
        stats = (
            torch.stack([bn.running_mean[:k], bn.running_var[:k], h.mean(0)[:k], h.var(0, unbiased=False)[:k]], dim=1)
            .double()
            .cpu()
            .tolist()
        )
    ctx.emit(
        TableRows(
            "running_stats",
            STATS_COLUMNS,
            tuple((run.seed, f + 1, *vals) for f, vals in enumerate(stats)),
            key=("feature",),
        )
    )
    final: dict[str, Any] = {
        "train_loss": trained.train_loss,
        "diverged": trained.first_nonfinite_step is not None,
        "first_nonfinite_step": trained.first_nonfinite_step,
    }
    for _, mode, b, loss, _acc, diff, error in rows:
        final[f"{mode}_b{b}_test_loss"] = loss if error is None else None
        final[f"{mode}_b{b}_max_abs_diff"] = diff
        if error is not None:
            final[f"{mode}_b{b}_error"] = error
    if trained.first_nonfinite_step is not None:
        final = {k: (math.nan if v is None and k.endswith("test_loss") else v) for k, v in final.items()}
    ctx.emit(Final(run.variant, run.seed, final))


def run(plan: Plan, ctx: Context) -> None:
    run_each(plan, ctx, _run_one)
