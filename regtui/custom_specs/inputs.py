"""The files a ``train`` run reads besides its scenario: factory modules and data files, with their hashes.

A rerun must read what the run read. The run's record keeps every such file's absolute path
(a relative one resolved against the scenario's own folder) and its sha256; the run folder
keeps a copy of each factory file. :func:`changed_files` tells a rerun which files differ now.
Torch-free and without importing user code (a module factory is found with ``find_spec``, as
:func:`~regtui.custom_specs.sources.check_factory` does when the plan is made).
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any

from regtui.custom_specs.sources import CIFAR_FILES, FOLDERS, MNIST_FILES, data_folder, find_files, resolve_ref

__all__ = ["changed_files", "read_files", "sha256"]

_hashes: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256: a data set is hashed once


def sha256(path: Path) -> str:
    """The file's sha256 (hex), cached while its size and modification time stay the same."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _hashes:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _hashes[key] = digest.hexdigest()
    return _hashes[key]


def _factory_file(ref: str, base: Path) -> Path | None:
    path, module, _ = resolve_ref(ref, base)
    if path is not None:
        return path
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec is not None else None
    return Path(origin) if origin and origin.endswith(".py") else None


def read_files(tables: dict[str, Any], base: Path) -> list[dict[str, Any]]:
    """What the run reads: [{"role": "model factory" | "data factory" | "data", "path": absolute path}]."""
    found: list[tuple[str, Path | None]] = []
    for name in ("model", "data"):
        ref = (tables.get(name) or {}).get("factory")
        if ref:
            found.append((f"{name} factory", _factory_file(ref, base)))
    data = tables.get("data") or {}
    if data.get("source") in FOLDERS:
        names = CIFAR_FILES if data["source"] == "cifar10" else MNIST_FILES
        files = find_files(data_folder(data, base), names, gz=data["source"] != "cifar10") or {}
        found += [("data", files[n]) for n in names if n in files]
    return [{"role": role, "path": str(p.resolve())} for role, p in found if p is not None and p.is_file()]


def changed_files(files: list[dict[str, Any]]) -> list[str]:
    """One line per recorded file that is gone or whose content differs from the run's (its sha256)."""
    out = []
    for f in files:
        path = Path(f["path"])
        if not path.is_file():
            out.append(f"{f['role']} {path} is gone")
        elif f.get("sha256") and sha256(path) != f["sha256"]:
            out.append(f"{f['role']} {path} changed since the run (sha256 differs)")
    return out
