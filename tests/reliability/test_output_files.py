"""--out is checked before the run starts and written atomically after it.

In-process through CliRunner. "The run did not happen" is checked by what a run
leaves, never by how fast the command returned: stdout stays empty, the run's
worker thread is never started and no --events file appears.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import pytest
from reliability_support import one_error_line, strict_json

from regtui import output


def bad_out_cases(tmp_path: Path) -> dict[str, str]:
    cases = {
        "empty": "",
        "blank": "   ",
        "missing folder": str(tmp_path / "no" / "such" / "folder" / "out.json"),
        "a directory": str(tmp_path),
        "/dev/full": "/dev/full",
    }
    if sys.platform.startswith("linux"):
        cases["/proc/version"] = "/proc/version"  # a regular file in a folder nobody can create files in
    return cases


@pytest.mark.parametrize("case", ["empty", "blank", "missing folder", "a directory", "/dev/full", "/proc/version"])
def test_an_unwritable_out_is_refused_before_the_run(cli, tmp_path, forbid_runs, case):
    cases = bad_out_cases(tmp_path)
    if case not in cases:
        pytest.skip("/proc/version exists on Linux only")
    events = tmp_path / "events.jsonl"
    result = cli("--scenario", "bn-stats", "--json", "--out", cases[case], "--events", str(events))
    assert result.exit_code == 2
    message = one_error_line(result.stderr)
    assert message.startswith("--out"), message
    assert result.stdout == ""  # no document: the run never happened
    assert not events.exists()


def test_the_out_checks_name_what_is_wrong(cli, tmp_path, forbid_runs):
    expected = {
        "empty": "empty",
        "missing folder": "does not exist",
        "a directory": "directory",
        "/dev/full": "not a regular file",
        "/proc/version": "cannot write",
    }
    for case, path in bad_out_cases(tmp_path).items():
        if case in expected:
            message = one_error_line(cli("--scenario", "bn-stats", "--out", path).stderr)
            assert expected[case] in message, (case, message)


def test_an_unwritable_events_file_is_refused_before_the_run(cli, tmp_path, forbid_runs):
    result = cli("--scenario", "bn-stats", "--json", "--events", str(tmp_path))
    assert result.exit_code == 2
    assert one_error_line(result.stderr).startswith("--events")
    assert result.stdout == ""


def _full_disk_for(target: Path, failing: str):
    """os.replace or os.fsync that fail with ENOSPC for the --out file only: the run history writes its
    own files with the same write_atomic, and those must keep working."""
    real = getattr(os, failing)

    def is_target(fd_or_path) -> bool:
        if failing == "replace":
            return Path(fd_or_path) == target
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd_or_path}"))
        return name.startswith(f".{target.name}.")  # write_atomic's temporary file next to it

    def fail(*args, **kwargs):
        if is_target(args[1] if failing == "replace" else args[0]):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    return fail


@pytest.mark.parametrize(
    "failing",
    [
        "replace",
        pytest.param(
            "fsync", marks=pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
        ),
    ],
)
def test_a_failed_write_keeps_the_old_file_and_prints_the_document(cli, tmp_path, monkeypatch, failing):
    target = tmp_path / "result.json"
    old = b'{"an": "earlier, valid document"}\n'
    target.write_bytes(old)
    # Only the final write fails: the up-front check (a probe file) still succeeds, as on a disk that
    # fills up during the run.
    monkeypatch.setattr(output.os, failing, _full_disk_for(target, failing))

    result = cli("--scenario", "bn-stats", "--json", "--out", str(target))

    assert target.read_bytes() == old  # byte-identical
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]  # no temporary file left
    assert result.exit_code == 1
    message = one_error_line(result.stderr)
    assert message.startswith("--out") and "No space left on device" in message, message
    doc = strict_json(result.stdout)  # the document still reaches stdout
    assert doc["status"] == "completed" and doc["scenario"] == "bn-stats"


def test_a_successful_write_replaces_the_old_file_and_keeps_its_mode(cli, tmp_path):
    target = tmp_path / "result.json"
    target.write_text("old contents, not JSON\n", encoding="utf-8")
    os.chmod(target, 0o640)

    result = cli("--scenario", "bn-stats", "--json", "--out", str(target))

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    written = strict_json(target.read_text(encoding="utf-8"))
    assert written == strict_json(result.stdout)
    assert written["status"] == "completed"
    assert os.stat(target).st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_out_without_json_still_writes_the_document(cli, tmp_path):
    target = tmp_path / "new.json"
    result = cli("--scenario", "bn-stats", "--out", str(target))
    assert result.exit_code == 0, result.stderr
    assert json.loads(target.read_text(encoding="utf-8"))["scenario"] == "bn-stats"
    with pytest.raises(ValueError):
        json.loads(result.stdout)  # stdout has the text report


def test_out_through_a_symlink_writes_its_target_and_keeps_the_link(cli, tmp_path):
    target = tmp_path / "real.json"
    target.write_text("{}\n")
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    result = cli("--scenario", "bn-stats", "--json", "--out", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert strict_json(target.read_text())["scenario"] == "bn-stats"
