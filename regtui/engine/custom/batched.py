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
  (lr, momentum or betas, weight_decay), over their slices; so models may differ in
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

**Eligible** (:func:`unsupported` says why not): an ``nn.Sequential`` (a layer list, or a
factory's) of ``Linear``, ``Flatten``, ``Dropout`` and elementwise activations (ReLU,
GELU, Tanh, Sigmoid, SiLU, LeakyReLU, ELU, Identity), float32 parameters that all
require grad, a Linear only on flat features, on the CPU or CUDA. Convolutions, pooling
and every normalization layer (BatchNorm's running statistics above all) train one at a
time. Runs stack when they share the data and training parameters (:data:`SHARED`).
``stack_runs = "auto"`` stacks 2 to 8 such runs on the CPU (more on a GPU) when a step is
cheap enough to gain (:data:`CPU_MAX_FLOP`: stacking saves per-op overhead, not
arithmetic); ``"on"`` stacks whatever is eligible, even one run; ``"off"`` never.

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

Logging steps are rare: there, each model's slices are copied into its own module, and
the one-at-a-time code (:class:`~regtui.engine.custom.train._Run`) evaluates it and
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
from regtui.engine.custom.train import _Observer, _Run, batch_order
from regtui.engine.measures import stacked_norm
from regtui.engine.sgd import sgd_update
from regtui.events import RunSpec

ELEMENTWISE = (nn.ReLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.LeakyReLU, nn.ELU, nn.Identity)
# Parameters the runs of one stack must share (the others may differ per model).
SHARED = (
    "optimizer",
    "loss",
    "batch",
    "steps",
    "log_every",
    "shuffle",
    "train_size",
    "test_size",
    "test_fraction",
    "norm",
    "norm_groups",
    "stats_features",
)
# auto stacks on the CPU only models whose step is at most this much arithmetic (6 · batch · Σ in·out):
# measured (1 thread, 4 models): 16 MFLOP 1.9x, 60-230 MFLOP 1.2-1.4x, 860 MFLOP 1.05x, 2 GFLOP ≈ 1x or worse
# (bmm is no faster than mm once the matmuls dominate; only the per-op overhead is saved).
CPU_MAX_FLOP = 500e6
DROPOUT_SALT = 0xD80
STACKED_DATA_BYTES = 512 << 20  # the concatenated training sets of a stack's distinct seeds, at most
EPS = 1e-8  # torch.optim.Adam/AdamW's default eps


def stack_limit(device: torch.device) -> int:
    """Most models in one stack.

    Measured on the 2-core CPU (digits MLP 64-256-256-10, Adam, batch 32, 1 thread, a
    loaded machine): ≈ 1100 µs a model-step stacked by 2, 940 by 4, 630 by 8, 860 by 16,
    whose parameters, gradients and Adam state (≈ 22 MB) leave the cache; so 8. On a GPU
    (not measured here) per-launch overhead dominates longer, so more.
    """
    return 8 if device.type == "cpu" else 64


def shared_key(p: dict[str, Any]) -> tuple[Any, ...] | None:
    """What runs must share to be stacked; None: the run trains alone (``stack_runs = "off"``)."""
    if p.get("stack_runs", "auto") == "off":
        return None
    return tuple(p[k] for k in SHARED)


def plan_stacks(runs: Sequence[RunSpec], device: torch.device) -> list[list[int]]:
    """The plan's runs as units in training order: lists of run indices (a stack, or one run alone).

    Runs with the same :func:`shared_key` form a group, split evenly into stacks of at most
    :func:`stack_limit` (see :func:`stacked`). Units come in the order of their first run.
    """
    if device.type not in ("cpu", "cuda"):
        return [[i] for i in range(len(runs))]
    groups: dict[tuple[Any, ...], list[int]] = {}
    units: list[list[int]] = []
    for i, r in enumerate(runs):
        key = shared_key(r.params)
        if key is None:
            units.append([i])
        else:
            if key not in groups:
                groups[key] = []
                units.append(groups[key])  # filled in place; split below
            groups[key].append(i)
    limit = stack_limit(device)
    out: list[list[int]] = []
    for unit in units:
        n = len(unit)
        pieces = max(1, math.ceil(n / limit))
        size = math.ceil(n / pieces)
        out += [unit[start : start + size] for start in range(0, n, size)]
    return out


def stacked(runs: Sequence[RunSpec]) -> bool:
    """Whether a unit of :func:`plan_stacks` is trained as a stack (two runs or more, or one that asks)."""
    return len(runs) >= 2 or runs[0].params.get("stack_runs") == "on"


# --- eligibility ------------------------------------------------------------------------------


def unsupported(model: nn.Module, input_shape: tuple[int, ...], device: torch.device) -> str | None:
    """Why this model cannot be stacked, or None."""
    if device.type not in ("cpu", "cuda"):
        return f"stacking runs on the CPU or CUDA, not {device.type}"
    if type(model) is not nn.Sequential:
        return f"the model is a {type(model).__name__}, not an nn.Sequential"
    for q in model.parameters():
        if q.dtype != torch.float32 or not q.requires_grad:
            return "a parameter is not a float32 tensor that requires grad"
    shape = tuple(input_shape)
    for i, m in enumerate(model.children()):
        kind = type(m)
        if isinstance(m, nn.Linear) and kind is nn.Linear:
            if len(shape) != 1:
                return f"layer {i} is a Linear on {len(shape)}-d inputs"
            shape = (int(m.out_features),)
        elif isinstance(m, nn.Flatten) and kind is nn.Flatten:
            if (m.start_dim, m.end_dim) != (1, -1):
                return f"layer {i} is a Flatten of dims {m.start_dim}..{m.end_dim}"
            shape = (math.prod(shape),)
        elif kind is nn.Dropout or kind in ELEMENTWISE:
            pass
        else:
            return f"{kind.__name__} layers train one at a time"
    if any(True for _ in model.buffers()):
        return "the model has buffers"
    return None


def why_alone(first: _Run, specs: Sequence[RunSpec]) -> str | None:
    """Why a unit of :func:`plan_stacks` trains one run at a time (``first`` is its first run, built), or None."""
    p = first.p
    if not stacked(specs):
        if shared_key(p) is None:
            return "stack_runs = off"
        if first.dev.type not in ("cpu", "cuda"):
            return f"stacking runs on the CPU or CUDA, not {first.dev.type}"
        return "no other run shares its model, data and training parameters"
    why = unsupported(first.model, tuple(first.x_train.shape[1:]), first.dev)
    if why is not None:
        return why
    flop = step_flop(first.model, min(p["batch"], len(first.x_train)))
    if first.dev.type == "cpu" and flop > CPU_MAX_FLOP and any(r.params.get("stack_runs") != "on" for r in specs):
        return f"a step is too much arithmetic to gain from stacking ({flop / 1e6:.0f} MFLOP; auto stacks up to 500)"
    seeds = len({r.seed for r in specs})
    size = first.x_train.element_size() * first.x_train.numel() + first.y_train.element_size() * first.y_train.numel()
    if seeds > 1 and seeds * size > STACKED_DATA_BYTES:
        return f"the training sets of {seeds} seeds are too large to stack ({seeds * size / 2**20:.0f} MB)"
    return None


def step_flop(model: nn.Module, batch: int) -> float:
    """Multiply-adds ×2 of a training step's matmuls (forward and the two backward products)."""
    return 6.0 * batch * sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear))


def mismatch(runs: Sequence[_Run]) -> str | None:
    """Why the built models of a unit cannot be stacked after all (different architectures or data), or None."""
    first = runs[0]
    sig = signature(first.model)
    for r in runs[1:]:
        if signature(r.model) != sig:
            return "the factory gave different architectures"
        if r.x_train.shape != first.x_train.shape or r.y_train.shape != first.y_train.shape:
            return "the training sets differ in size"
    return None


def signature(model: nn.Module) -> list[Any]:
    """The architecture (dropout p excluded): equal signatures stack."""
    out: list[Any] = []
    for m in model.children():
        if isinstance(m, nn.Dropout):
            out.append("dropout")
            continue
        attrs = {k: v for k, v in vars(m).items() if not k.startswith("_") and k not in ("training", "inplace")}
        out.append((type(m).__name__, sorted(attrs.items()), [tuple(q.shape) for q in m.parameters()]))
    return out


# --- the stacked optimizer --------------------------------------------------------------------


class _Update:
    """torch.optim's update of the stacked parameters: one fused call per set of models sharing hyperparameters."""

    def __init__(self, params: list[torch.Tensor], is_bias: list[bool], runs: Sequence[dict[str, Any]]) -> None:
        m = len(runs)
        self.kind = runs[0]["optimizer"]
        self.params = params
        self.steps = 0
        self.step_t = torch.zeros((), dtype=torch.float32, device=params[0].device)
        # key -> [(tensor index, first model, end model)]
        members: dict[tuple[float, ...], list[tuple[int, int, int]]] = {}
        for i, bias in enumerate(is_bias):
            keys = [self._key(p, bias) for p in runs]
            start = 0
            for k in range(1, m + 1):
                if k == m or keys[k] != keys[start]:
                    members.setdefault(keys[start], []).append((i, start, k))
                    start = k
        self.groups = list(members.items())
        self.state: list[list[torch.Tensor]] = []
        if self.kind == "sgd":
            self.state = [[torch.zeros_like(q) for q in params]]
        else:
            self.state = [[torch.zeros_like(q) for q in params], [torch.zeros_like(q) for q in params]]
        self.views = [
            (
                [params[i][s:e] for i, s, e in entries],
                [[buf[i][s:e] for i, s, e in entries] for buf in self.state],
            )
            for _, entries in self.groups
        ]

    def _key(self, p: dict[str, Any], bias: bool) -> tuple[float, ...]:
        wd = 0.0 if bias and not p["decay_norm_and_bias"] else float(p["weight_decay"])
        if self.kind == "sgd":
            return (float(p["lr"]), float(p["momentum"]), wd)
        return (float(p["lr"]), float(p["beta1"]), float(p["beta2"]), wd)

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor]) -> None:
        full = self.params[0].shape[0]
        if self.kind != "sgd":
            self.step_t += 1
        for (key, entries), (ps, bufs) in zip(self.groups, self.views):
            gs = [grads[i] if (s, e) == (0, full) else grads[i][s:e] for i, s, e in entries]
            if self.kind == "sgd":
                lr, momentum, wd = key
                sgd_update(
                    ps, gs, bufs[0], lr=lr, momentum=momentum, weight_decay=wd, first=self.steps == 0, fused=True
                )
                continue
            lr, beta1, beta2, wd = key
            fused = torch._fused_adam_ if self.kind == "adam" else torch._fused_adamw_
            fused(
                ps,
                gs,
                bufs[0],
                bufs[1],
                [],
                [self.step_t] * len(ps),
                lr=lr,
                beta1=beta1,
                beta2=beta2,
                weight_decay=wd,
                eps=EPS,
                amsgrad=False,
                maximize=False,
            )
        self.steps += 1


# --- the stack --------------------------------------------------------------------------------


class _LayerStats(_Observer):
    """Stands in for the observer of a logging step: one model's layer statistics, from the stacked forward."""

    def __init__(self, stats: dict[str, torch.Tensor]) -> None:
        super().__init__([], [], 0)
        self.stats.update(stats)


class Stack:
    """M runs (built by :class:`_Run`, so each holds its own module, data and init) trained as one."""

    def __init__(self, runs: list[_Run]) -> None:
        self.runs = list(runs)
        self.m = m = len(runs)
        first = runs[0]
        self.dev = first.dev
        self.p = first.p
        self.task = first.task
        model = first.model
        assert isinstance(model, nn.Sequential)
        self.layers: list[nn.Module] = list(model)
        self.names = [n for n, _ in first.observed]
        self.weights: list[torch.Tensor] = []
        self.biases: list[torch.Tensor | None] = []
        self.linear_of: dict[int, int] = {}  # layer index -> Linear index
        with torch.no_grad():
            for k, layer in enumerate(self.layers):
                if isinstance(layer, nn.Linear):
                    self.linear_of[k] = len(self.weights)
                    mods = [_layer(r, k) for r in runs]
                    self.weights.append(torch.stack([x.weight.t() for x in mods]).contiguous().requires_grad_())
                    self.biases.append(
                        torch.stack([x.bias for x in mods]).unsqueeze(1).contiguous().requires_grad_()
                        if layer.bias is not None
                        else None
                    )
        self.params: list[torch.Tensor] = []
        is_bias: list[bool] = []
        for w, b in zip(self.weights, self.biases):
            self.params.append(w)
            is_bias.append(False)
            if b is not None:
                self.params.append(b)
                is_bias.append(True)
        self.update = _Update(self.params, is_bias, [r.p for r in runs])
        # dropout: per layer, per model p; masks from each model's own generator
        self.dropout: dict[int, tuple[list[float], torch.Tensor, torch.Tensor]] = {}
        for k, layer in enumerate(self.layers):
            if isinstance(layer, nn.Dropout):
                ps = [float(_layer(r, k).p) for r in runs]
                if any(x > 0 for x in ps):
                    col = torch.tensor(ps, device=self.dev).view(m, 1, 1)
                    scale = torch.tensor([1 / (1 - x) for x in ps], device=self.dev).view(m, 1, 1)
                    self.dropout[k] = (ps, col, scale)
        self.generators = []
        if self.dropout:
            for r in runs:
                g = torch.Generator(device=self.dev)
                g.manual_seed(r.run.seed ^ DROPOUT_SALT)
                self.generators.append(g)
        # the training data of every model, gathered by one index op per step
        xs: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        slot = []
        for r in runs:
            key = id(r.x_train)
            if key not in xs:
                xs[key] = (r.x_train, r.y_train)
            slot.append(list(xs).index(key))
        n = len(first.x_train)
        self.n = n
        if len(xs) == 1:
            self.x_all, self.y_all = first.x_train, first.y_train
            self.offsets: torch.Tensor | None = None
        else:
            self.x_all = torch.cat([x for x, _ in xs.values()])
            self.y_all = torch.cat([y for _, y in xs.values()])
            self.offsets = (torch.tensor(slot, device=self.dev) * n).view(m, 1)
        self.with_params = [(n, self.linear_of[k]) for k, n in enumerate(self.names) if k in self.linear_of]

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
                stats.append(_stats(a))
        return a, stats

    def losses(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """[M] mean losses of the batch, as train.loss_fn gives each model."""
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

    def train(self, ctx: Context, done: int, total: int) -> int:
        p, m = self.p, self.m
        steps = p["steps"]
        batch = min(p["batch"], self.n)
        orders = [batch_order(r.run.seed, self.n, batch, p["shuffle"], self.dev) for r in self.runs]
        classification = self.task == "classification"
        active = [True] * m
        start = 0
        while start < steps and any(active):
            chunk = min(p["log_every"], steps - start)
            losses = torch.empty(chunk, m, device=self.dev)
            hits = torch.empty(chunk, m, device=self.dev)
            for i in range(chunk):
                ctx.check()
                idx = torch.stack([next(o) for o in orders])
                if self.offsets is not None:
                    idx = idx + self.offsets
                xb, yb = self.x_all[idx], self.y_all[idx]
                last = i == chunk - 1
                out, stats = self.forward(xb, last)
                loss = self.losses(out, yb)
                grads = torch.autograd.grad(loss.sum(), self.params)
                if last:
                    grad_norms = self._grad_norms(grads)
                self.update.step(grads)
                losses[i] = loss.detach()
                if classification:
                    hits[i] = (out.detach().argmax(2) == yb).sum(1) / yb.shape[1]
            start += chunk
            self._sync()
            now = sum(active)
            for k, r in enumerate(self.runs):
                if not active[k]:
                    continue
                observer = _LayerStats({n: s[k] for n, s in zip(self.names, stats)})
                with self._rng(r, start):
                    bad = r._log(
                        start,
                        losses[:, k],
                        hits[:, k] if classification else None,
                        [grad_norms[j][k] for _, j in self.with_params],
                        observer,
                    )
                if bad is not None:
                    active[k] = False
                    with self._rng(r, start):
                        r._final(start - chunk + 1 + bad, {"stacked": True})
                    done += steps - start
            done += chunk * now
            ctx.progress(done, total, "train")
        for k, r in enumerate(self.runs):
            if active[k]:
                with self._rng(r, start):
                    r._final(None, {"stacked": True})
        return done

    @contextmanager
    def _rng(self, r: _Run, step: int) -> Iterator[None]:
        """The global RNG, seeded for this model and step, for its train-mode evaluation (restored afterwards).

        Alone, that evaluation draws its dropout masks from the RNG training left; in a
        stack the global RNG is not the model's, so it is seeded from the model's seed and
        the step: the numbers do not depend on the other models of the stack.
        """
        with torch.random.fork_rng(devices=[self.dev] if self.dev.type == "cuda" else []):
            torch.manual_seed((r.run.seed ^ DROPOUT_SALT) + (step << 24))
            yield

    def _grad_norms(self, grads: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Per Linear, [M] L2 norms of its weight and bias gradients (as train.norm, in float32)."""
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


def _layer(r: _Run, k: int) -> Any:
    """Layer ``k`` of a run's (sequential) model."""
    return list(r.model.children())[k]


def _stats(a: torch.Tensor) -> torch.Tensor:
    """[M, 2]: mean and std of each model's slice of a layer output, in float64 (as train.layer_stats)."""
    o = a.detach().to(torch.float64).flatten(1)
    if o.shape[1] < 2:
        return torch.full((o.shape[0], 2), math.nan, dtype=torch.float64, device=a.device)
    return torch.stack([o.mean(1), o.std(1)], 1)
