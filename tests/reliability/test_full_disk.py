"""A full disk is one line, never a traceback or "Exception in thread" (issue 24, item 6).

The disk fills by a file-size limit (``ulimit -f``: RLIMIT_FSIZE in the child, which Python turns
into EFBIG errors): --events, the run store's own files, and the exports. Exports that fail leave
no partial folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_support import TIMEOUT

from regtui.store import open_store

resource = pytest.importorskip("resource")

REGTUI = [sys.executable, "-m", "regtui"]


def limited(max_bytes: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return limit


def regtui(args: list[str], max_bytes: int | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*REGTUI, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=limited(max_bytes) if max_bytes is not None else None,
    )


def no_crash(stderr: str) -> None:
    assert "Traceback" not in stderr and "Exception in thread" not in stderr, stderr


def test_events_on_a_full_disk_is_one_line_and_the_run_goes_on(tmp_path: Path):
    events = tmp_path / "events.jsonl"
    args = ["--scenario", "weight-decay", "--set", "iters=3000", "--json", "--events", str(events), "--no-save"]
    done = regtui(args, max_bytes=16 * 1024)
    no_crash(done.stderr)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("regtui: error: --events:") and "File too large" in line
    assert '"status": "completed"' in done.stdout  # the run went on to its end; stdout has its document
    assert 0 < events.stat().st_size <= 16 * 1024


def test_a_store_on_a_full_disk_warns_and_never_crashes_the_run():
    done = regtui(["--scenario", "weight-decay", "--set", "iters=3000", "--json"], max_bytes=12 * 1024)
    no_crash(done.stderr)
    assert done.returncode == 0  # saving never fails a run: its warnings say what was kept
    assert '"status": "completed"' in done.stdout
    assert all(line.startswith("regtui: warning: ") for line in done.stderr.splitlines())


@pytest.mark.parametrize("fmt", ["tensorboard", "csv"])
def test_an_export_to_a_full_disk_is_one_line_and_leaves_no_partial_folder(tmp_path: Path, fmt):
    if fmt == "tensorboard":
        pytest.importorskip("tensorboard")
    assert regtui(["--scenario", "weight-decay", "--set", "iters=3000", "--json"]).returncode == 0
    out = tmp_path / "export"
    done = regtui(["runs", "export", "1", "--format", fmt, "--out", str(out)], max_bytes=8 * 1024)
    no_crash(done.stderr)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("regtui: error: --out: cannot write") and "File too large" in line
    assert not out.exists() and os.listdir(tmp_path) == []  # no staging folder left either
    again = regtui(["runs", "export", "1", "--format", fmt, "--out", str(out)])
    assert again.returncode == 0 and any(out.iterdir())
    assert [r.id for r in open_store().listing().runs] == [1]
