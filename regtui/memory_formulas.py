"""The lesson kinds' peak-memory formulas (``Kind.memory`` in :mod:`regtui.registry`).

Each counts the large float32 tensors an experiment holds at its peak (weights, gradients,
momentum buffers, activations kept for backward, data) and errs high. Torch-free.
"""

from __future__ import annotations

from typing import Any

FLOAT = 4  # bytes of a float32


def mlp_bytes(p: dict[str, Any], models: int, tables: dict[str, Any] | None = None) -> tuple[int, str]:
    """The stacked MLPs of weight-decay and dropout: all models of a plan train at once."""
    h, layers, n = p["hidden"], p["layers"], p["n_points"]
    params = 2 * h + (layers - 1) * (h * h + h) + h + 1
    per_model = 3 * params + 6 * n * h * layers  # weights, grads, momentum; activations, masks
    extra = 12 * p.get("scaling_n", 0)  # the dropout scaling demo: input, mask, output, float64 sums
    return FLOAT * (models * per_model + extra), f"hidden={h}, layers={layers}, n_points={n}, {models} model(s)"


def bn_bytes(p: dict[str, Any], models: int, tables: dict[str, Any] | None = None) -> tuple[int, str]:
    """The deep MLP of bn: one model at a time."""
    w, d, b = p["width"], p["depth"], p["batch"]
    params = d * (w * w + 3 * w)
    return FLOAT * (3 * params + 6 * b * w * d), f"width={w}, depth={d}, batch={b}"


def bn_stats_bytes(p: dict[str, Any], models: int, tables: dict[str, Any] | None = None) -> tuple[int, str]:
    """BatchNorm1d/2d/3d on a (batch, features, …) input in float64."""
    values = p["batch"] * p["features"] * 8  # the 3d input has 2x2x2 values per channel
    return 8 * 6 * values, f"batch={p['batch']}, features={p['features']}"


def norms_bytes(p: dict[str, Any], models: int, tables: dict[str, Any] | None = None) -> tuple[int, str]:
    """The conv nets of norms: the image sets, and the activations of the largest forward pass."""
    c, s = p["channels"], p["size"]
    data = (p["train_samples"] + p["test_samples"]) * s * s
    largest = max(p["batch"], p["test_samples"], p["demo_batch"])
    activations = 8 * largest * c * s * s
    params = 2 * 9 * c * c + 2 * c * s * s  # convs, and LayerNorm's element-wise affine
    why = f"channels={c}, size={s}, test_samples={p['test_samples']}, batch={p['batch']}"
    return FLOAT * (data + activations + 3 * params), why
