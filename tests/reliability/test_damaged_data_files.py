"""Damaged MNIST and CIFAR-10 files are refused before training: exit 2, one line naming the file and the fault.

Every case writes real files in the on-disk formats (idx-ubyte, gzipped or not; CIFAR-10's python
pickles) into tmp_path, damages one, and runs ``regtui --scenario … --json`` in-process: the run
must not start (``forbid_runs``), and the one error line names the file and what is wrong, with
no number longer than a few digits. None of the hostile pickles may run anything.
"""

from __future__ import annotations

import gzip
import os
import pickle
import re
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from reliability_support import one_error_line

from regtui.custom_specs import data_files

MNIST = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")

SCENARIO = """
experiment = "train"
[params]
steps = 2
batch = 4
log_every = 1
[model]
layers = [{{type = "flatten"}}, {{type = "linear", out = 4}}, {{type = "relu"}}, {{type = "linear"}}]
[data]
source = "{source}"
path = "data"
"""


def idx(array: np.ndarray, dims: tuple[int, ...] | None = None) -> bytes:
    """An idx-ubyte file: magic 0x00000803 or 0x00000801, big-endian sizes, the bytes."""
    dims = array.shape if dims is None else dims
    return struct.pack(">BBBB", 0, 0, 0x08, len(dims)) + struct.pack(f">{len(dims)}I", *dims) + array.tobytes()


def mnist_files(n_train: int = 12, n_test: int = 6) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    return {
        MNIST[0]: idx(rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)),
        MNIST[1]: idx((np.arange(n_train) % 10).astype(np.uint8)),
        MNIST[2]: idx(rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)),
        MNIST[3]: idx((np.arange(n_test) % 10).astype(np.uint8)),
    }


def cifar_batch(n: int = 4, **changes: object) -> dict[bytes, object]:
    rng = np.random.default_rng(1)
    batch: dict[bytes, object] = {
        b"batch_label": b"a batch",
        b"labels": [int(v) for v in rng.integers(0, 10, n)],
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [b"x.png"] * n,
    }
    batch.update({k.encode(): v for k, v in changes.items()})
    return batch


def cifar_files(protocol: int = 2) -> dict[str, bytes]:
    return {name: pickle.dumps(cifar_batch(), protocol=protocol) for name in CIFAR}


@pytest.fixture
def refused(cli, forbid_runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Write the data folder's files (name -> bytes) and a scenario; run it; return the one error line."""

    def run(source: str, files: dict[str, bytes], damaged: str) -> str:
        folder = tmp_path / "data"
        folder.mkdir()
        for name, content in files.items():
            (folder / name).write_bytes(content)
        (tmp_path / "mine.toml").write_text(SCENARIO.format(source=source), encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        result = cli("--scenario", "mine.toml", "--json", "--device", "cpu")
        assert result.exit_code == 2, (result.exit_code, result.stderr)
        assert result.stdout == ""
        message = one_error_line(result.stderr)
        assert message.startswith(f"data ({source}): ") and damaged in message, message
        assert not re.search(r"\d{11}", message), f"a long number in {message!r}"
        return message

    return run


def gz(content: bytes) -> bytes:
    return gzip.compress(content, mtime=0)


def with_gz(files: dict[str, bytes], name: str, content: bytes) -> dict[str, bytes]:
    """The files gzipped, with ``name``'s .gz file replaced by ``content``."""
    out = {f"{n}.gz": gz(c) for n, c in files.items()}
    out[f"{name}.gz"] = content
    return out


def images_header(n: int, h: int = 28, w: int = 28) -> bytes:
    return struct.pack(">BBBBIII", 0, 0, 8, 3, n, h, w)


# --- MNIST -------------------------------------------------------------------------------------

GOOD = mnist_files()

MNIST_CASES = {
    "truncated": (MNIST[0], GOOD[MNIST[0]][:1000], "truncated: its header says 12 images"),
    "garbage": (MNIST[0], os.urandom(64).replace(b"\x00", b"\x01"), "not an idx-ubyte file"),
    "short header": (MNIST[0], b"\x00\x00\x08\x03\x00\x00\x00", "short header: 7 bytes"),
    "empty": (MNIST[1], b"", "empty file"),
    "zero images": (MNIST[2], images_header(0), "holds zero images"),
    "28x29 images": (MNIST[0], images_header(12, 28, 29) + bytes(12 * 28 * 29), "images of 28×29"),
    "more data than the header": (MNIST[0], GOOD[MNIST[0]] + bytes(784), "holds more"),
    "a header of 255 dimensions": (MNIST[0], b"\x00\x00\x08\xff" + b"\xff" * 1020, "255 dimension(s)"),
    "4e9 images claimed": (MNIST[0], images_header(2**32 - 1) + bytes(784), "4.29e+09 images"),
    "signed bytes": (MNIST[1], b"\x00\x00\x09\x01\x00\x00\x00\x0c" + bytes(12), "type 0x09"),
    "label 169": (MNIST[1], idx(np.array([1, 2, 169, *range(9)], dtype=np.uint8)), "label 169 (label 3)"),
    "label count": (MNIST[1], idx(np.arange(11, dtype=np.uint8) % 10), "holds 12 images but"),
}


@pytest.mark.parametrize("case", list(MNIST_CASES))
def test_a_damaged_mnist_file_is_refused_before_training(refused, case):
    name, content, damaged = MNIST_CASES[case]
    message = refused("mnist", {**GOOD, name: content}, damaged)
    assert name in message


GZ_CASES = {
    "not gzip": (MNIST[0], GOOD[MNIST[0]], "not gzip-compressed"),
    "truncated stream": (MNIST[0], gz(GOOD[MNIST[0]])[:-100], "truncated gzip data"),
    "corrupt stream": (MNIST[0], None, "corrupt gzip data"),
    "empty once decompressed": (MNIST[3], gz(b""), "empty file"),
    "truncated inside": (MNIST[0], gz(GOOD[MNIST[0]][:5000]), "truncated: its header says 12 images"),
}


def _corrupt(content: bytes) -> bytes:
    """A gzip stream with its CRC-32 trailer changed: every byte decompresses, the check fails."""
    return content[:-8] + bytes(b ^ 0xFF for b in content[-8:-4]) + content[-4:]


@pytest.mark.parametrize("case", list(GZ_CASES))
def test_a_damaged_gz_file_is_refused_before_training(refused, case):
    name, content, damaged = GZ_CASES[case]
    if content is None:
        content = _corrupt(gz(GOOD[name]))
    message = refused("fashion-mnist", with_gz(GOOD, name, content), damaged)
    assert f"{name}.gz" in message


def test_a_gzipped_file_without_gz_in_its_name_is_refused_with_the_name_to_give_it(refused):
    message = refused("mnist", {**GOOD, MNIST[1]: gz(GOOD[MNIST[1]])}, "gzip-compressed")
    assert f"rename it {MNIST[1]}.gz" in message


def test_sound_mnist_files_pass_the_check_and_train(cli, tmp_path, monkeypatch):
    """The check refuses only damage: the same files, undamaged (gz and not), train."""
    folder = tmp_path / "data"
    folder.mkdir()
    for i, (name, content) in enumerate(GOOD.items()):
        (folder / (f"{name}.gz" if i % 2 else name)).write_bytes(gz(content) if i % 2 else content)
    (tmp_path / "mine.toml").write_text(SCENARIO.format(source="mnist"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = cli("--scenario", "mine.toml", "--json", "--device", "cpu", "--no-save")
    assert result.exit_code == 0, result.stderr
    assert '"status": "completed"' in result.stdout


# --- CIFAR-10 ----------------------------------------------------------------------------------

CIFAR_GOOD = cifar_files()


def dumped(batch: object, protocol: int = 2) -> bytes:
    return pickle.dumps(batch, protocol=protocol)


CIFAR_CASES = {
    "garbage": (os.urandom(200).replace(b"\x80", b"\x81"), "not a CIFAR-10 python batch"),
    "truncated": (CIFAR_GOOD["data_batch_3"][:5000], "truncated"),
    "empty file": (b"", "empty file"),
    "an object array": (dumped(cifar_batch(data=np.empty((4, 3072), dtype=object))), "array of Python objects"),
    "a list of rows": (dumped(cifar_batch(data=[[0] * 3072] * 4)), "data is a list"),
    "float data": (dumped(cifar_batch(data=np.zeros((4, 3072), np.float32))), "dtype 'f4'"),
    "label 10": (dumped(cifar_batch(labels=[0, 1, 10, 2])), "label 10 (label 3) is out of range"),
    "label -1": (dumped(cifar_batch(labels=[0, -1, 3, 2])), "label -1 (label 2) is out of range"),
    "label 1e12": (dumped(cifar_batch(labels=[0, 1, 10**12, 2])), "label 1e+12"),
    "a text label": (dumped(cifar_batch(labels=[0, "cat", 3, 2])), "label 2 is text"),
    "a label array out of range": (dumped(cifar_batch(labels=np.array([0, 1, 2, 99]))), "label 99 (label 4)"),
    "an empty batch": (dumped(cifar_batch(0)), "an empty batch (zero images)"),
    "32x31 images": (dumped(cifar_batch(data=np.zeros((4, 3 * 32 * 31), np.uint8))), "data is (4, 2,976)"),
    "label count": (dumped(cifar_batch(labels=[1, 2, 3])), "3 labels for 4 images"),
    "not a dict": (dumped([1, 2, 3]), "it holds a list, not a dict"),
    "no labels": (dumped({b"data": np.zeros((4, 3072), np.uint8)}), "no data and labels"),
}


@pytest.mark.parametrize("case", list(CIFAR_CASES))
def test_a_damaged_cifar_batch_is_refused_before_training(refused, case):
    content, damaged = CIFAR_CASES[case]
    message = refused("cifar10", {**CIFAR_GOOD, "data_batch_2": content}, damaged)
    assert "data_batch_2" in message


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_sound_cifar_batches_of_every_pickle_protocol_pass_the_check_and_load(tmp_path, protocol):
    """What the check admits, the engine's reader loads (the same names allowed), numpy int labels too."""
    from regtui.engine.custom import data as data_mod

    folder = tmp_path / "c"
    folder.mkdir()
    for name in CIFAR:
        labels = [np.int64(v) for v in (3, 1, 4, 1)] if name == "test_batch" else [0, 9, 5, 2]
        (folder / name).write_bytes(dumped(cifar_batch(labels=labels), protocol))
    files = {name: folder / name for name in CIFAR}
    assert data_files.check_cifar(files) == (20, 4)
    x_train, _, _, y_test = data_mod.load_cifar10.__wrapped__(folder)
    assert x_train.shape == (20, 3, 32, 32) and y_test.tolist() == [3, 1, 4, 1]


# --- pickles that try to run code: refused, and nothing runs --------------------------------------


class _Call:
    """An object whose pickle calls ``func(*args)`` when loaded."""

    def __init__(self, func: object, *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


def hostile_pickles(marker: Path) -> dict[str, bytes]:
    import builtins
    import subprocess

    touch = f"open({str(marker)!r}, 'w').write('ran')"
    raw_global = b"\x80\x02c__builtin__\neval\nX" + struct.pack("<I", len(touch)) + touch.encode() + b"\x85R."
    return {
        "os.system": dumped({b"data": _Call(os.system, f"touch {marker}"), b"labels": []}),
        "eval": dumped(_Call(builtins.eval, touch)),
        "exec": dumped(_Call(builtins.exec, touch)),
        "subprocess": dumped(_Call(subprocess.call, ["touch", str(marker)])),
        "a raw GLOBAL": raw_global,
        "numpy.load": dumped(_Call(np.load, str(marker))),
        "bytes(10**12)": dumped(cifar_batch(data=_Call(bytes, 10**12))),
        "a codec other than latin-1": b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x04\x00\x00\x00zlib\x86R.",
        "getattr": b"\x80\x02cbuiltins\ngetattr\ncos\nsystem\n\x85R.",
    }


@pytest.mark.parametrize("name", list(hostile_pickles(Path("x"))))
def test_a_hostile_pickle_is_refused_by_the_check_and_by_the_reader_and_runs_nothing(tmp_path, name):
    from regtui.engine.custom import data as data_mod
    from regtui.specs import ConfigError

    marker = tmp_path / "ran"
    path = tmp_path / "data_batch_1"
    path.write_bytes(hostile_pickles(marker)[name])
    with pytest.raises(ConfigError) as checked:
        data_files.check_cifar({"data_batch_1": path, "test_batch": path})
    assert "is not allowed" in str(checked.value) and "\n" not in str(checked.value)
    with pytest.raises(ConfigError):
        data_mod.read_cifar_batch(path)
    assert not marker.exists()


# --- the engine reads only checked files ---------------------------------------------------------


def test_the_engine_refuses_a_damaged_folder_too(tmp_path):
    """A file damaged after the plan was made is still refused (one line) when the run loads it."""
    from regtui.engine.custom import data as data_mod
    from regtui.specs import ConfigError

    folder = tmp_path / "data"
    folder.mkdir()
    for name, content in {**GOOD, MNIST[1]: idx(np.array([3] * 11 + [200], dtype=np.uint8))}.items():
        (folder / name).write_bytes(content)
    tables = {"model": {"layers": []}, "data": {"source": "mnist", "path": str(folder)}}
    params = {"train_size": 0, "test_size": 0, "test_fraction": 0.25}
    with pytest.raises(ConfigError, match=r"train-labels-idx1-ubyte: label 200 \(label 12\) is out of range"):
        data_mod.load(tables, tmp_path, params, 0)


@pytest.mark.parametrize(
    ("n", "text"), [(31_360, "31,360"), (2**32 - 1, "4.29e+09"), (-(10**12), "-1e+12"), (10**600, "about 10^600")]
)
def test_a_count_from_a_file_is_written_short(n, text):
    assert data_files.count(n) == text


def test_the_engines_idx_reader_quotes_a_header_of_255_dimensions_short(tmp_path):
    """The engine's own reader (behind the check) never prints a product of 255 sizes in full."""
    from regtui.engine.custom import data as data_mod
    from regtui.specs import ConfigError

    path = tmp_path / "f"
    path.write_bytes(b"\x00\x00\x08\xff" + b"\xff" * 1020 + b"\x00" * 10)
    with pytest.raises(ConfigError) as caught:
        data_mod.read_idx(path)
    assert len(str(caught.value)) < 200 and "about 10^" in str(caught.value), str(caught.value)


def test_a_verdict_is_kept_per_file_version(tmp_path):
    """The dashboard plans on every edit: a file is read once, and again only once it changed."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name, content in GOOD.items():
        (folder / name).write_bytes(content)
    files = {name: folder / name for name in MNIST}
    assert data_files.check_mnist(files, "mnist") == (12, 6)
    (folder / MNIST[3]).write_bytes(idx(np.array([1, 2, 3, 4, 5, 11], dtype=np.uint8)))
    with pytest.raises(ValueError, match="label 11"):
        data_files.check_mnist(files, "mnist")
