"""A finished run is saved whatever happens to stdout (issue 24, items 1, 6 and 10).

Real processes and real streams: a pipe whose reader goes away, /dev/full, descriptors closed
before the process starts. Each is one line on stderr (or nothing where stderr is closed too),
exit 1, and the run listed as completed with its document; no traceback, no "Exception in thread".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_support import TIMEOUT, one_error_line

from regtui.store import open_store

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pipes, /dev/full and closed descriptors are POSIX")

REGTUI = [sys.executable, "-m", "regtui"]
SMALL = ["--set", "iters=400"]


def regtui(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*REGTUI, *args], timeout=TIMEOUT, **kwargs)


def the_only_run() -> tuple[object, dict]:
    store = open_store()
    listing = store.listing()
    assert not listing.problems
    (run,) = listing.runs
    return run, store.document(run.id)


def test_a_reader_that_goes_away_loses_no_run():
    """`regtui --scenario weight-decay --json | true`: the reader exits before the document comes."""
    reader = subprocess.Popen(["true"], stdin=subprocess.PIPE)
    reader.wait()  # gone before the run writes: the pipe is broken from the first byte
    done = regtui(
        ["--scenario", "weight-decay", *SMALL, "--json"], stdout=reader.stdin, stderr=subprocess.PIPE, text=True
    )
    reader.stdin.close()
    assert done.returncode == 1
    message = one_error_line(done.stderr)
    assert "stdout" in message and "Broken pipe" in message and "regtui runs show 1" in message
    run, document = the_only_run()
    assert run.state == "completed" and document["status"] == "completed" and document["variants"]


def test_head_reading_a_prefix_still_leaves_the_run_completed():
    pipeline = subprocess.run(
        f"{' '.join(REGTUI)} --scenario weight-decay --set iters=400 --json | head -c 100 > /dev/null",
        shell=True,
        timeout=TIMEOUT,
        capture_output=True,
        text=True,
    )
    assert "Traceback" not in pipeline.stderr and "Exception" not in pipeline.stderr
    run, document = the_only_run()
    assert run.state == "completed" and document["status"] == "completed"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize("mode", [["--json"], []])
def test_a_full_stdout_is_one_line_and_the_run_is_saved(mode):
    with open("/dev/full", "w") as full:
        done = regtui(["--scenario", "bn-stats", *mode], stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 1
    assert "No space left on device" in one_error_line(done.stderr)
    run, document = the_only_run()
    assert run.state == "completed" and document["status"] == "completed"


def closed(fds: tuple[int, ...]):
    """A preexec_fn closing ``fds`` in the child, as the shell's ``>&-`` does."""

    def close() -> None:
        for fd in fds:
            os.close(fd)

    return close


def test_a_closed_stdout_is_one_line_and_the_run_is_saved():
    done = regtui(["--scenario", "bn-stats", "--json"], stderr=subprocess.PIPE, text=True, preexec_fn=closed((1,)))
    assert done.returncode == 1
    assert "stdout is closed" in one_error_line(done.stderr)
    run, _ = the_only_run()
    assert run.state == "completed"


def test_closed_stdout_and_stderr_still_save_the_run():
    done = regtui(["--scenario", "bn-stats", "--json"], preexec_fn=closed((1, 2)))
    assert done.returncode == 1
    run, _ = the_only_run()
    assert run.state == "completed"


def test_bad_input_with_stderr_closed_is_still_exit_2():
    done = regtui(["--scenario", "bn-stats", "--set", "iters=0"], stdout=subprocess.PIPE, preexec_fn=closed((2,)))
    assert done.returncode == 2
    assert not open_store().listing().runs
