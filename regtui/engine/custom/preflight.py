"""What a plan of the ``train`` kind checks with torch, before any training: the factories.

A factory data set is imported and called: its tensors are checked (shapes, class labels
integers >= 0 of shape (N,) or (N, 1)), its sizes (at least 2 training samples after the
split, for every run) and the loss against its targets; the plan's memory estimate is made
with its real size before a declarative model is built for it (a label of 1e12 would ask for
a model with 1e12 outputs). A factory model is imported, called and given a dry forward on
the data's input shape; it must have trainable parameters, and its measured size joins the
memory estimate. The results are cached per file version, arguments and runs, so the
dashboard's form, which makes a plan on every edit, runs the user's code once per change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch.nn.modules.batchnorm import _BatchNorm

from regtui import memory
from regtui.custom_specs.checks import source_sizes
from regtui.custom_specs.memory import train_bytes
from regtui.custom_specs.shapes import concrete, data_shape, loss_error
from regtui.custom_specs.sizes import size_error
from regtui.custom_specs.sources import check_data_source, resolve_ref
from regtui.engine.custom import data as data_mod
from regtui.engine.custom import model as model_mod
from regtui.specs import ConfigError

_CACHE: dict[str, str | None] = {}


def _version(ref: str, base: Path) -> Any:
    path, _, _ = resolve_ref(ref, base)
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _factory_data(tables: dict[str, Any], base: Path) -> tuple[tuple[int, ...], int, str, int, int | None]:
    """(per-sample shape, outputs, task, samples, own test samples or None) of the factory's data."""
    d = tables["data"]
    x_train, y_train, x_test, y_test = data_mod.call_data_factory(d["factory"], d["args"], base)
    task, outputs = data_mod.factory_task(y_train, y_test)
    own_test = len(x_test) or None  # an empty test set: test_fraction is split off
    return tuple(x_train.shape[1:]), outputs, task, len(x_train), own_test


def _check_sizes(where: str, n: int, own_test: int | None, runs: Any, batchnorm: Callable[[Any], bool]) -> None:
    """Every run's sizes (:func:`size_error`); ``batchnorm(params)``: whether that run's model has BatchNorm."""
    for r in runs:
        error = size_error(where, n, own_test, r.params, batchnorm(r.params))
        if error:
            raise ConfigError(error)


def _declared_batchnorm(layers: list[dict[str, Any]], shape: tuple[int, ...]) -> Callable[[Any], bool]:
    return lambda p: any(concrete(x, shape, p)["type"] in ("batchnorm1d", "batchnorm2d") for x in layers)


def _check(tables: dict[str, Any], base: Path, runs: Any, memory_check: bool) -> None:
    d = tables["data"]
    found = data_shape(d)
    samples = None
    spec = tables["model"]
    if found is None:
        shape, outputs, task, n, own_test = _factory_data(tables, base)
        where = f"data: factory {d['factory']!r}"
        layers = spec.get("layers", [])  # a factory model's BatchNorm is known once it is built (below)
        _check_sizes(where, n, own_test, runs, _declared_batchnorm(layers, shape))
        samples = n + (own_test or 0)
    else:
        shape, outputs, task = found
        n, own_test = source_sizes(d, check_data_source(d, base))
        where = f"data ({d['source']})"
    for loss in sorted({r.params["loss"] for r in runs}):
        error = loss_error(task, loss)
        if error:
            raise ConfigError(error)
    data = None if samples is None else (shape, outputs, samples)
    if "layers" in spec and data is not None and memory_check:
        _memory(tables, runs, data, None)  # before the model is built: its size follows from the data
    # one model per distinct set of the values a factory takes by name (a sweep of its width: each width)
    keywords = spec.get("keywords", ())
    distinct = {tuple(r.params.get(k) for k in keywords): r.params for r in runs}
    models = [model_mod.build(tables, base, shape, outputs, params)[0] for params in distinct.values()]
    if "factory" in spec:
        if any(isinstance(m, _BatchNorm) for model in models for m in model.modules()):
            where += f" (model: factory {spec['factory']!r} has BatchNorm)"
            _check_sizes(where, n, own_test, runs, lambda p: True)
        if memory_check:
            _memory(tables, runs, data, max(model_mod.measure(model, shape) for model in models))


def _memory(tables: dict[str, Any], runs: Any, data: tuple[tuple[int, ...], int, int] | None, model: Any) -> None:
    """The plan's memory estimate with what only the factories tell (see :func:`train_bytes`)."""
    worst = max(
        (train_bytes(dict(r.params), len(runs), tables, data=data, model=model) for r in runs), key=lambda e: e[0]
    )
    if worst[0]:
        memory.check_bytes(math.ceil(worst[0] * memory.SLACK), worst[1])


def check(tables: dict[str, Any], base: Path, runs: Any, memory_check: bool = True) -> None:
    """Run the plan's factories and check what they give (see the module docstring); ConfigError if wrong.

    ``memory_check``: False for ``--no-memory-check`` (the estimate is then not made)."""
    refs = [t["factory"] for t in (tables["model"], tables["data"]) if "factory" in t]
    key = json.dumps(
        [tables, str(base), [dict(r.params) for r in runs], memory_check, [_version(r, base) for r in refs]],
        sort_keys=True,
        default=str,
    )
    if key not in _CACHE:
        try:
            _check(tables, base, runs, memory_check)
            _CACHE[key] = None
        except ConfigError as exc:
            _CACHE[key] = str(exc)
    error = _CACHE[key]
    if error is not None:
        raise ConfigError(error)
