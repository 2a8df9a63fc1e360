"""What a plan of the ``train`` kind checks with torch, before any training: the factories.

A factory model is imported, called and given a dry forward on the data's input shape; a
factory data set is imported and called (its tensors checked, and the loss against its
targets). The results are cached per file version and arguments, so the dashboard's form,
which makes a plan on every edit, runs the user's code once per change of the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from regtui.custom_specs.shapes import data_shape, loss_error
from regtui.custom_specs.sources import resolve_ref
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


def _shape_of_data(tables: dict[str, Any], base: Path) -> tuple[tuple[int, ...], int, str]:
    d = tables["data"]
    found = data_shape(d)
    if found is not None:
        return found
    x_train, y_train, _, y_test = data_mod.call_data_factory(d["factory"], d["args"], base)
    task, outputs = data_mod.factory_task(y_train, y_test)
    return tuple(x_train.shape[1:]), outputs, task


def _check(tables: dict[str, Any], base: Path, losses: set[str], params: dict[str, Any]) -> None:
    shape, outputs, task = _shape_of_data(tables, base)
    for loss in sorted(losses):
        error = loss_error(task, loss)
        if error:
            raise ConfigError(error)
    model_mod.build(tables, base, shape, outputs, params)


def check(tables: dict[str, Any], base: Path, runs: Any) -> None:
    losses = {r.params["loss"] for r in runs}
    params = runs[0].params
    refs = [t["factory"] for t in (tables["model"], tables["data"]) if "factory" in t]
    key = json.dumps(
        [tables, str(base), sorted(losses), [_version(r, base) for r in refs]], sort_keys=True, default=str
    )
    if key not in _CACHE:
        try:
            _check(tables, base, losses, params)
            _CACHE[key] = None
        except ConfigError as exc:
            _CACHE[key] = str(exc)
    error = _CACHE[key]
    if error is not None:
        raise ConfigError(error)
