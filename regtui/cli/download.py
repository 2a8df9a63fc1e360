"""``regtui download SOURCE FOLDER``: fetch MNIST, Fashion-MNIST or CIFAR-10 when the user asks.

The only place regtui touches the network, and only on this explicit command:
scenario files, plans and runs never download (a missing dataset is a one-line
error naming the folder and this command). The download itself is
torchvision's (``torchvision.datasets.MNIST/FashionMNIST/CIFAR10`` with
``download=True``: mirrors, checksums, unpacking), an optional extra (the
torchvision made for the installed torch: :func:`~regtui.custom_specs.sources.vision_install`);
the files it leaves are the standard ones
that regtui's own readers (:mod:`regtui.engine.custom.data`) then read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from regtui.cli.common import EXIT_BAD_INPUT, print_error
from regtui.custom_specs import sources
from regtui.specs import ConfigError

CLASSES = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "cifar10": "CIFAR10"}


def _datasets() -> object:
    try:
        from torchvision import datasets  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise ConfigError(
            f"regtui download needs torchvision, which is not installed: {sources.vision_install()}"
        ) from None
    except Exception as exc:  # a torchvision built for another torch: "operator torchvision::nms does not exist"
        raise ConfigError(
            f"torchvision is installed but does not load with this torch ({_first_line(exc)}); install the build made "
            f"for your torch: {sources.vision_install()}"
        ) from None
    return datasets


def _first_line(exc: BaseException) -> str:
    """An exception's first line (torchvision's download errors run over several), for a one-line error."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def download(source: str, folder: Path) -> Path:
    """Download ``source`` into ``folder`` (train and test sets); the folder the readers will use.

    ConfigError (one line) for an unknown source, a missing torchvision, a
    failed download (no network, a mirror down) or files the readers do not find.
    """
    if source not in CLASSES:
        raise ConfigError(f"download: unknown source {source!r}; choose one of: {', '.join(CLASSES)}")
    names = sources.MNIST_FILES if source != "cifar10" else sources.CIFAR_FILES
    if sources.find_files(folder, names, gz=source != "cifar10") is not None:
        return folder  # already there: no network needed
    dataset = getattr(_datasets(), CLASSES[source])
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for train in (True, False):
            dataset(str(folder), train=train, download=True)
    except (OSError, RuntimeError, ValueError) as exc:  # URLError is an OSError; torchvision raises RuntimeError
        raise ConfigError(
            f"download: could not download {source} into {folder}: {_first_line(exc)}; without a network, "
            f"put {sources.GET_FILES[source]} there by hand"
        ) from None
    if sources.find_files(folder, names, gz=source != "cifar10") is None:
        raise ConfigError(f"download: {source} was downloaded into {folder}, but {', '.join(names)} are not there")
    return folder


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("source", metavar="SOURCE")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def download_command(source: str, folder: Path) -> None:
    """Download SOURCE (mnist, fashion-mnist or cifar10) into FOLDER, with torchvision.

    Then use it in a scenario file: [data] source = "SOURCE", path = "FOLDER".
    """
    try:
        where = download(source, folder.expanduser())
    except ConfigError as exc:
        print_error(str(exc))
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f'{source} is in {where}: use it with [data] source = "{source}", path = "{where}"')
