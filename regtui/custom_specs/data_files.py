"""The MNIST and CIFAR-10 files of a data folder, checked before training (torch-free, numpy-free).

A damaged file is refused when the plan is made, in one line naming the file and
what is wrong, instead of failing the run mid-way: an empty or truncated file, a
header that is short or does not match the data's size, a ``.gz`` file that is
not gzip or whose stream is corrupt, images that are not 28×28 (MNIST) or
3×32×32 (CIFAR-10), zero images, labels outside 0–9, a CIFAR-10 batch whose
``data`` is not a uint8 array (an array of Python objects, say), labels and images
of different counts. Numbers from a file are quoted short (``4.29e+09``), never
with hundreds of digits.

A CIFAR-10 batch is a pickle: it is read by an unpickler that admits only what
those files hold (numpy arrays, dtypes and scalars, the bytes, lists and dicts
around them) and builds stand-ins for the arrays instead of numpy objects, so
nothing in the file runs and nothing large is allocated. The engine's reader
(:mod:`regtui.engine.custom.data`) admits the same names.

Each file's verdict is kept per file version (path, size, modification time), so
the dashboard's form, which plans on every edit, reads a folder once.
"""

from __future__ import annotations

import array
import codecs
import gzip
import math
import pickle
import struct
import sys
import zlib
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from regtui.specs import ConfigError

MNIST_SIDE = 28
CIFAR_PIXELS = 3 * 32 * 32
CLASSES = 10
CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"


class DamagedFile(Exception):
    """What is wrong with one file (the message names neither the file nor the source)."""


def count(n: int) -> str:
    """A count from a file, short: 31,360 or 4.29e+09 (a header may claim any size)."""
    if abs(n) < 10**7:
        return f"{n:,}"
    if abs(n) < 10**300:
        return f"{float(n):.3g}"
    return f"{'-' if n < 0 else ''}about 10^{int(abs(n).bit_length() * math.log10(2))}"


def _size(n: int) -> str:
    """A size in bytes, short: 984 bytes, 30.6 KB, 3.4e+03 GB."""
    if n < 1024:
        return f"{n} bytes"
    size = n / 1024
    for unit in ("KB", "MB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB" if size < 1024 else f"{size:.3g} GB"


def _first_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= 80 else text[:77] + "..."


# --- a cache per file version --------------------------------------------------------------------

_VERDICTS: dict[tuple[str, int, int, int], Any] = {}


def _cached(path: Path, check: Callable[[Path], Any]) -> Any:
    """``check(path)``'s result (or its DamagedFile) once per version of the file."""
    try:
        st = path.stat()
    except OSError as exc:
        raise DamagedFile(f"cannot be read: {exc.strerror or exc}") from None
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _VERDICTS:
        try:
            _VERDICTS[key] = check(path)
        except DamagedFile as exc:
            _VERDICTS[key] = exc
        except OSError as exc:
            _VERDICTS[key] = DamagedFile(f"cannot be read: {exc.strerror or _first_line(exc)}")
    verdict = _VERDICTS[key]
    if isinstance(verdict, DamagedFile):
        raise verdict
    return verdict


# --- MNIST: idx-ubyte files, gzipped or not ------------------------------------------------------


def _chunks(path: Path) -> Generator[bytes]:
    """The file's bytes (decompressed when its name ends in .gz), a chunk at a time."""
    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        if path.suffix == ".gz":
            if magic != GZIP_MAGIC:
                raise DamagedFile("not gzip-compressed, though its name ends in .gz")
            yield from _gunzip(raw)
            return
        if magic == GZIP_MAGIC:
            raise DamagedFile(f"gzip-compressed, though its name does not end in .gz (rename it {path.name}.gz)")
        while chunk := raw.read(CHUNK):
            yield chunk


def _gunzip(raw: BinaryIO) -> Generator[bytes]:
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
    except EOFError:
        raise DamagedFile("truncated gzip data (the stream ends before its end marker)") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DamagedFile(f"corrupt gzip data ({_first_line(exc)})") from None


@dataclass(frozen=True)
class Idx:
    """What an idx file holds: its sizes, and for labels the largest one."""

    dims: tuple[int, ...]
    largest: int  # the largest data byte (labels: the largest label); -1 when there is no data


def _read_idx(path: Path, role: str) -> Idx:
    """Check an idx-ubyte file of ``role`` "images" (N, 28, 28) or "labels" (N,)."""
    with closing(_chunks(path)) as data:
        return _idx(data, role)


def _idx(data: Iterator[bytes], role: str) -> Idx:
    ndim_needed = 3 if role == "images" else 1
    head = b""
    for chunk in data:
        head += chunk
        if len(head) >= 4 + 4 * 3:
            break
    if not head:
        raise DamagedFile("empty file (or empty once decompressed)")
    if len(head) < 4:
        raise DamagedFile(f"short header: {len(head)} bytes, an idx file starts with a 4-byte magic number")
    if head[0] != 0 or head[1] != 0:
        raise DamagedFile("not an idx-ubyte file (it does not start with the idx magic number 0x0000)")
    if head[2] != 0x08:
        raise DamagedFile(f"holds idx data of type 0x{head[2]:02X}; MNIST files hold unsigned bytes (type 0x08)")
    ndim = head[3]
    if ndim != ndim_needed:
        shape = "(count, 28, 28)" if role == "images" else "(count,)"
        raise DamagedFile(f"an idx file of {ndim} dimension(s); {role} need {ndim_needed}: {shape}")
    start = 4 + 4 * ndim
    if len(head) < start:
        raise DamagedFile(f"short header: {len(head)} bytes, an idx header of {ndim} dimension(s) is {start} bytes")
    dims = struct.unpack(f">{ndim}I", head[4:start])
    if dims[0] == 0:
        raise DamagedFile(f"holds zero {role} (its header says 0)")
    if role == "images" and dims[1:] != (MNIST_SIDE, MNIST_SIDE):
        raise DamagedFile(f"holds images of {count(dims[1])}×{count(dims[2])}; MNIST images are 28×28")
    expected = dims[0] * (MNIST_SIDE * MNIST_SIDE if role == "images" else 1)
    got, largest, first_bad = 0, -1, -1
    for chunk in chain((head[start:],), data):
        if role == "labels" and chunk and first_bad < 0 and max(chunk) >= CLASSES:
            first_bad = got + next(i for i, b in enumerate(chunk) if b >= CLASSES)
            largest = chunk[first_bad - got]
        got += len(chunk)
        if got > expected:
            break  # no need to read (or decompress) the rest of a file that is too long
    what = f"its header says {count(dims[0])} {role}"
    if got < expected:
        raise DamagedFile(f"truncated: {what} ({_size(expected)} of data) but it holds {_size(got)}")
    if got > expected:
        raise DamagedFile(f"{what} ({_size(expected)} of data) but it holds more")
    if first_bad >= 0:
        raise DamagedFile(f"label {largest} (label {count(first_bad + 1)}) is out of range; MNIST labels are 0–9")
    return Idx(dims, largest)


def check_mnist(files: dict[str, Path], source: str) -> tuple[int, int]:
    """The four idx files of ``source`` checked; (training images, test images). ConfigError naming the file."""
    found: dict[str, Idx] = {}
    for name, path in files.items():
        role = "images" if "images" in name else "labels"
        try:
            found[name] = _cached(path, partial(_read_idx, role=role))
        except DamagedFile as exc:
            raise ConfigError(f"data ({source}): {path}: {exc}") from None
    counts = []
    for split in ("train", "t10k"):
        images, labels = f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"
        n_images, n_labels = found[images].dims[0], found[labels].dims[0]
        if n_images != n_labels:
            raise ConfigError(
                f"data ({source}): {files[images]} holds {count(n_images)} images but "
                f"{files[labels]} holds {count(n_labels)} labels"
            )
        counts.append(n_images)
    return counts[0], counts[1]


# --- CIFAR-10: python pickle batches -------------------------------------------------------------

# What CIFAR-10's batches hold (numpy arrays, dtypes, scalars; protocol 2 writes bytes through
# _codecs.encode, and b"" as bytes()); the engine's unpickler admits exactly these names.
NUMPY_NAMES: dict[tuple[str, str], str] = {
    ("numpy.core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy._core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy.core.numeric", "_frombuffer"): "frombuffer",
    ("numpy._core.numeric", "_frombuffer"): "frombuffer",
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
    ("numpy.core.multiarray", "scalar"): "scalar",
    ("numpy._core.multiarray", "scalar"): "scalar",
}
BYTES_NAMES = {("_codecs", "encode"), ("__builtin__", "bytes"), ("builtins", "bytes")}
ALLOWED = set(NUMPY_NAMES) | BYTES_NAMES


def latin1_encode(text: Any, encoding: str = "utf-8", *_: Any) -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it (text to bytes, latin-1); nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(
            f"_codecs.encode of {_kind(text)} to {_text(encoding)!r} is not allowed (latin-1 only)"
        )
    return codecs.encode(text, "latin1")


def empty_bytes(*args: Any) -> bytes:
    """``bytes()`` as protocol-2 pickles write b"" (``bytes(10**12)`` would allocate: refused)."""
    if args:
        raise pickle.UnpicklingError("bytes(...) with arguments is not allowed in a CIFAR-10 batch")
    return b""


class _Dtype:
    """A numpy dtype as the pickle describes it: its code ('u1', 'i8', 'O8' …) and byte order."""

    def __init__(self, code: Any = "", *_: Any) -> None:
        self.code = _text(code)
        self.order = "|"

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) > 1:
            self.order = _text(state[1])


def _text(value: Any) -> str:
    """A short string from a pickle (Python 2's pickles, CIFAR-10's own, hold bytes)."""
    if isinstance(value, bytes):
        value = value.decode("latin1")
    return value[:20] if isinstance(value, str) else repr(value)[:20]


class _Array:
    """A numpy array as the pickle describes it: shape, dtype and its raw data (a list for objects)."""

    def __init__(self, shape: Any = (), dtype: Any = None, raw: Any = None) -> None:
        self.shape, self.dtype, self.raw = shape, dtype, raw

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) < 4:
            raise pickle.UnpicklingError("an ndarray with a malformed state")
        self.shape, self.dtype, _, self.raw = state[-4:]


def _reconstruct(cls: Any, *_: Any) -> _Array:
    if cls is not _Array:
        raise pickle.UnpicklingError("_reconstruct of something other than an ndarray")
    return _Array()


def _frombuffer(buf: Any, dtype: Any, shape: Any, *_: Any) -> _Array:
    return _Array(shape, dtype, bytes(buf) if isinstance(buf, (bytes, bytearray, memoryview)) else buf)


_INT_CODES = {"i1": "b", "u1": "B", "i2": "h", "u2": "H", "i4": "i", "u4": "I", "i8": "q", "u8": "Q"}


def _ints(dtype: _Dtype, raw: bytes) -> list[int] | None:
    """The integers of an integer array's (or scalar's) raw data; None for another dtype."""
    code = _INT_CODES.get(dtype.code.lstrip("<>|="))
    if code is None or not isinstance(raw, (bytes, bytearray)):
        return None
    values = array.array(code)
    if len(raw) % values.itemsize:
        return None
    values.frombytes(raw)
    big = dtype.order == ">" or (dtype.order == "=" and sys.byteorder == "big")
    if big != (sys.byteorder == "big"):
        values.byteswap()
    return values.tolist()


class _Scalar:
    """A numpy scalar: an int for integer dtypes, kept as a stand-in otherwise (not a valid label)."""

    def __init__(self, dtype: _Dtype, raw: Any) -> None:
        self.dtype, self.raw = dtype, raw

    def __repr__(self) -> str:
        return f"a numpy {self.dtype.code} scalar"


def _scalar(dtype: Any, raw: Any = b"", *_: Any) -> Any:
    if isinstance(dtype, _Dtype):
        values = _ints(dtype, raw)
        if values is not None and len(values) == 1:
            return values[0]
    return _Scalar(dtype, raw)


_STAND_INS: dict[str, Any] = {
    "reconstruct": _reconstruct,
    "frombuffer": _frombuffer,
    "ndarray": _Array,
    "dtype": _Dtype,
    "scalar": _scalar,
}


class _CheckingUnpickler(pickle.Unpickler):
    """Admits only :data:`ALLOWED`, and gives stand-ins for numpy's: nothing in the file runs."""

    STAND_INS: ClassVar[dict[str, Any]] = _STAND_INS

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR-10 batch")
        if (module, name) == ("_codecs", "encode"):
            return latin1_encode
        if name == "bytes":
            return empty_bytes
        return self.STAND_INS[NUMPY_NAMES[(module, name)]]


def _kind(value: Any) -> str:
    if isinstance(value, _Array):
        return "an array"
    names = {dict: "a dict", list: "a list", tuple: "a tuple", bytes: "bytes", str: "text", int: "an integer"}
    return names.get(type(value), type(value).__name__)


def _dims(shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise DamagedFile("data is an array with a malformed shape")
    return shape


def _labels(value: Any) -> list[Any]:
    if isinstance(value, _Array) and isinstance(value.dtype, _Dtype):
        ints = _ints(value.dtype, value.raw)
        if ints is None:
            raise DamagedFile(f"labels are an array of dtype {value.dtype.code!r}; expected integers 0–9")
        return ints
    if not isinstance(value, (list, tuple)):
        raise DamagedFile(f"labels are {_kind(value)}; expected a list of integers 0–9")
    return list(value)


def _read_cifar(path: Path) -> int:
    """Check one CIFAR-10 batch file; its number of images."""
    with open(path, "rb") as f:
        if not f.read(1):
            raise DamagedFile("empty file")
        f.seek(0)
        try:
            batch = _CheckingUnpickler(f, encoding="bytes").load()
        except DamagedFile:
            raise
        except EOFError:
            raise DamagedFile("truncated: the pickle ends before its end") from None
        except (pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
            raise DamagedFile(f"not a CIFAR-10 python batch ({_first_line(exc)})") from None
        except (MemoryError, RecursionError) as exc:
            raise DamagedFile(f"not a CIFAR-10 python batch ({type(exc).__name__})") from None
    if not isinstance(batch, dict):
        raise DamagedFile(f"not a CIFAR-10 python batch (it holds {_kind(batch)}, not a dict)")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DamagedFile("not a CIFAR-10 python batch (no data and labels)")
    if not isinstance(data, _Array):
        raise DamagedFile(f"data is {_kind(data)}; expected a uint8 array (count, 3072)")
    dtype = data.dtype.code if isinstance(data.dtype, _Dtype) else "?"
    if dtype.lstrip("<>|=").startswith("O"):
        raise DamagedFile("data is an array of Python objects; expected a uint8 array (count, 3072)")
    if dtype.lstrip("<>|=") != "u1":
        raise DamagedFile(f"data is an array of dtype {dtype!r}; expected uint8 (count, 3072)")
    dims = _dims(data.shape)
    if len(dims) != 2 or dims[1] != CIFAR_PIXELS:
        shape = "(" + ", ".join(count(d) for d in dims) + ")"
        raise DamagedFile(f"data is {shape}; expected (count, 3072): images of 3×32×32")
    n = dims[0]
    if n == 0:
        raise DamagedFile("an empty batch (zero images)")
    size = len(data.raw) if isinstance(data.raw, (bytes, bytearray)) else -1
    if size != n * CIFAR_PIXELS:
        raise DamagedFile(f"data's shape needs {_size(n * CIFAR_PIXELS)}, its array holds {_size(max(size, 0))}")
    values = _labels(labels)
    if len(values) != n:
        raise DamagedFile(f"{count(len(values))} labels for {count(n)} images")
    for i, label in enumerate(values):
        if not isinstance(label, int) or isinstance(label, bool):
            raise DamagedFile(f"label {i + 1} is {_kind(label)}, not an integer 0–9")
        if not 0 <= label < CLASSES:
            raise DamagedFile(f"label {count(label)} (label {count(i + 1)}) is out of range; CIFAR-10 labels are 0–9")
    return n


def check_cifar(files: dict[str, Path], source: str = "cifar10") -> tuple[int, int]:
    """The six batches checked; (training images, test images). ConfigError naming the file."""
    counts: dict[str, int] = {}
    for name, path in files.items():
        try:
            counts[name] = _cached(path, _read_cifar)
        except DamagedFile as exc:
            raise ConfigError(f"data ({source}): {path}: {exc}") from None
    return sum(n for name, n in counts.items() if name != "test_batch"), counts["test_batch"]
