"""One run of the ``train`` kind: its data, model and optimizer, what it logs, and its training alone.

A run (variant × sweep point × seed) builds its data (:mod:`.data`, split with the run's
seed), seeds torch's global RNG with the run's seed, builds the model (:mod:`.model`; the
init comes from that RNG, so the variants of one seed start from the same weights when
their layers are the same), and trains ``steps`` steps of ``torch.optim`` on mini-batches
(an epoch is a permutation of the training set drawn from a generator seeded with the
run's seed, or the same order every epoch with ``shuffle = false``; the last incomplete
batch of an epoch is dropped, so BatchNorm never sees a batch of one by accident).

Steps are trained in chunks of ``log_every`` (:func:`regtui.engine.loop.train_in_chunks`);
the last step of each chunk is a *logging step*, and only then are forward hooks installed
and anything copied to the host (:meth:`ModelRun.log_chunk`):

- ``Metrics`` (one point per chunk, at the logging step): ``train_loss`` and
  ``train_accuracy`` (the mean over the chunk's mini-batches), ``test_loss`` and
  ``test_accuracy`` (eval mode, after the step), and where the net has Dropout or
  BatchNorm ``test_loss_train_mode`` / ``test_accuracy_train_mode`` (the forgot-``eval()``
  pitfall: the same test set with the net left in train mode; BatchNorm's running
  statistics and the RNG are restored afterwards, so this changes nothing in training);
  ``weight_norm/<layer>`` and ``grad_norm/<layer>`` (L2 norms of each layer's parameters
  and of their gradients at that step, before ``grad_clip``); ``lr``, the learning rate of that step, where the run
  has a ``schedule`` (:mod:`.schedule`, stepped after every optimizer step);
- ``LayerStats``: mean and std of every observed layer's output in that step's forward,
  with the step and the layers' names (the Layers view; every step in ``layers_steps``);
- ``TableRows("running_stats")``: every BatchNorm layer's running_mean / running_var for
  its first ``stats_features`` features after the step, beside the batch mean and the
  unbiased batch variance of the layer's input (the values PyTorch folds in);
- with ``histograms``, ``TableRows("histograms")``: per observed layer, the histograms of its
  weights (after the step), gradients and output (``torch.histc`` in ``HIST_BINS`` equal
  bins over the tensor's own range at that step, with its min, max, count, sum and sum of
  squares; :func:`.observe.histogram`).

``Final`` (:meth:`ModelRun.final`): losses and accuracies on the whole training and test
sets in eval mode (and train mode), ``weight_norm`` (all parameters), ``parameters``,
``diverged``, ``first_nonfinite_step``. Divergence is a result, as in the lessons: a run
stops at the end of the chunk whose loss turned inf/NaN.

A training step may augment its batch (``[data] augment``, :mod:`.augment`: each sample
through torchvision's transforms, from the run's own RNG stream), run its forward and loss
under autocast (``amp``; fp16 with a GradScaler) and run the compiled module (``compile``,
logging steps excepted): :mod:`.speed`.

A stack (:mod:`.batched`) trains several runs together and hands each its logging steps
through :meth:`ModelRun.log_chunk` and :meth:`ModelRun.final`, so the events are the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import nullcontext
from itertools import pairwise
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from regtui.custom_specs.params import TRAIN
from regtui.engine.context import Context
from regtui.engine.custom import checkpoint, schedule, speed
from regtui.engine.custom import data as data_mod
from regtui.engine.custom import model as model_mod
from regtui.engine.custom.augment import Augmenter
from regtui.engine.custom.observe import HIST_COLUMNS, Observer, histogram, running
from regtui.engine.loop import StepFn, Tally, first_nonfinite, train_in_chunks
from regtui.engine.measures import RUNNING_COLUMNS, param_norm
from regtui.events import Final, LayerStats, Metrics, RunSpec, TableRows
from regtui.specs import ConfigError

__all__ = ["EVAL_BATCH", "ORDER_SALT", "ModelRun", "batch_order", "loss_fn", "loss_name"]

EVAL_BATCH = 1024  # test samples per forward when evaluating
ORDER_SALT = 0x5EED  # the batch-order generator's seed is the run's seed xor this


# --- pieces a plain-PyTorch reference reuses ----------------------------------------------------


def loss_name(p: dict[str, Any], task: str) -> str:
    if p["loss"] != "auto":
        return p["loss"]
    return "cross_entropy" if task == "classification" else "mse"


def loss_fn(
    out: torch.Tensor,
    y: torch.Tensor,
    name: str,
    task: str,
    outputs: int,
    label_smoothing: float,
    reduction: str = "mean",
) -> torch.Tensor:
    if name == "cross_entropy":
        return F.cross_entropy(out, y, label_smoothing=label_smoothing, reduction=reduction)
    if task == "classification":  # mse on class labels: against one-hot targets
        return F.mse_loss(out, F.one_hot(y, outputs).to(out.dtype), reduction=reduction)
    return F.mse_loss(out, y, reduction=reduction)


def batch_order(seed: int, n: int, batch: int, shuffle: bool, device: torch.device) -> Iterator[torch.Tensor]:
    """Index tensors of the mini-batches, epoch after epoch (incomplete last batches dropped)."""
    g = torch.Generator().manual_seed(seed ^ ORDER_SALT)
    per_epoch = n // batch
    while True:
        order = (torch.randperm(n, generator=g) if shuffle else torch.arange(n)).to(device)
        for b in range(per_epoch):
            yield order[b * batch : (b + 1) * batch]


def eval_batches(n: int) -> list[tuple[int, int]]:
    """(start, end) of the evaluation batches: ``EVAL_BATCH`` samples each, a last batch of a single
    sample joined to the one before (BatchNorm refuses a batch of one in the train-mode evaluation)."""
    bounds = [*range(0, n, EVAL_BATCH), n]
    if len(bounds) > 2 and n - bounds[-2] == 1:
        del bounds[-2]
    return list(pairwise(bounds))


# --- one run -----------------------------------------------------------------------------------


class ModelRun:
    """One run built for training: its model on the device, optimizer, data and observed layers."""

    def __init__(
        self,
        run: RunSpec,
        ctx: Context,
        data: data_mod.Data,
        tables: dict[str, Any],
        base: Path,
        on_device: dict[int, tuple[torch.Tensor, ...]] | None = None,
        slot: int = 0,
    ):
        # every parameter of the kind: those that do not act in this run are left out of its record
        # (scenario._acting), and read here at their defaults, unused
        p = {**TRAIN.defaults(), **run.params}
        self.run, self.ctx, self.p = run, ctx, p
        self.slot = slot  # the variant's place in the plan (its checkpoints' names begin with it)
        self.dev = ctx.device
        self.task, self.outputs = data.task, data.outputs
        self.loss = loss_name(p, data.task)
        torch.manual_seed(run.seed)
        self.model, self.observed = model_mod.build(tables, base, data.input_shape, data.outputs, p)
        self.model.to(self.dev)
        self.opt = model_mod.optimizer(self.model, p)
        # amp and compile (:mod:`.speed`): the training steps' autocast, fp16's GradScaler, the compiled module
        self.amp = p["amp"]
        self.scaler = torch.amp.GradScaler(self.dev.type) if self.amp == "fp16" else None
        self.compiled = speed.compile_model(self.model) if p["compile"] else None
        self.compiled_once = False  # its first call compiles
        # [data] augment (:mod:`.augment`): the training batches' transforms and the run's own RNG stream
        d = tables["data"]
        self.augment = Augmenter(d, data.input_shape, data.name, run.seed) if d.get("augment") else None
        self.sched = schedule.build(self.opt, p)  # stepped once per optimizer step (alone or as a stack's)
        # the runs of a stack that share a data set share its copy on the device
        cache = {} if on_device is None else on_device
        if id(data) not in cache:
            held = (data.x_val, data.y_val) if data.x_val is not None else ()
            cache[id(data)] = tuple(
                t.to(self.dev) for t in (data.x_train, data.y_train, data.x_test, data.y_test, *held)
            )
        self.x_train, self.y_train, self.x_test, self.y_test, *val = cache[id(data)]
        self.x_val: torch.Tensor | None = val[0] if val else None
        self.y_val: torch.Tensor | None = val[1] if val else None
        self.patience, self.min_delta = p["patience"], p["min_delta"]
        self.best_val = math.inf  # early stopping: the lowest validation loss, its step, logging steps since
        self.best_step: int | None = None
        self.waited = 0
        self.stopped_at: int | None = None
        self.grad_hists: dict[str, torch.Tensor] = {}  # the logging step's gradient histograms (histograms)
        self.offset = 0  # steps trained before this process (resume)
        self.resumed: dict[str, Any] | None = None  # the checkpoint it resumes from
        self.bns: list[tuple[str, _BatchNorm]] = [
            (n, m) for n, m in self.model.named_modules() if isinstance(m, _BatchNorm) and m.track_running_stats
        ]
        # BatchNorm layers named as the observed layers are, where they are observed
        names = {id(m): n for n, m in self.observed}
        self.bns = [(names.get(id(m), n), m) for n, m in self.bns]
        self.n_feat = p["stats_features"]
        self.train_mode = model_mod.has_train_mode_layers(self.model)
        self.with_params = [(n, [q for q in m.parameters() if q.requires_grad]) for n, m in self.observed]
        self.with_params = [(n, qs) for n, qs in self.with_params if qs]

    def _loss(self, out: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        return loss_fn(out, y, self.loss, self.task, self.outputs, self.p.get("label_smoothing", 0.0), reduction)

    def evaluate(self, x: torch.Tensor, y: torch.Tensor, train_mode: bool = False) -> tuple[torch.Tensor, ...]:
        """(loss, accuracy) over a set, in eval mode, or in train mode with nothing changed afterwards."""
        model = self.model
        saved = (
            [(m, {k: b.clone() for k, b in m.named_buffers(recurse=False)}) for _, m in self.bns] if train_mode else []
        )
        with (
            torch.random.fork_rng(devices=[self.dev] if self.dev.type == "cuda" else [], enabled=train_mode),
            torch.no_grad(),
        ):
            model.train(train_mode)
            total = torch.zeros((), device=self.dev, dtype=torch.float64)
            correct = torch.zeros((), device=self.dev, dtype=torch.float64)
            for i, j in eval_batches(len(x)):
                xb, yb = x[i:j], y[i:j]
                out = model(xb)
                total += self._loss(out, yb, "sum").double() / (out.shape[1] if self._per_element() else 1)
                if self.task == "classification":
                    correct += (out.argmax(1) == yb).sum()
        for m, buffers in saved:
            for k, b in buffers.items():
                getattr(m, k).copy_(b)
        model.train()
        n = max(1, len(x))
        acc = correct / n if self.task == "classification" else torch.tensor(math.nan, device=self.dev)
        return total / n, acc

    def _per_element(self) -> bool:
        """mse with reduction 'sum' sums over the outputs too; 'mean' divides by them."""
        return self.loss == "mse"

    def train(self, tally: Tally) -> None:
        """Train alone, ``log_every`` steps a chunk, and emit the run's events (see the module docstring)."""
        p = self.p
        n = len(self.x_train)
        self.order = batch_order(self.run.seed, n, min(p["batch"], n), p["shuffle"], self.dev)
        for _ in range(self.offset):  # resumed: the batches the checkpointed steps drew
            next(self.order)
        self.observer = Observer(self.observed, self.bns, self.n_feat, histograms=self.p["histograms"])
        self.first_bad: int | None = None
        self.model.train()
        trained = train_in_chunks(
            self.ctx, p["steps"] - self.offset, p["log_every"], [self._chunk], self._end_chunk, tally
        )
        extra = {"stacked": False, **({"resumed_from_step": self.offset} if self.resumed is not None else {})}
        self.final(self.first_bad, extra)
        self.save_final(self.offset + trained, self.opt.state_dict())

    # --- checkpoints (see :mod:`.checkpoint`) ----------------------------------------------------

    def resume(self, state: dict[str, Any]) -> None:
        """Continue from a final checkpoint: weights, optimizer and scheduler state, RNG, early stopping."""
        if state["step"] >= self.p["steps"]:
            raise ConfigError(
                f"resume: the checkpoint of variant {self.run.variant!r} seed {self.run.seed} is at step "
                f"{state['step']}; steps = {self.p['steps']} leaves nothing to train (give more steps)"
            )
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        if self.sched is not None and state.get("scheduler") is not None:
            self.sched.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        if self.augment is not None and state.get("augment_rng") is not None:
            self.augment.state = state["augment_rng"]
        if self.scaler is not None and state.get("grad_scaler"):
            self.scaler.load_state_dict(state["grad_scaler"])
        stopping = state.get("early_stopping") or {}
        self.best_val = stopping.get("best_val", math.inf)
        self.best_step, self.waited = stopping.get("best_step"), stopping.get("waited", 0)
        self.offset, self.resumed = int(state["step"]), state

    def save_final(self, step: int, optimizer_state: dict[str, Any]) -> None:
        """The final checkpoint (``checkpoint`` final or best) of the weights as they are now, after ``step`` steps."""
        folder = self.ctx.files()
        if self.p["checkpoint"] == "none" or folder is None:
            return
        payload = {
            "variant": self.run.variant,
            "seed": self.run.seed,
            "step": step,
            "params": dict(self.p),
            "model": self.model.state_dict(),
            "optimizer": optimizer_state,
            "scheduler": self.sched.state_dict() if self.sched is not None else None,
            "rng": torch.get_rng_state(),
            "augment_rng": self.augment.state if self.augment is not None else None,
            "grad_scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "early_stopping": {"best_val": self.best_val, "best_step": self.best_step, "waited": self.waited},
        }
        checkpoint.save(folder, checkpoint.file_name(self.slot, self.run.variant, self.run.seed, "final"), payload)

    def _save_best(self, step: int, val_loss: float) -> None:
        folder = self.ctx.files()
        if self.p["checkpoint"] != "best" or folder is None:
            return
        payload = {
            "variant": self.run.variant,
            "seed": self.run.seed,
            "step": step,
            "val_loss": val_loss,
            "params": dict(self.p),
            "model": self.model.state_dict(),
        }
        checkpoint.save(folder, checkpoint.file_name(self.slot, self.run.variant, self.run.seed, "best"), payload)

    def _chunk(self, start: int, n: int) -> StepFn:
        """The loop's lane: buffers for the chunk's losses; its last step is the logging step."""
        self.losses = torch.empty(n, device=self.dev)
        self.hits = torch.empty(n, device=self.dev)
        return lambda i: self._step(i, logging=i == n - 1)

    def _step(self, i: int, logging: bool) -> None:
        idx = next(self.order)
        xb, yb = self.x_train[idx], self.y_train[idx]
        if self.augment is not None:
            xb = self.augment(xb)
        # logging steps run eagerly: their forward hooks observe the layers
        forward = self.model if logging or self.compiled is None else self._compiled
        with speed.autocast(self.dev, self.amp):
            with self.observer if logging else nullcontext():
                out = forward(xb)
            loss = self._loss(out, yb)
        self.opt.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if logging or self.p["grad_clip"] > 0:  # the norms and the clip see the true gradients
                self.scaler.unscale_(self.opt)
        else:
            loss.backward()
        if logging:
            self.grad_norms = [param_norm([q.grad for q in qs if q.grad is not None]) for _, qs in self.with_params]
            self.step_lr = self.lr()
            if self.p["histograms"]:
                self.grad_hists = {
                    name: histogram(torch.cat([q.grad.flatten() for q in qs if q.grad is not None]))
                    for name, qs in self.with_params
                    if any(q.grad is not None for q in qs)
                }
        if self.p["grad_clip"] > 0:  # after the logged norms: they show the gradient as computed
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.p["grad_clip"])
        if self.scaler is not None:  # skips the step where the scaled gradients overflowed
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            self.opt.step()
        if self.sched is not None:
            self.step_schedule()
        self.losses[i] = loss.detach()
        if self.task == "classification":
            self.hits[i] = (out.detach().argmax(1) == yb).sum() / len(yb)

    def _compiled(self, xb: torch.Tensor) -> torch.Tensor:
        """The compiled module's forward; the compiler's failure at its first call as one line."""
        assert self.compiled is not None
        if self.compiled_once:
            return self.compiled(xb)
        try:
            out = self.compiled(xb)
        except Exception as exc:  # the model ran eagerly before (its dry forward): this is the compiler's
            raise speed.compile_failure(exc) from None
        self.compiled_once = True
        return out

    def lr(self) -> float:
        """The lr of the next optimizer step (the schedule's)."""
        return float(self.opt.param_groups[0]["lr"])

    def step_schedule(self) -> None:
        """One step of the lr schedule (after an optimizer step)."""
        assert self.sched is not None
        self.sched.step()

    def _end_chunk(self, start: int, n: int) -> int:
        """The chunk's events; 1 when its loss turned non-finite (the run stops), else 0."""
        hits = self.hits if self.task == "classification" else None
        bad = self.log_chunk(
            self.offset + start + n,
            self.losses,
            hits,
            self.grad_norms,
            self.observer.stats,
            self.observer.bn_inputs,
            self.step_lr,
            hists={"activations": self.observer.hists, "gradients": self.grad_hists},
        )
        if bad is None:
            return 0 if self.stopped_at is None else 1
        self.first_bad = self.offset + start + 1 + bad
        return 1

    def log_chunk(
        self,
        step: int,
        losses: torch.Tensor,
        hits: torch.Tensor | None,
        grad_norms: list[torch.Tensor],
        stats: dict[str, torch.Tensor],
        bn_inputs: dict[str, torch.Tensor],
        lr: float | None = None,
        hists: dict[str, dict[str, torch.Tensor]] | None = None,
    ) -> int | None:
        """The events of a chunk whose logging step is ``step``; returns the index in the chunk of the first
        non-finite loss, or None.

        ``losses`` and ``hits`` (the share of correct predictions, classification only) hold every
        step of the chunk; ``grad_norms`` the logging step's per-layer gradient norms (in the order
        of :attr:`with_params`); ``stats`` its layer statistics and ``bn_inputs`` its BatchNorm inputs
        (see :class:`~regtui.engine.custom.observe.Observer`), by layer name; ``lr`` the logging step's
        learning rate (a metric where the run has a schedule); ``hists`` (with ``histograms``) the
        :func:`~regtui.engine.custom.observe.histogram` of each layer's ``activations`` and
        ``gradients`` at that step, by layer name (its weights' are taken here, after the step).
        """
        run = self.run
        scalars: dict[str, torch.Tensor] = {}
        test_loss, test_acc = self.evaluate(self.x_test, self.y_test)
        scalars["test_loss"] = test_loss
        if self.x_val is not None and self.y_val is not None:
            scalars["val_loss"] = self.evaluate(self.x_val, self.y_val)[0]
        if hits is not None:
            scalars["test_accuracy"] = test_acc
        if self.train_mode:
            tl, ta = self.evaluate(self.x_test, self.y_test, train_mode=True)
            scalars["test_loss_train_mode"] = tl
            if hits is not None:
                scalars["test_accuracy_train_mode"] = ta
        for (name, qs), g in zip(self.with_params, grad_norms):
            scalars[f"weight_norm/{name}"] = param_norm(qs)
            scalars[f"grad_norm/{name}"] = g
        names = [n for n, _ in self.observed]
        layers = [stats.get(n, torch.full((2,), math.nan, dtype=torch.float64)) for n in names]
        bn_parts = []
        for name, m in self.bns:
            batch_stats = bn_inputs.get(name)
            mean, var = running(m)
            k = min(self.n_feat, mean.numel())
            if batch_stats is None:
                batch_stats = torch.full((k, 2), math.nan, dtype=torch.float64)
            bn_parts.append(torch.cat([torch.stack([mean[:k], var[:k]], 1).double(), batch_stats.to(self.dev)], 1))
        histograms = self._histograms(hists) if self.p["histograms"] else []
        # one host transfer for everything of this logging step
        flat = (
            torch.cat(
                [
                    losses.double(),
                    hits.double() if hits is not None else torch.empty(0, dtype=torch.float64, device=self.dev),
                    torch.stack([s.double().to(self.dev) for s in scalars.values()])
                    if scalars
                    else torch.empty(0, dtype=torch.float64, device=self.dev),
                    torch.stack(layers).to(self.dev).flatten()
                    if layers
                    else torch.empty(0, dtype=torch.float64, device=self.dev),
                    *(b.flatten() for b in bn_parts),
                    *(h.to(self.dev) for _, _, h in histograms),
                ]
            )
            .cpu()
            .tolist()
        )
        k = len(losses)
        chunk_losses, flat = flat[:k], flat[k:]
        values: dict[str, tuple[float, ...]] = {"train_loss": (_mean(chunk_losses),)}
        if hits is not None:
            values["train_accuracy"] = (_mean(flat[:k]),)
            flat = flat[k:]
        for key in scalars:
            values[key], flat = (flat[0],), flat[1:]
        if self.sched is not None and lr is not None:
            values["lr"] = (lr,)
        if "val_loss" in values:
            self._watch(step, values["val_loss"][0])
        self.ctx.emit(Metrics(run.variant, run.seed, (step,), values))
        means, stds = flat[0 : 2 * len(layers) : 2], flat[1 : 2 * len(layers) : 2]
        flat = flat[2 * len(layers) :]
        first = next(
            (i + 1 for i, (a, b) in enumerate(zip(means, stds)) if not (math.isfinite(a) and math.isfinite(b))), None
        )
        if stats:
            self.ctx.emit(
                LayerStats(run.variant, run.seed, tuple(means), tuple(stds), first, step=step, names=tuple(names))
            )
        rows = []
        for name, m in self.bns:
            for f in range(min(self.n_feat, running(m)[0].numel())):
                rm, rv, bm, bv = flat[:4]
                flat = flat[4:]
                rows.append((run.variant, run.seed, step, name, f + 1, rm, rv, bm, bv))
        if rows:
            self.ctx.emit(
                TableRows("running_stats", RUNNING_COLUMNS, tuple(rows), key=("variant", "seed", "layer", "feature"))
            )
        width = len(HIST_COLUMNS) - 5
        rows = [
            (run.variant, run.seed, step, name, of, *flat[i * width : (i + 1) * width])
            for i, (name, of, _) in enumerate(histograms)
        ]
        if rows:
            self.ctx.emit(TableRows("histograms", HIST_COLUMNS, tuple(rows), key=("variant", "seed", "layer", "of")))
        return first_nonfinite(chunk_losses)

    def _histograms(self, hists: dict[str, dict[str, torch.Tensor]] | None) -> list[tuple[str, str, torch.Tensor]]:
        """(layer, of, histogram) of every observed layer's weights (now), gradients and activations."""
        hists = hists or {}
        weights = {name: histogram(torch.cat([q.detach().flatten() for q in qs])) for name, qs in self.with_params}
        out = []
        for name, _ in self.observed:
            for of, found in (
                ("weights", weights),
                ("gradients", hists.get("gradients", {})),
                ("activations", hists.get("activations", {})),
            ):
                if name in found:
                    out.append((name, of, found[name]))
        return out

    def _watch(self, step: int, val_loss: float) -> None:
        """Early stopping: a validation loss below the best by more than ``min_delta`` is the new best;
        ``patience`` logging steps without one stop the run here (:attr:`stopped_at`)."""
        if val_loss < self.best_val - self.min_delta:
            self.best_val, self.best_step, self.waited = val_loss, step, 0
            self._save_best(step, val_loss)
            return
        self.waited += 1
        if self.patience and self.waited >= self.patience:
            self.stopped_at = step

    def final(self, first_bad: int | None, extra: dict[str, Any] | None = None) -> None:
        """The run's ``Final`` event: every set evaluated whole; ``first_bad`` is the first non-finite step."""
        run = self.run
        found: dict[str, torch.Tensor] = {}
        found["train_loss"], found["train_accuracy"] = self.evaluate(self.x_train, self.y_train)
        if self.x_val is not None and self.y_val is not None:  # what chooses a sweep's best point
            found["val_loss"], found["val_accuracy"] = self.evaluate(self.x_val, self.y_val)
        found["test_loss"], found["test_accuracy"] = self.evaluate(self.x_test, self.y_test)
        if self.train_mode:
            found["test_loss_train_mode"], found["test_accuracy_train_mode"] = self.evaluate(
                self.x_test, self.y_test, train_mode=True
            )
        found["weight_norm"] = param_norm(list(self.model.parameters()))
        if self.task != "classification":
            found = {k: v for k, v in found.items() if "accuracy" not in k}
        values: dict[str, Any] = {
            k: float(v)
            for k, v in zip(found, torch.stack([v.double().to(self.dev) for v in found.values()]).cpu().tolist())
        }
        values["generalization_gap"] = values["test_loss"] - values["train_loss"]
        values.update(
            {
                "parameters": sum(q.numel() for q in self.model.parameters()),
                "train_size": len(self.x_train),
                "val_size": len(self.x_val) if self.x_val is not None else 0,
                "test_size": len(self.x_test),
                "diverged": first_bad is not None,
                "first_nonfinite_step": first_bad,
                **self._validation_finals(),
                **(extra or {}),
            }
        )
        self.ctx.emit(Final(run.variant, run.seed, values))

    def _validation_finals(self) -> dict[str, Any]:
        """Where early stopping stopped the run (None: it trained every step) and its best validation loss."""
        if self.x_val is None:
            return {}
        out: dict[str, Any] = {"val_size": len(self.x_val), "best_val_step": self.best_step}
        out["best_val_loss"] = self.best_val if self.best_step is not None else None
        if self.patience:
            out["early_stopped"] = self.stopped_at is not None
            out["stopped_at_step"] = self.stopped_at
        return out


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan
