"""Output files: checked before a run starts, written atomically after it.

A file is written to a temporary file in its own folder, flushed to disk and
renamed over the target, so an earlier file survives any failure (a full disk,
a kill mid-write) whole.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from regtui.specs import ConfigError


def check_writable(option: str, name: str) -> Path:
    """The path, or a one-line ConfigError saying why the file could not be written there."""
    if not name.strip():
        raise ConfigError(f"{option}: the path is empty; give a file name")
    path = Path(os.path.realpath(name))  # through a symlink: the rename replaces its target, not the link
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise ConfigError(f"{option}: {name}: {exc.strerror}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise ConfigError(f"{option}: {name} is a directory; give a file path")
    if mode is not None and not stat.S_ISREG(mode):
        raise ConfigError(f"{option}: {name} is not a regular file (a device, pipe or socket); give a file path")
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"{option}: the folder {folder} does not exist")
    try:  # the only sure test of "can write here" is writing
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"{option}: cannot write in {folder}: {exc.strerror or exc}") from None
    return path


def write_atomic(path: Path, content: str | Callable[[TextIO], object]) -> None:
    """Write ``content`` (text, or a function that writes to a stream) to ``path`` via a temporary
    file and a rename; OSError on failure, and the target is untouched."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if isinstance(content, str):
                handle.write(content)
            else:
                content(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mode_for(path: Path) -> int:
    """Keep an existing file's mode; a new file gets the usual 0666 less the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def say(line: str) -> None:
    """One line on stderr, or nothing where stderr is closed or broken (a message never crashes a run)."""
    stream = sys.stderr
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        stream.write(line + "\n")
        stream.flush()


def write_stdout(write: Callable[[TextIO], object]) -> OSError | None:
    """Write to stdout with ``write``; the error if stdout is closed, broken (a reader that went
    away: ``| head -c 100``) or full (``> /dev/full``), after which stdout writes to /dev/null, so
    nothing fails again when the interpreter flushes it at exit."""
    stream = sys.stdout
    try:
        if stream is None:
            raise OSError(errno.EBADF, "stdout is closed")
        write(stream)
        stream.flush()
    except OSError as exc:
        _silence_stdout()
        return exc
    return None


def _silence_stdout() -> None:
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    stream = sys.stdout
    if stream is not None:
        with contextlib.suppress(OSError, ValueError):
            stream.flush()  # what was left in its buffer now goes to /dev/null


def is_terminal(stream: TextIO | None) -> bool:
    """Whether ``stream`` is open on a terminal (False for a stream closed when the process started)."""
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A folder beside ``out`` to write an export into; moved into ``out`` once the block ends without
    error, deleted whatever happens: an export that fails (a full disk) leaves no partial folder, and
    what ``out`` held before stays, but for the entries the export replaces."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))
    try:
        yield staging
        out.mkdir(exist_ok=True)
        for entry in sorted(staging.iterdir()):
            target = out / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            entry.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def quiet_thread_errors() -> Iterator[None]:
    """While the block runs, an OSError that ends a library's writer thread is not printed as
    "Exception in thread …" (the library raises it again in the caller, who reports it in one line)."""
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if not isinstance(args.exc_value, OSError):
            previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous
