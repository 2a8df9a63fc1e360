"""Where a ``train`` scenario's data and code come from: built-in sources, data folders, factories.

Torch-free and without running anything: a factory's file must exist, parse
and define the function (it is imported only in the process that trains,
:mod:`regtui.engine.custom.preflight`); a data set's files must be in its
folder, and sound (:mod:`.data_files`); an optional package must be installed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import os
import re
from pathlib import Path
from typing import Any

from regtui.custom_specs import data_files
from regtui.specs import ConfigError

GENERATED = ("regression", "moons", "circles", "spirals", "images")
FOLDERS = ("mnist", "fashion-mnist", "cifar10")
SOURCES = (*GENERATED, "digits", *FOLDERS)
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")
GET_FILES = {
    "mnist": "the four idx-ubyte files (gz or not) from http://yann.lecun.com/exdb/mnist/ (or any MNIST mirror)",
    "fashion-mnist": "the four idx-ubyte files (gz or not) from https://github.com/zalandoresearch/fashion-mnist",
    "cifar10": "the 'CIFAR-10 python version' from https://www.cs.toronto.edu/~kriz/cifar.html, unpacked",
}


class MissingPackage(ConfigError):
    """A scenario's data needs an optional package that is not installed (the dashboard says which, and how
    to install it, and checks again at the next Run)."""

    def __init__(self, message: str, package: str, install: str) -> None:
        super().__init__(message)
        self.package = package
        self.install = install


def resolve_ref(ref: str, base: Path) -> tuple[Path | None, str, str]:
    """(file or None, module name, function) of 'file.py:fn' (relative to ``base``) or 'pkg.mod:fn'."""
    target, fn = ref.split(":")
    if target.endswith(".py") or "/" in target or os.sep in target:
        path = Path(os.path.expanduser(target))
        if not path.is_absolute():
            path = base / path
        return path, path.stem, fn
    return None, target, fn


def check_factory(where: str, ref: str, base: Path) -> None:
    """Torch-free: the file exists, parses and defines the function; or the module can be found."""
    path, module, fn = resolve_ref(ref, base)
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"{where}: factory file not found: {path}")
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except SyntaxError as exc:
            raise ConfigError(
                f"{where}: factory file {path} cannot be imported: SyntaxError at line {exc.lineno}: {exc.msg}"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: factory file {path} cannot be read: {exc}") from None
        names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        names |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        names |= {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        if fn not in names:
            raise ConfigError(f"{where}: factory file {path} defines no {fn!r}")
        return
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"{where}: factory module {module!r} cannot be imported: {exc}") from None
    if spec is None:
        raise ConfigError(f"{where}: factory module {module!r} cannot be imported: no module named {module!r}")


def data_folder(data: dict[str, Any], base: Path) -> Path:
    path = Path(os.path.expanduser(data["path"]))
    return path if path.is_absolute() else base / path


def find_files(folder: Path, names: tuple[str, ...], gz: bool) -> dict[str, Path] | None:
    """Each name's file in ``folder`` or one of its usual subfolders (``raw/``, the archive's own folder)."""
    for where in (
        folder,
        folder / "raw",
        folder / "cifar-10-batches-py",
        folder / "MNIST" / "raw",
        folder / "FashionMNIST" / "raw",
    ):
        found: dict[str, Path] = {}
        for name in names:
            for candidate in (where / name, where / f"{name}.gz") if gz else (where / name,):
                if candidate.is_file():
                    found[name] = candidate
                    break
        if len(found) == len(names):
            return found
    return None


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: blocked (sys.modules[name] is None)
        return False


def check_data_source(data: dict[str, Any], base: Path) -> tuple[int, int] | None:
    """A folder source's files are in the folder and sound (:mod:`.data_files`); one-line error
    otherwise. A folder's (training, test) image counts; None for other sources (the digits ship
    with regtui)."""
    source = data.get("source")
    if source in FOLDERS:
        folder = data_folder(data, base)
        if not folder.is_dir():
            raise ConfigError(
                f"data ({source}): folder {folder} not found; put {GET_FILES[source]} there, "
                f"or run: regtui download {source} {folder}"
            )
        names = MNIST_FILES if source != "cifar10" else CIFAR_FILES
        files = find_files(folder, names, gz=source != "cifar10")
        if files is None:
            raise ConfigError(
                f"data ({source}): {folder} does not hold {', '.join(names)}; put "
                f"{GET_FILES[source]} there, or run: regtui download {source} {folder}"
            )
        return (data_files.check_cifar if source == "cifar10" else data_files.check_mnist)(files, source)
    return None


# --- image augmentation ([data] augment) -----------------------------------------------------------

AUGMENTS = ("random_crop", "hflip")  # torchvision.transforms.v2 RandomCrop(padding) and RandomHorizontalFlip(0.5)
AUGMENT_KEYS = ("augment", "crop_padding")
CROP_PADDING = 4  # random_crop's default padding (pixels of zeros on each side, as the CIFAR recipes use)
VISION_EXTRA = 'pip install "regtui[vision]"'  # where torch's own version is not known
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
FLAT_SOURCES = ("regression", "moons", "circles", "spirals")  # built-in sources whose samples are not images


def vision_install() -> str:
    """The command that installs the torchvision made for the torch installed here: torch 2.B pins
    torchvision 0.(B+15), and a CPU build (``+cpu``) needs PyTorch's CPU index. An unpinned
    ``regtui[vision]`` would make pip replace torch with the newest, a multi-GB CUDA build."""
    try:
        version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return VISION_EXTRA
    match = re.match(r"2\.(\d+)\.", version)
    if match is None:
        return VISION_EXTRA
    command = f'pip install "torchvision==0.{int(match.group(1)) + 15}.*"'
    return command + (f" --index-url {CPU_INDEX}" if version.endswith("+cpu") else "")


def check_augment(data: dict[str, Any]) -> dict[str, Any]:
    """The ``augment`` and ``crop_padding`` keys of a [data] table, checked (torch-free): a list of
    :data:`AUGMENTS` names for an image source; {} where the table has neither."""
    if not any(k in data for k in AUGMENT_KEYS):
        return {}
    where = f"data ({data['source']})" if "source" in data else "data"
    names = data.get("augment", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}: augment = {names!r} is not allowed; expected a list of names from {AUGMENTS}")
    for name in names:
        if name not in AUGMENTS:
            raise ConfigError(f"{where}: augment {name!r} is not allowed; expected names from {', '.join(AUGMENTS)}")
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: augment = {names!r} names a transform twice; expected each name at most once")
    padding = data.get("crop_padding", CROP_PADDING)
    if isinstance(padding, bool) or not isinstance(padding, int) or not 0 <= padding <= 1024:
        raise ConfigError(f"{where}: crop_padding = {padding!r} is not allowed; expected an integer >= 0 and <= 1024")
    if "crop_padding" in data and "random_crop" not in names:
        raise ConfigError(f"{where}: crop_padding is random_crop's; expected augment to name it")
    if data.get("source") in FLAT_SOURCES and names:
        raise ConfigError(
            f"{where}: augment is for image data (N, C, H, W inputs); source {data['source']!r} gives flat "
            "samples: remove augment"
        )
    out: dict[str, Any] = {"augment": list(names)}
    if "random_crop" in names:
        out["crop_padding"] = padding
    return out


def check_vision(data: dict[str, Any]) -> None:
    """A [data] augment needs torchvision (its transforms): a one-line error naming the extra where it is absent."""
    if data.get("augment") and not _installed("torchvision"):
        install = vision_install()
        raise MissingPackage(
            f"data: augment needs torchvision, which is not installed: {install}", "torchvision", install
        )
