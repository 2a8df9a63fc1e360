"""A rough measure of a ``train`` run's compute, from its tables alone: to order Ray tasks, longest first.

Ray hands queued tasks to nodes as they free up; submitted in plan order, the two long stacks of
a plan may land on one node while the other finishes early (digits-overfit on two 1-CPU nodes:
7.0 against 10.3 s). Submitting the larger ones first (the LPT rule) evens the nodes; the
ordering needs only a ranking, not a time, so the measure counts per model and step: the
multiply-adds of linear and conv layers and every layer's output elements for a mini-batch,
forward and backward alike, a Dropout's elements :data:`DROPOUT_DRAW` times (a random mask:
``torch.dropout`` of 64×128 took 80 µs on this project's 2-core CPU, a 128→128 linear layer on
the same batch 24 µs), plus the parameters once more for each optimizer update (and once for
weight decay). A factory model's size is not known before it runs: its runs weigh by steps
and batch alone.
"""

from __future__ import annotations

import math
from typing import Any

from regtui.custom_specs.memory import layer_params
from regtui.custom_specs.shapes import data_shape, layer_shapes
from regtui.specs import ConfigError

__all__ = ["DROPOUT_DRAW", "run_work"]

DROPOUT_DRAW = 100  # a masked element, in multiply-adds (a CPU's random draws; a GPU's are cheaper)


def run_work(p: dict[str, Any], tables: dict[str, Any]) -> float:
    """The compute of one run with parameters ``p`` (arbitrary units, comparable within a plan)."""
    steps, batch = p.get("steps", 1), p.get("batch", 1)
    per_sample, params = _model_work(p, tables)
    update = params * (1 + bool(p.get("momentum")) + bool(p.get("weight_decay")))
    return float(steps) * (batch * per_sample + update)


def _model_work(p: dict[str, Any], tables: dict[str, Any]) -> tuple[float, int]:
    """(multiply-adds and output elements per sample, trained parameters); (1, 0) where unknown."""
    found = data_shape(tables.get("data", {}))
    model = tables.get("model", {})
    if found is None or "layers" not in model:
        return 1.0, 0
    shape, outputs, _ = found
    layers = [dict(layer) for layer in model["layers"]]  # layer_shapes resolves "norm" layers in place
    try:
        shapes = layer_shapes(layers, shape, outputs, p)
    except ConfigError:
        return 1.0, 0
    work, params, before = 0.0, 0, shape
    for layer, after in zip(layers, shapes):
        n_params, _ = layer_params(layer, before, after)
        spatial = math.prod(after[1:]) if layer["type"] == "conv2d" else 1  # a conv's kernels slide
        elements = math.prod(after)
        if layer["type"] == "dropout" and layer.get("p", p.get("dropout", 0.0)) > 0:  # p = 0: the input itself
            elements *= DROPOUT_DRAW
        work += n_params * spatial + elements
        params += n_params
        before = after
    return work, params
