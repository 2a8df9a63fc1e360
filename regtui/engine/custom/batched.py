"""Several runs of one ``train`` plan trained together, as one stacked model.

The runs of a plan often share everything but a seed or a hyperparameter: seeds of a
variant, variants that change ``weight_decay`` or the dropout p, sweep points of ``lr``.
One such model at a time spends most of its time in per-op overhead (on the digits MLP
on a 2-core CPU, about 0.9 ms a step, most of it ``torch.optim.Adam``'s per-tensor loop
and autograd's per-op cost, not arithmetic). A *stack* trains M of them with one op per
layer instead of M:

- every ``nn.Linear`` of the M models becomes one weight ``[M, in, out]`` and one bias
  ``[M, 1, out]`` (leaf tensors; model m's slice is exactly its own init), the forward is
  ``torch.baddbmm`` per Linear and the module itself for elementwise layers (on
  ``[M, batch, features]``), gradients come from autograd (``torch.autograd.grad`` of
  the sum of the M losses: model m's loss only reaches model m's slices);
- the update is torch.optim's own fused kernel (``torch._fused_adam_``,
  ``_fused_adamw_``, ``_fused_sgd_``; the arithmetic of ``Adam``/``AdamW``/``SGD``
  with weight_decay, momentum, betas, eps 1e-8), one call per set of models sharing
  (lr, momentum or betas, weight_decay, nesterov, schedule), over their slices (``grad_clip``:
  each model's gradients scaled as ``clip_grad_norm_`` would, before the update); with a ``schedule``
  each such set steps one ``torch.optim.lr_scheduler`` (its first model's, :mod:`.schedule`)
  and its update takes that scheduler's lr — the stacked update the
  lesson MLPs use too (:mod:`regtui.engine.stack_optim`); so models may differ in
  those, in ``decay_norm_and_bias``, ``label_smoothing`` and the dropout p;
- model m draws its mini-batches from its own ``batch_order`` (its seed) and its own
  data (the split of its seed): the batches are gathered as ``[M, batch, …]``;
- nothing mixes across the model axis, so a model whose loss becomes inf/NaN cannot
  touch another; it is reported (``first_nonfinite_step``) and its events stop as they
  would alone, while the others go on.

Measured against ``torch.func`` (``functional_call`` + ``vmap(grad(...))`` over stacked
parameters, same fused update): the bmm stack was faster (digits MLP, 8 models, batch
32: ≈ 310 vs 420 µs a model-step on 1 thread, 200 vs 350 on 2), as the built-in
lessons found; a hand-written backward gained only ≈ 10 % more and is not used.

**Which runs stack** and why others train alone: :mod:`.stackable`.

**Equal to the one-at-a-time path**: the same init per seed (each model is built by the
same code after ``torch.manual_seed(seed)``), the same mini-batches, torch.optim's
update: without dropout, a run's numbers agree with its one-at-a-time run to float
rounding (bmm and the fused kernels sum in another order). **Dropout** masks are drawn
per model from its own generator (seeded with its seed, so they do not depend on the
other models of the stack) as ``uniform >= p`` scaled by ``1/(1 - p)``: the same
distribution as ``nn.Dropout``'s Bernoulli draws, but not the same draws, so a dropout
run's numbers differ from its one-at-a-time run like another seed's would (``p = 0``
draws nothing). Each run's ``Final`` says ``stacked`` (true/false) and
``Summary("stacking")`` lists the stacks. The same plan gives the same numbers every time.

Steps are trained in chunks of ``log_every`` by the loop every engine uses
(:func:`regtui.engine.loop.train_in_chunks`). Logging steps are rare: there, each model's
slices are copied into its own module, and the one-at-a-time code
(:meth:`~regtui.engine.custom.model_run.ModelRun.log_chunk` and ``final``) evaluates it and
emits its events, so the events are the same kinds and shapes; the layer statistics
come from the stacked forward of that step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from regtui.engine.context import Context
from regtui.engine.custom import speed
from regtui.engine.custom.model_run import ModelRun, batch_order
from regtui.engine.custom.observe import histogram, stacked_layer_stats
from regtui.engine.custom.schedule import schedule_key
from regtui.engine.decay_groups import skips_decay
from regtui.engine.loop import StepFn, Tally, train_in_chunks
from regtui.engine.measures import stacked_norm
from regtui.engine.stack_optim import Key, StackedOptimizer

DROPOUT_SALT = 0xD80


def update_key(p: dict[str, Any], no_decay: bool) -> Key:
    """A stacked tensor's optimizer hyperparameters for one run (``no_decay``: a parameter weight decay may skip)."""
    wd = 0.0 if no_decay and not p["decay_norm_and_bias"] else float(p["weight_decay"])
    if p["optimizer"] == "sgd":
        return (float(p["lr"]), float(p["momentum"]), wd, float(p["nesterov"]), *schedule_key(p))
    return (float(p["lr"]), float(p["beta1"]), float(p["beta2"]), wd, *schedule_key(p))


class Stack:
    """M runs (built by :class:`ModelRun`, so each holds its own module, data and init) trained as one."""

    def __init__(self, runs: list[ModelRun]) -> None:
        self.runs = list(runs)
        self.m = len(runs)
        first = runs[0]
        self.dev, self.p, self.task = first.dev, first.p, first.task
        model = first.model
        assert isinstance(model, nn.Sequential)
        self.layers: list[nn.Module] = list(model)
        self.names = [n for n, _ in first.observed]
        self._stack_linears()
        self.update = self._optimizer()
        clips = [float(r.p["grad_clip"]) or math.inf for r in runs]  # per model; 0 (off): never scaled
        self.clip = None if all(c == math.inf for c in clips) else torch.tensor(clips, device=self.dev)
        self._dropout_masks()
        self._training_data()

    def _stack_linears(self) -> None:
        """Every Linear of the M models as one weight [M, in, out] and one bias [M, 1, out] (leaf tensors)."""
        self.weights: list[torch.Tensor] = []
        self.biases: list[torch.Tensor | None] = []
        self.linear_of: dict[int, int] = {}  # layer index -> Linear index
        with torch.no_grad():
            for k, layer in enumerate(self.layers):
                if isinstance(layer, nn.Linear):
                    self.linear_of[k] = len(self.weights)
                    mods = [_layer(r, k) for r in self.runs]
                    self.weights.append(torch.stack([x.weight.t() for x in mods]).contiguous().requires_grad_())
                    self.biases.append(
                        torch.stack([x.bias for x in mods]).unsqueeze(1).contiguous().requires_grad_()
                        if layer.bias is not None
                        else None
                    )
        self.with_params = [(n, self.linear_of[k]) for k, n in enumerate(self.names) if k in self.linear_of]

    def _optimizer(self) -> StackedOptimizer:
        """The stacked update of :attr:`params`, each run with its own hyperparameters (biases maybe undecayed)."""
        self.params: list[torch.Tensor] = []
        self.param_of: list[tuple[int, str]] = []  # per stacked tensor: its (layer index, "weight" or "bias")
        no_decay: list[bool] = []  # per stacked tensor: one that decay_norm_and_bias = false leaves alone
        for k, j in self.linear_of.items():
            self.params.append(self.weights[j])
            self.param_of.append((k, "weight"))
            no_decay.append(skips_decay(self.layers[k], "weight"))
            bias = self.biases[j]
            if bias is not None:
                self.params.append(bias)
                self.param_of.append((k, "bias"))
                no_decay.append(skips_decay(self.layers[k], "bias"))
        keys = [[update_key(r.p, skip) for r in self.runs] for skip in no_decay]
        update = StackedOptimizer(self.p["optimizer"], self.params, keys)
        # a schedule: per key, the scheduler of a model that has it (the same lr sequence as the key's others)
        self.scheduled = sorted({m for m in update.group_models if self.runs[m].sched is not None})
        for m in self.scheduled:  # a step without gradients changes nothing, and its scheduler knows
            self.runs[m].opt.step()  # the optimizer stepped (else it warns that it did not)
        self.group_models = update.group_models
        self.lr_model = [0] * self.m  # per model: the model whose scheduler gives its lr (its key's, tensor 0)
        for g, entries in enumerate(update.slices):
            for i, start, end in entries:
                if i == 0:
                    self.lr_model[start:end] = [update.group_models[g]] * (end - start)
        return update

    def _dropout_masks(self) -> None:
        """Per Dropout layer, every model's p; masks come from each model's own generator."""
        self.dropout: dict[int, tuple[list[float], torch.Tensor, torch.Tensor]] = {}
        for k, layer in enumerate(self.layers):
            if isinstance(layer, nn.Dropout):
                ps = [float(_layer(r, k).p) for r in self.runs]
                if any(x > 0 for x in ps):
                    col = torch.tensor(ps, device=self.dev).view(self.m, 1, 1)
                    scale = torch.tensor([1 / (1 - x) for x in ps], device=self.dev).view(self.m, 1, 1)
                    self.dropout[k] = (ps, col, scale)
        self.generators = []
        if self.dropout:
            for r in self.runs:
                g = torch.Generator(device=self.dev)
                g.manual_seed(r.run.seed ^ DROPOUT_SALT)
                self.generators.append(g)

    def _training_data(self) -> None:
        """The training data of every model, gathered by one index op per step (distinct sets concatenated)."""
        xs: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        slot = []
        for r in self.runs:
            key = id(r.x_train)
            if key not in xs:
                xs[key] = (r.x_train, r.y_train)
            slot.append(list(xs).index(key))
        first = self.runs[0]
        self.n = n = len(first.x_train)
        if len(xs) == 1:
            self.x_all, self.y_all = first.x_train, first.y_train
            self.offsets: torch.Tensor | None = None
        else:
            self.x_all = torch.cat([x for x, _ in xs.values()])
            self.y_all = torch.cat([y for _, y in xs.values()])
            self.offsets = (torch.tensor(slot, device=self.dev) * n).view(self.m, 1)

    # --- one step ------------------------------------------------------------------------------

    def _mask(self, k: int, a: torch.Tensor) -> torch.Tensor:
        ps, col, scale = self.dropout[k]
        noise = torch.empty_like(a)
        for i, (p, g) in enumerate(zip(ps, self.generators)):
            if p > 0:
                noise[i].uniform_(generator=g)
            else:
                noise[i].fill_(1.0)
        return noise.ge_(col).mul_(scale)

    def forward(self, x: torch.Tensor, observe: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Train-mode forward of ``x`` [M, batch, …] → [M, batch, outputs]; with ``observe``, per layer [M, 2] stats."""
        stats: list[torch.Tensor] = []
        a = x
        for k, layer in enumerate(self.layers):
            j = self.linear_of.get(k)
            if j is not None:
                b = self.biases[j]
                a = torch.baddbmm(b, a, self.weights[j]) if b is not None else torch.bmm(a, self.weights[j])
            elif isinstance(layer, nn.Flatten):
                a = a.flatten(2)
            elif isinstance(layer, nn.Dropout):
                if k in self.dropout:
                    a = a * self._mask(k, a)
            else:
                a = layer(a)
            if observe:
                stats.append(stacked_layer_stats(a))
                if self.p["histograms"]:
                    self.act_hists.append([histogram(a[i]) for i in range(self.m)])
        return a, stats

    def losses_of(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """[M] mean losses of the batch, as :func:`.model_run.loss_fn` gives each model."""
        first = self.runs[0]
        m, b = out.shape[0], out.shape[1]
        if first.loss == "cross_entropy":
            smoothing = [r.p["label_smoothing"] for r in self.runs]
            if len(set(smoothing)) == 1:
                per = F.cross_entropy(
                    out.reshape(m * b, -1), y.reshape(m * b), label_smoothing=smoothing[0], reduction="none"
                )
                return per.view(m, b).mean(1)
            logp = F.log_softmax(out, 2)
            nll = -logp.gather(2, y.unsqueeze(2)).squeeze(2)
            eps = torch.tensor(smoothing, device=out.device, dtype=out.dtype).view(m, 1)
            return ((1 - eps) * nll - eps * logp.mean(2)).mean(1)
        target = F.one_hot(y, first.outputs).to(out.dtype) if self.task == "classification" else y
        return (out - target).square().flatten(1).mean(1)

    # --- training ------------------------------------------------------------------------------

    def train(self, ctx: Context, tally: Tally) -> None:
        """Train every model ``steps`` steps, ``log_every`` a chunk; at each chunk's end every model still
        training logs its chunk as it would alone, and a model whose loss turned inf/NaN stops there."""
        p = self.p
        batch = min(p["batch"], self.n)
        self.orders = [batch_order(r.run.seed, self.n, batch, p["shuffle"], self.dev) for r in self.runs]
        self.active = [True] * self.m
        end = train_in_chunks(ctx, p["steps"], p["log_every"], [self._chunk], self._end_chunk, tally, models=self.m)
        for k, r in enumerate(self.runs):
            if self.active[k]:
                with self._rng(r, end):
                    r.final(None, {"stacked": True})
                r.save_final(end, self._optimizer_state(k))

    def _chunk(self, start: int, n: int) -> StepFn:
        """The loop's lane: buffers for the chunk's [step, model] losses; its last step is the logging step."""
        self.losses = torch.empty(n, self.m, device=self.dev)
        self.hits = torch.empty(n, self.m, device=self.dev)
        return lambda i: self._step(i, logging=i == n - 1)

    def _step(self, i: int, logging: bool) -> None:
        idx = torch.stack([next(o) for o in self.orders])
        if self.offsets is not None:
            idx = idx + self.offsets
        xb, yb = self.x_all[idx], self.y_all[idx]
        if self.runs[0].augment is not None:  # each model's batch with its own draws, as alone
            xb = torch.stack([r.augment(xb[k]) for k, r in enumerate(self.runs) if r.augment is not None])
        self.act_hists: list[list[torch.Tensor]] = []  # per layer, per model (logging steps with histograms)
        with speed.autocast(self.dev, self.p["amp"]):
            out, stats = self.forward(xb, logging)
            loss = self.losses_of(out, yb)
        grads = torch.autograd.grad(loss.sum(), self.params)
        if logging:
            self.stats = stats
            self.grad_norms = self._grad_norms(grads)
            self.step_lrs = [self.runs[self.lr_model[k]].lr() for k in range(self.m)]
            self.grad_hists = self._grad_histograms(grads) if self.p["histograms"] else []
        if self.clip is not None:
            self._clip(grads)
        if self.scheduled:
            self.update.step(grads, [self.runs[m].lr() for m in self.group_models])
            for m in self.scheduled:
                self.runs[m].step_schedule()
        else:
            self.update.step(grads)
        self.losses[i] = loss.detach()
        if self.task == "classification":
            self.hits[i] = (out.detach().argmax(2) == yb).sum(1) / yb.shape[1]

    def _grad_histograms(self, grads: Sequence[torch.Tensor]) -> list[list[torch.Tensor]]:
        """Per Linear, per model: the histogram of its weight and bias gradients (as the model's own layer's)."""
        out, i = [], 0
        for b in self.biases:
            n = 1 if b is None else 2
            parts = grads[i : i + n]
            out.append([histogram(torch.cat([g[k].flatten() for g in parts])) for k in range(self.m)])
            i += n
        return out

    @torch.no_grad()
    def _clip(self, grads: Sequence[torch.Tensor]) -> None:
        """``clip_grad_norm_`` per model: its gradients scaled by min(1, grad_clip / (total norm + 1e-6))."""
        assert self.clip is not None
        coef = (self.clip / (stacked_norm(grads) + 1e-6)).clamp_(max=1.0)
        for g in grads:
            g.mul_(coef.view(-1, *[1] * (g.dim() - 1)))

    def _end_chunk(self, start: int, n: int) -> int:
        """Each active model logs the chunk from its own module; returns how many stopped (non-finite loss)."""
        step = start + n
        classification = self.task == "classification"
        self._sync()
        stopped = 0
        for k, r in enumerate(self.runs):
            if not self.active[k]:
                continue
            with self._rng(r, step):
                bad = r.log_chunk(
                    step,
                    self.losses[:, k],
                    self.hits[:, k] if classification else None,
                    [self.grad_norms[j][k] for _, j in self.with_params],
                    {name: s[k] for name, s in zip(self.names, self.stats)},
                    {},
                    self.step_lrs[k],
                    hists={
                        "activations": {name: h[k] for name, h in zip(self.names, self.act_hists)},
                        "gradients": {name: h[k] for (name, _), h in zip(self.with_params, self.grad_hists)},
                    },
                )
            if bad is not None or r.stopped_at is not None:  # diverged, or early stopping stopped it
                self.active[k] = False
                stopped += 1
                with self._rng(r, step):
                    r.final(None if bad is None else start + 1 + bad, {"stacked": True})
                r.save_final(step, self._optimizer_state(k))
        return stopped

    @torch.no_grad()
    def _optimizer_state(self, k: int) -> dict[str, Any]:
        """Model k's optimizer state as its own ``torch.optim`` optimizer's ``state_dict()`` (for a checkpoint)."""
        r = self.runs[k]
        if r.p["checkpoint"] == "none":
            return {}
        bufs = self.update.buffers
        names = ["momentum_buffer"] if self.p["optimizer"] == "sgd" else ["exp_avg", "exp_avg_sq"]
        for j, (layer, name) in enumerate(self.param_of):
            q = getattr(_layer(r, layer), name)
            own = [b[j][k].t() if name == "weight" else b[j][k, 0] for b in bufs]
            state: dict[str, Any] = {n: t.clone() for n, t in zip(names, own)}
            if self.p["optimizer"] != "sgd":
                state["step"] = torch.tensor(float(self.update.steps))
            elif not r.p["momentum"]:
                continue  # torch.optim.SGD keeps no state without momentum
            r.opt.state[q] = state
        lead = self.runs[self.lr_model[k]]  # the model whose scheduler stepped for its key
        if lead is not r and r.sched is not None and lead.sched is not None:
            r.sched.load_state_dict(lead.sched.state_dict())
            for group in r.opt.param_groups:
                group["lr"] = lead.lr()
        return r.opt.state_dict()

    @contextmanager
    def _rng(self, r: ModelRun, step: int) -> Iterator[None]:
        """The global RNG, seeded for this model and step, for its train-mode evaluation (restored afterwards).

        Alone, that evaluation draws its dropout masks from the RNG training left; in a
        stack the global RNG is not the model's, so it is seeded from the model's seed and
        the step: the numbers do not depend on the other models of the stack.
        """
        with torch.random.fork_rng(devices=[self.dev] if self.dev.type == "cuda" else []):
            torch.manual_seed((r.run.seed ^ DROPOUT_SALT) + (step << 24))
            yield

    def _grad_norms(self, grads: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Per Linear, [M] L2 norms of its weight and bias gradients (as :func:`~regtui.engine.measures.param_norm`)."""
        out = []
        i = 0
        for b in self.biases:
            n = 1 if b is None else 2  # the Linear's weight (and bias) gradients
            out.append(stacked_norm(grads[i : i + n]))
            i += n
        return out

    @torch.no_grad()
    def _sync(self) -> None:
        """Copy every model's slices into its own module (for evaluation and the norms)."""
        for k, j in self.linear_of.items():
            w, b = self.weights[j], self.biases[j]
            for i, r in enumerate(self.runs):
                mod = _layer(r, k)
                mod.weight.copy_(w[i].t())
                if b is not None:
                    mod.bias.copy_(b[i, 0])


def _layer(r: ModelRun, k: int) -> Any:
    """Layer ``k`` of a run's (sequential) model."""
    return list(r.model.children())[k]
