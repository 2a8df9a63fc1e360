"""The data of a ``train`` scenario: generators, the 8x8 digits (bundled), MNIST/CIFAR-10 from a folder, a factory.

Every source gives ``Data``: float32 inputs of shape (N, …) and targets — int64 class
labels (classification) or float32 (N, k) values (regression) — for a training and a
test split. Sources without their own test split (the generators, digits, a factory
that returns no test set) are shuffled with the run's seed and split by
``test_fraction``; ``train_size`` and ``test_size`` then cap the two parts (the test
part does not depend on ``train_size``, so runs with different training sizes are
tested on the same samples).

The MNIST (idx-ubyte, gz or not) and CIFAR-10 (python pickle batches) readers are our
own, small and strict: no torchvision, no download. The CIFAR pickles are read by an
unpickler that admits only what those files hold (numpy arrays, lists, bytes).
"""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import math
import pickle
import struct
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from regtui.custom_specs import data_files, shapes, sizes, sources
from regtui.engine.data import line_x, line_y
from regtui.specs import ConfigError

DIGITS_FILE = "digits.csv.gz"  # in the package regtui.data (DIGITS-NOTICE.txt there says whence)


@dataclass
class Data:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    task: str  # "classification" | "regression"
    outputs: int  # classes, or target width
    name: str
    # the validation split (val_fraction of the training part, held out before train_size caps it)
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.name,
            "task": self.task,
            "outputs": self.outputs,
            "input_shape": list(self.input_shape),
            "train": len(self.x_train),
            "validation": 0 if self.x_val is None else len(self.x_val),
            "test": len(self.x_test),
        }


# --- generators ------------------------------------------------------------------------------


def _regression(d: dict[str, Any], g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The tutorial's line: x evenly spaced in [-1, 1], y = slope·x + noise."""
    x = line_x(d["n"])
    return x, line_y(x, d["slope"], d["noise"], g)


def _moons(d: dict[str, Any], g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n = d["n"]
    n0 = n // 2
    t = torch.rand(n, generator=g) * math.pi
    upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], 1)
    y = (torch.arange(n) >= n0).long()
    x = torch.where(y.unsqueeze(1) == 0, upper, lower)
    return x + d["noise"] * torch.randn(n, 2, generator=g), y


def _circles(d: dict[str, Any], g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n = d["n"]
    y = (torch.arange(n) >= n // 2).long()
    t = torch.rand(n, generator=g) * 2 * math.pi
    r = torch.where(y == 0, 1.0, d["factor"])
    x = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1)
    return x + d["noise"] * torch.randn(n, 2, generator=g), y


def _spirals(d: dict[str, Any], g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n, k = d["n"], d["classes"]
    y = torch.arange(n) % k
    r = torch.rand(n, generator=g)
    t = r * 3 * math.pi + y * (2 * math.pi / k)
    x = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1)
    return x + d["noise"] * 0.1 * torch.randn(n, 2, generator=g), y.long()


def _images(d: dict[str, Any], g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Small synthetic images: class k is a bright Gaussian blob at the k-th point of a ring, plus noise."""
    n, k, s, c = d["n"], d["classes"], d["size"], d["channels"]
    y = torch.randint(k, (n,), generator=g)
    angle = y.float() * 2 * math.pi / k
    cy = (s - 1) / 2 + s / 4 * torch.sin(angle) + 0.5 * torch.randn(n, generator=g)
    cx = (s - 1) / 2 + s / 4 * torch.cos(angle) + 0.5 * torch.randn(n, generator=g)
    grid = torch.arange(s).float()
    blob = torch.exp(
        -((grid.view(1, s, 1) - cy.view(n, 1, 1)) ** 2 + (grid.view(1, 1, s) - cx.view(n, 1, 1)) ** 2)
        / (2 * (s / 8) ** 2)
    )
    x = blob.unsqueeze(1).expand(n, c, s, s) + d["noise"] * torch.randn(n, c, s, s, generator=g)
    return x.contiguous(), y


GENERATORS = {"regression": _regression, "moons": _moons, "circles": _circles, "spirals": _spirals, "images": _images}


# --- digits ----------------------------------------------------------------------------------


@lru_cache(maxsize=2)  # read once per process; callers index copies out of it
def load_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The 1,797 8x8 digits, as (N, 1, 8, 8) in [0, 1] and int64 labels.

    Read from the copy bundled with regtui (``regtui/data/digits.csv.gz``: scikit-learn's file,
    which its ``load_digits`` reads; a test checks they agree), so the digits need no scikit-learn
    and no process pays the second ``sklearn.datasets`` takes to import (SciPy), a Ray worker's
    included.
    """
    with resources.files("regtui.data").joinpath(DIGITS_FILE).open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.float32)
    data, target = table[:, :-1], table[:, -1]
    x = torch.tensor(data, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0
    return x, torch.tensor(target, dtype=torch.int64)


# --- MNIST / Fashion-MNIST: idx-ubyte files ---------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return f.read()


def read_idx(path: Path) -> torch.Tensor:
    """An idx file (the MNIST format): magic 0x0000 08 <ndim>, big-endian int32 sizes, then uint8 data."""
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ConfigError(f"{path}: not an idx-ubyte file (bad magic number)")
    ndim = raw[3]
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise ConfigError(f"{path}: short header: {len(raw)} bytes, an idx header of {ndim} dimension(s) is {start}")
    dims = struct.unpack(f">{ndim}I", raw[4:start])
    if len(raw) - start != math.prod(dims):
        raise ConfigError(
            f"{path}: holds {data_files.count(len(raw) - start)} bytes of data, "
            f"its header says {data_files.count(math.prod(dims))}"
        )
    return torch.frombuffer(bytearray(raw[start:]), dtype=torch.uint8).reshape(dims)


@lru_cache(maxsize=2)  # read once per process; callers index copies out of it
def load_mnist(folder: Path) -> tuple[torch.Tensor, ...]:
    files = sources.find_files(folder, sources.MNIST_FILES, gz=True)
    assert files is not None  # checked when the plan was made
    xs_train, ys_train, xs_test, ys_test = (read_idx(files[name]) for name in sources.MNIST_FILES)
    for images, labels in ((xs_train, ys_train), (xs_test, ys_test)):
        if images.dim() != 3 or labels.dim() != 1 or len(images) != len(labels):
            raise ConfigError(f"{folder}: the idx files do not hold images (N, H, W) with N labels")

    def prep(images: torch.Tensor) -> torch.Tensor:
        return images.float().div_(255.0).unsqueeze(1)

    return prep(xs_train), ys_train.long(), prep(xs_test), ys_test.long()


# --- CIFAR-10: python pickle batches ----------------------------------------------------------


class _CifarUnpickler(pickle.Unpickler):
    """Only what CIFAR-10's batches hold (:data:`regtui.custom_specs.data_files.ALLOWED`): numpy arrays,
    dtypes and scalars, and the dicts, lists and bytes around them."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in data_files.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR-10 batch")
        if (module, name) == ("_codecs", "encode"):
            return data_files.latin1_encode
        if name == "bytes":
            return data_files.empty_bytes
        return super().find_class(module, name)


def read_cifar_batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch file: {b'data': uint8 (N, 3072), b'labels': [N ints]} → (N, 3, 32, 32) uint8, int64."""
    try:
        with open(path, "rb") as f:
            batch = _CifarUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: not a CIFAR-10 python batch ({exc})") from None
    if not isinstance(batch, dict):
        raise ConfigError(f"{path}: not a CIFAR-10 python batch (no dict)")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ConfigError(f"{path}: not a CIFAR-10 python batch (no data/labels)")
    x = torch.as_tensor(data).to(torch.uint8)
    if x.dim() != 2 or x.shape[1] != 3 * 32 * 32 or len(labels) != len(x):
        raise ConfigError(f"{path}: data is {tuple(x.shape)}, expected (N, 3072) with N labels")
    return x.reshape(-1, 3, 32, 32), torch.as_tensor(list(labels), dtype=torch.int64)


@lru_cache(maxsize=2)  # read once per process; callers index copies out of it
def load_cifar10(folder: Path) -> tuple[torch.Tensor, ...]:
    files = sources.find_files(folder, sources.CIFAR_FILES, gz=False)
    assert files is not None
    train = [read_cifar_batch(files[name]) for name in sources.CIFAR_FILES[:5]]
    x_test, y_test = read_cifar_batch(files["test_batch"])
    x_train = torch.cat([x for x, _ in train]).float().div_(255.0)
    return x_train, torch.cat([y for _, y in train]), x_test.float().div_(255.0), y_test


# --- factories -------------------------------------------------------------------------------


def import_factory(where: str, ref: str, base: Path) -> Any:
    """The function a 'file.py:fn' or 'package.module:fn' reference names (imports the file)."""
    sources.check_factory(where, ref, base)
    path, module_name, fn = sources.resolve_ref(ref, base)
    try:
        if path is not None:
            name = f"regtui_factory_{abs(hash(str(path.resolve())))}_{module_name}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # dataclasses and pickling look modules up by name
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(name, None)
                raise
        else:
            module = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigError(f"{where}: factory {ref!r} cannot be imported: {type(exc).__name__}: {exc}") from None
    func = getattr(module, fn, None)
    if not callable(func):
        raise ConfigError(f"{where}: factory {ref!r}: {module_name} has no function {fn!r}")
    return func


def _classification(y: torch.Tensor) -> bool:
    return not torch.is_floating_point(y) and not torch.is_complex(y) and y.dtype != torch.bool


def call_data_factory(ref: str, args: dict[str, Any], base: Path) -> tuple[torch.Tensor, ...]:
    """The factory's (x_train, y_train, x_test, y_test), checked; integer labels of shape (N, 1) become (N,)."""
    func = import_factory("data", ref, base)
    try:
        out = func(**args)
    except Exception as exc:
        raise ConfigError(f"data: factory {ref!r} failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(out, (tuple, list)) or len(out) != 4 or not all(isinstance(t, torch.Tensor) for t in out):
        raise ConfigError(
            f"data: factory {ref!r} must return (x_train, y_train, x_test, y_test) tensors, got {type(out).__name__}"
        )
    x_train, y_train, x_test, y_test = out
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.dim() < 2 or len(x) != len(y):
            raise ConfigError(
                f"data: factory {ref!r}: x_{name} {tuple(x.shape)} and y_{name} {tuple(y.shape)} "
                "must be (N, …) and (N, …) with the same N"
            )
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ConfigError(f"data: factory {ref!r}: x_train is {tuple(x_train.shape)}, x_test {tuple(x_test.shape)}")
    if len(x_train) == 0:
        raise ConfigError(f"data: factory {ref!r} returned no training samples")
    if _classification(y_train):
        y_train, y_test = (_labels(ref, name, y) for name, y in (("y_train", y_train), ("y_test", y_test)))
    return x_train, y_train, x_test, y_test


def _labels(ref: str, name: str, y: torch.Tensor) -> torch.Tensor:
    """Class labels: integers >= 0, of shape (N,) — (N, 1) is read as (N,)."""
    if not _classification(y):
        raise ConfigError(
            f"data: factory {ref!r}: y_train holds class labels (integers) but {name} is {y.dtype}; "
            "give both as integers"
        )
    if y.dim() == 2 and y.shape[1] == 1:
        y = y.squeeze(1)
    if y.dim() != 1:
        raise ConfigError(
            f"data: factory {ref!r}: {name} is {tuple(y.shape)}; class labels must be (N,) or (N, 1) integers "
            "(float targets are regression)"
        )
    if len(y) and int(y.min()) < 0:
        i = int((y < 0).nonzero()[0])
        raise ConfigError(
            f"data: factory {ref!r}: {name} holds label {data_files.count(int(y[i]))} (sample {i + 1}); "
            "class labels must be integers >= 0"
        )
    return y


def factory_task(y_train: torch.Tensor, y_test: torch.Tensor) -> tuple[str, int]:
    """("classification", classes = the largest label + 1) for integer labels, else ("regression", width)."""
    if _classification(y_train):
        classes = int(max(int(y_train.max()), int(y_test.max()) if len(y_test) else 0)) + 1
        return "classification", classes
    return "regression", 1 if y_train.dim() == 1 else int(math.prod(y_train.shape[1:]))


# --- the split -------------------------------------------------------------------------------


def _cap(n: int, size: int) -> int:
    return n if size == 0 else min(n, size)


def load(tables: dict[str, Any], base: Path, p: dict[str, Any], seed: int) -> Data:
    """The run's data, split and capped; the same for every run of one seed."""
    d = tables["data"]
    g = torch.Generator().manual_seed(seed)
    fixed_split = True
    if "factory" in d:
        x_train, y_train, x_test, y_test = call_data_factory(d["factory"], d["args"], base)
        task, outputs = factory_task(y_train, y_test)
        name = f"factory {d['factory']}"
        x_train, x_test = x_train.float(), x_test.float()
        if len(x_test) == 0:  # no test set of its own: split off test_fraction
            x_all, y_all, fixed_split = x_train, y_train, False
    else:
        source = d["source"]
        _, outputs, task = shapes.data_shape(d)  # type: ignore[misc]
        name = source
        if source in sources.GENERATED:
            x_all, y_all = GENERATORS[source](d, g)
            fixed_split = False
        elif source == "digits":
            x_all, y_all = load_digits()
            fixed_split = False
        else:
            sources.check_data_source(d, base)  # the files' checks (cached): no unchecked file is read
            folder = sources.data_folder(d, base)
            x_train, y_train, x_test, y_test = (load_cifar10 if source == "cifar10" else load_mnist)(folder)
    if not fixed_split:
        n = len(x_all)
        perm = torch.randperm(n, generator=g)
        n_test = sizes.held_out(n, p["test_fraction"])
        train_idx, test_idx = perm[: n - n_test], perm[n - n_test :]
        x_train, y_train, x_test, y_test = x_all[train_idx], y_all[train_idx], x_all[test_idx], y_all[test_idx]
    else:
        perm = torch.randperm(len(x_train), generator=g)  # a seeded subset when train_size caps it
        x_train, y_train = x_train[perm], y_train[perm]
    # validation: the end of the (seeded, shuffled) training part, so the training samples train_size
    # keeps are those it kept before there was a validation split
    n_val = sizes.val_held_out(len(x_train), p.get("val_fraction", 0.0))
    kept = len(x_train) - n_val
    x_val, y_val, x_train, y_train = x_train[kept:], y_train[kept:], x_train[:kept], y_train[:kept]
    n_train, n_test = _cap(len(x_train), p["train_size"]), _cap(len(x_test), p["test_size"])
    x_train, y_train, x_test, y_test = x_train[:n_train], y_train[:n_train], x_test[:n_test], y_test[:n_test]
    if task == "regression":
        y_train, y_test, y_val = (y.float().reshape(len(y), -1) for y in (y_train, y_test, y_val))
    else:
        y_train, y_test, y_val = y_train.long(), y_test.long(), y_val.long()
    x_val_kept = x_val.contiguous() if n_val else None
    return Data(
        x_train.contiguous(),
        y_train,
        x_test.contiguous(),
        y_test,
        task,
        outputs,
        name,
        x_val_kept,
        y_val if n_val else None,
    )
