"""M small MLPs trained as one stacked model: the kernel behind the weight-decay and dropout runs.

The tutorial's net is ``1 → hidden (× layers) → 1`` with ReLU (and optionally
``nn.Dropout`` after each hidden ReLU, i.e. after the activation and before the
next Linear), trained full-batch with MSE and ``torch.optim.SGD``. Training
M such nets one after another spends most of the time in per-op overhead, so
:class:`StackedMLP` stacks the M models' parameters along a leading model axis
and trains them all with one op per layer:

* Parameters live in one flat buffer, as contiguous blocks: each layer's
  weight ``[M, in, out]`` and bias ``[M, 1, out]``. Gradients and momentum
  have flat buffers of the same layout. Forward is ``torch.baddbmm`` per
  layer; backward is written out by hand (no autograd) straight into the
  gradient blocks (contiguous, so ``bmm(out=...)`` needs no copy).
* The update is ``torch.optim.SGD``'s (dampening 0, nesterov False), per
  model: ``g = grad + wd·p``; ``buf = g`` on the first step, then
  ``buf = momentum·buf + g``; ``p -= lr·buf``. It is the stacked update
  shared with the train kind (:class:`~regtui.engine.stack_optim.StackedOptimizer`):
  one ``torch._fused_sgd_`` call (the kernel behind ``SGD(fused=True)``; one
  pass over p, g, buf) per group of models sharing (lr, momentum,
  weight_decay), over that group's slices of all blocks; where the fused
  kernel is unavailable, ``torch._foreach_*`` ops do the same arithmetic.
  Models may therefore differ in lr, momentum, weight_decay and dropout p.
* Nothing is shared across the model axis, so one model that diverges
  (inf/NaN) cannot affect another. ``torch.optim`` itself is not imported
  (its import pulls in ``torch._dynamo``, about 1 s).

Initialization: model m's parameters are exactly what ``torch.manual_seed(seed_m)``
followed by building ``nn.Sequential(nn.Linear(1, h), nn.ReLU(), ..., nn.Linear(h, 1))``
would give (nn.Linear's default init, U(−1/√fan_in, 1/√fan_in) for weights and
biases), drawn in float32 on the CPU from a ``torch.Generator`` seeded with
that model's seed, then cast and moved to the device. So the same seed gives
the same init whatever the other models in the stack, on CPU and GPU alike.

Dropout masks come from ONE generator per stack (on the device, possibly
shared with other stacks): each hidden layer draws a uniform tensor
``[M, N, hidden]`` per step and keeps unit (m, n, j) when ``u >= p_m``,
scaling kept units by ``1/(1 − p_m)`` like ``nn.Dropout``. With ``p = 0`` a
model's mask is all ones (an exact no-op), and a stack where every p is 0
draws no masks at all.

Why a hand-written backward: the ``train`` kind stacks any Linear net with autograd
(:mod:`regtui.engine.custom.batched`: ``baddbmm`` forward, ``torch.autograd.grad``, the
same stacked update). Timed against it on the same stacks (``benchmarks/bench_stacked.py
--autograd``, 400 steps, 2-core CPU under load), StackedMLP was 1.65x faster at 2 models
and 2.07x at 32 (8 λ × 4 seeds), so it stays the lessons' kernel.

The loop that trains a plan's runs with these stacks (data, metrics, events)
is :mod:`regtui.engine.mlp_training`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import torch

from regtui.engine.init import default_init
from regtui.engine.measures import stacked_norm
from regtui.engine.sgd import fused_available
from regtui.engine.stack_optim import StackedOptimizer

__all__ = ["StackedMLP", "linear_init", "mse"]


# --- init -----------------------------------------------------------------------------------


def linear_init(seed: int, sizes: Sequence[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """nn.Linear default init of an MLP with layer sizes ``sizes``, as ``torch.manual_seed(seed)`` would give.

    Returns ``[(weight [out, in], bias [out]), ...]`` in float32 on the CPU,
    in nn.Linear's layout and drawing order (weight, then bias, layer by layer).
    """
    gen = torch.Generator().manual_seed(seed)
    out = []
    for fan_in, fan_out in pairwise(sizes):
        weight, bias = torch.empty(fan_out, fan_in), torch.empty(fan_out)
        default_init(weight, bias, gen)
        out.append((weight, bias))
    return out


# --- the stacked model ---------------------------------------------------------------------


def _column(values: float | Sequence[float], m: int, name: str) -> list[float]:
    if isinstance(values, (int, float)):
        return [float(values)] * m
    column = [float(v) for v in values]
    if len(column) != m:
        raise ValueError(f"{name}: expected {m} values (one per model), got {len(column)}")
    return column


class StackedMLP:
    """M MLPs ``sizes[0] → … → sizes[-1]`` (ReLU, optional Dropout after each hidden ReLU) stacked on a model axis.

    ``inits[m]`` holds model m's parameters in nn.Linear layout (see
    :func:`linear_init`); use :meth:`from_seeds` for the usual case.
    """

    def __init__(
        self,
        inits: Sequence[Sequence[tuple[torch.Tensor, torch.Tensor]]],
        *,
        lr: float | Sequence[float],
        momentum: float | Sequence[float] = 0.0,
        weight_decay: float | Sequence[float] = 0.0,
        dropout: float | Sequence[float] = 0.0,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        dropout_seed: int = 0,
        generator: torch.Generator | None = None,
        fused: bool | None = None,
    ) -> None:
        if not inits:
            raise ValueError("StackedMLP needs at least one model")
        self.device = torch.device(device)
        self.dtype = dtype
        self.m = m = len(inits)
        first = inits[0]
        self.sizes = [first[0][0].shape[1]] + [w.shape[0] for w, _ in first]
        self.n_layers = len(first)  # Linear layers; the hidden ones are 0..n_layers-2
        shapes = []  # per parameter block: weight [M, in, out], then bias [M, 1, out], layer by layer
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            shapes += [(m, fan_in, fan_out), (m, 1, fan_out)]
        self.n_params = sum(a * b for _, a, b in shapes)  # per model

        def blocks(flat: torch.Tensor) -> list[torch.Tensor]:
            out, offset = [], 0
            for shape in shapes:
                size = shape[0] * shape[1] * shape[2]
                out.append(flat[offset : offset + size].view(shape))
                offset += size
            return out

        # One flat buffer each for parameters, gradients and momentum; every block is contiguous.
        flat = torch.empty(m * self.n_params, dtype=dtype)  # filled on the CPU, moved once
        cpu_blocks = blocks(flat)
        for i, layers in enumerate(inits):
            if [tuple(w.shape) for w, _ in layers] != [tuple(w.shape) for w, _ in first]:
                raise ValueError("all models of a stack need the same architecture")
            for j, (w, b) in enumerate(layers):
                cpu_blocks[2 * j][i].copy_(w.t())
                cpu_blocks[2 * j + 1][i, 0].copy_(b)
        self.flat_params = flat.to(self.device)
        self.flat_grads = torch.zeros_like(self.flat_params)
        self.flat_momentum = torch.zeros_like(self.flat_params)
        self.params = blocks(self.flat_params)
        self.grads = blocks(self.flat_grads)
        self.momentum_buffers = blocks(self.flat_momentum)
        self.weights, self.biases = self.params[::2], self.params[1::2]
        self.grad_weights, self.grad_biases = self.grads[::2], self.grads[1::2]

        self.lr = _column(lr, m, "lr")
        self.momentum = _column(momentum, m, "momentum")
        self.weight_decay = _column(weight_decay, m, "weight_decay")
        p = _column(dropout, m, "dropout")
        if any(not 0 <= x < 1 for x in p):
            raise ValueError(f"dropout: every p must be in [0, 1), got {p}")
        self.dropout = p
        self.dropout_p = torch.tensor(p, dtype=dtype, device=self.device).view(m, 1, 1)
        self.dropout_scale = torch.tensor([1 / (1 - x) for x in p], dtype=dtype, device=self.device).view(m, 1, 1)
        self.has_dropout = any(x > 0 for x in p)
        if fused is None:
            fused = fused_available(self.device)
        self.fused = fused
        # One fused SGD call per set of models sharing (lr, momentum, weight_decay), over every block.
        keys = [list(zip(self.lr, self.momentum, self.weight_decay))] * len(self.params)
        self.optimizer = StackedOptimizer(
            "sgd", self.params, keys, state=[self.momentum_buffers], grads=self.grads, fused=fused
        )
        if generator is None:
            generator = torch.Generator(device=self.device)
            generator.manual_seed(dropout_seed)
        self.generator = generator  # dropout masks; may be shared with other stacks
        self._train_bufs: dict[int, dict[str, Any]] = {}
        self._eval_bufs: dict[int, list[torch.Tensor]] = {}
        self._last: dict[str, Any] | None = None  # activations of the last training forward

    @classmethod
    def from_seeds(
        cls, seeds: Sequence[int], hidden: int, layers: int, *, n_in: int = 1, n_out: int = 1, **kw: Any
    ) -> StackedMLP:
        sizes = [n_in] + [hidden] * layers + [n_out]
        return cls([linear_init(s, sizes) for s in seeds], **kw)

    # --- per-model access (tests, inspection) -------------------------------------------------

    def model(self, i: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Copies of model i's parameters in nn.Linear layout: [(weight [out, in], bias [out]), ...]."""
        return [(w[i].t().clone(), b[i, 0].clone()) for w, b in zip(self.weights, self.biases)]

    def set_model(self, i: int, layers: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Overwrite model i's parameters (nn.Linear layout)."""
        for (w, b), dst_w, dst_b in zip(layers, self.weights, self.biases):
            dst_w[i].copy_(w.t())
            dst_b[i, 0].copy_(b)

    def weight_norm(self) -> torch.Tensor:
        """[M] L2 norm over all parameters (weights and biases) of each model."""
        return stacked_norm(self.params)

    # --- forward / backward / update -----------------------------------------------------------

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """[N] or [N, in] shared inputs → [M, N, in] on the stack's device and dtype."""
        x = x.to(device=self.device, dtype=self.dtype)
        if x.dim() == 1:
            x = x.unsqueeze(1)
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.m, -1, -1)
        return x.contiguous()

    def _linear(self, a: torch.Tensor, i: int, out: torch.Tensor) -> torch.Tensor:
        if a.shape[2] == 1:  # a K=1 matmul is an outer product: one broadcasting op
            return torch.addcmul(self.biases[i], a, self.weights[i], out=out)
        return torch.baddbmm(self.biases[i], a, self.weights[i], out=out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Eval-mode forward (no dropout) of ``x`` [M, N, in] → [M, N, out] (a reused buffer: copy to keep)."""
        n = x.shape[1]
        bufs = self._eval_bufs.get(n)
        if bufs is None:
            bufs = [torch.empty(self.m, n, s, dtype=self.dtype, device=self.device) for s in self.sizes[1:]]
            self._eval_bufs[n] = bufs
        a = x
        for i in range(self.n_layers):
            a = self._linear(a, i, bufs[i])
            if i < self.n_layers - 1:
                a.relu_()
        return a

    def forward_train(self, x: torch.Tensor) -> torch.Tensor:
        """Training-mode forward (dropout active); keeps what :meth:`backward` needs. Returns [M, N, out]."""
        n = x.shape[1]
        bufs = self._train_bufs.get(n)
        if bufs is None:
            shape = lambda s: (self.m, n, s)  # noqa: E731
            hidden = self.sizes[1:-1]
            bufs = {
                "acts": [torch.empty(shape(s), dtype=self.dtype, device=self.device) for s in self.sizes[1:]],
                "masks": [torch.empty(shape(s), dtype=self.dtype, device=self.device) for s in hidden]
                if self.has_dropout
                else [],
                "grads": [torch.empty(shape(s), dtype=self.dtype, device=self.device) for s in hidden],
                "transposed": [torch.empty(self.m, s, n, dtype=self.dtype, device=self.device) for s in hidden],
            }
            self._train_bufs[n] = bufs
        acts, masks = bufs["acts"], bufs["masks"]
        a = x
        for i in range(self.n_layers):
            a = self._linear(a, i, acts[i])
            if i < self.n_layers - 1:
                a.relu_()
                if self.has_dropout:
                    mask = masks[i]
                    mask.uniform_(0, 1, generator=self.generator)
                    mask.ge_(self.dropout_p).mul_(self.dropout_scale)  # kept: 1/(1-p), dropped: 0
                    a.mul_(mask)
        self._last = {"x": x, **bufs}
        return a

    @property
    def masks(self) -> list[torch.Tensor]:
        """Dropout masks [M, N, hidden] of the last training forward (0 or 1/(1 − p)); [] without dropout."""
        return list(self._last["masks"]) if self._last else []

    def backward(self, grad_out: torch.Tensor) -> None:
        """Write d(loss)/d(params) into :attr:`grads` given d(loss)/d(output) of the last training forward."""
        last = self._last
        if last is None:
            raise RuntimeError("backward() needs a forward_train() first")
        acts, masks, grads = last["acts"], last["masks"], last["grads"]
        dz = grad_out
        for i in reversed(range(self.n_layers)):
            # bmm is about 2x faster with a contiguous first operand than with a transposed view.
            if i > 0:
                a_t = last["transposed"][i - 1].copy_(acts[i - 1].transpose(1, 2))
            else:  # the input: [M, N, 1] → [M, 1, N] is already contiguous
                a_t = last["x"].transpose(1, 2).contiguous()
            torch.bmm(a_t, dz, out=self.grad_weights[i])
            torch.sum(dz, dim=1, keepdim=True, out=self.grad_biases[i])
            if i == 0:
                break
            da = grads[i - 1]
            w_t = self.weights[i].transpose(1, 2)
            if dz.shape[2] == 1:
                torch.mul(dz, w_t, out=da)
            else:
                torch.bmm(dz, w_t, out=da)
            if self.has_dropout:
                da.mul_(masks[i - 1])
            # ReLU backward: zero where the (post-dropout) activation is not positive.
            torch.ops.aten.threshold_backward.grad_input(da, acts[i - 1], 0, grad_input=da)
            dz = da

    @property
    def steps(self) -> int:
        """SGD updates done."""
        return self.optimizer.steps

    def sgd_step(self) -> None:
        """torch.optim.SGD's update (dampening 0, nesterov False) of every model from :attr:`grads`."""
        self.optimizer.step()

    def mse_backward(self, pred: torch.Tensor, y: torch.Tensor, loss_out: torch.Tensor | None = None) -> torch.Tensor:
        """Per-model MSE of ``pred`` vs ``y`` ([M, N, out]), then :meth:`backward`; returns the [M] losses."""
        diff = pred - y
        loss = torch.mean(diff.square(), dim=(1, 2), out=loss_out)
        self.backward(diff.mul_(2.0 / (diff.shape[1] * diff.shape[2])))
        return loss

    def train_step(self, x: torch.Tensor, y: torch.Tensor, loss_out: torch.Tensor | None = None) -> torch.Tensor:
        """One full-batch step for every model: forward (train mode), MSE, backward, SGD update. Returns [M] losses."""
        loss = self.mse_backward(self.forward_train(x), y, loss_out)
        self.sgd_step()
        return loss


def mse(pred: torch.Tensor, y: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Per-model mean squared error of [M, N, k] tensors → [M]."""
    return torch.mean((pred - y).square_(), dim=(1, 2), out=out)
