"""Signals stop a headless run with the valid document of what was collected (never half a document).

Real subprocesses in their own session, because signals are the point. A long
run (--set iters=2000000) is started with --events, and the signal is sent once
the events file holds a Metrics line, so some steps are recorded.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from reliability_support import TIMEOUT, document_steps, file_has, finish, metric_steps, send, strict_json, wait_until

from regtui import headless
from regtui.event_log import EventLog, encode
from regtui.events import Progress
from regtui.specs import ConfigError

LONG_RUN = ("--scenario", "weight-decay", "--json", "--set", "iters=2000000", "--jobs", "1")


def start_long_run(spawn, tmp_path):
    events = tmp_path / "events.jsonl"
    proc = spawn(*LONG_RUN, "--events", str(events), cwd=tmp_path)
    return proc, events


def check_interrupted_document(out: str, err: str, *, steps: bool = True) -> dict:
    assert "Traceback" not in err, err
    doc = strict_json(out)  # the whole of stdout is one strict JSON document
    assert doc["schema"] == "regtui.run/1"
    assert doc["status"] == "interrupted"
    if steps:
        assert doc["scenario"] == "weight-decay"
        assert document_steps(doc) > 0, "the steps run before the signal are lost"
    return doc


@pytest.mark.parametrize(
    ("signum", "code"),
    [
        (signal.SIGINT, 130),
        (signal.SIGTERM, 143),
        pytest.param(
            getattr(signal, "SIGHUP", None),
            129,
            marks=pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here"),
        ),
    ],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_one_signal_prints_the_document_so_far(spawn, tmp_path, signum, code):
    proc, events = start_long_run(spawn, tmp_path)
    wait_until(file_has(events, '"Metrics"'), "a Metrics line in the events file", proc=proc)
    send(proc, signum)
    out, err = finish(proc)
    assert proc.returncode == code, err
    check_interrupted_document(out, err)
    assert "interrupted" in err


def test_two_sigints_during_the_run_still_print_the_document(spawn, tmp_path):
    proc, events = start_long_run(spawn, tmp_path)
    wait_until(file_has(events, '"Metrics"'), "a Metrics line in the events file", proc=proc)
    send(proc, signal.SIGINT)
    time.sleep(0.2)
    send(proc, signal.SIGINT)
    out, err = finish(proc)
    # The first SIGINT ends the run and the document is written within milliseconds; the
    # interpreter's own shutdown (torch) then takes up to seconds, where signals are ignored, so a
    # second SIGINT landing there cannot kill the process (returncode -2) after the document.
    assert proc.returncode == 130, err
    check_interrupted_document(out, err)


def test_two_sigints_at_startup_stop_at_once_with_a_valid_document(spawn, tmp_path):
    """The events file exists once the handlers are installed and the worker is starting (importing
    torch, where the run cannot notice a cancel): a second SIGINT then takes the stop-now path."""
    proc, events = start_long_run(spawn, tmp_path)
    wait_until(events.exists, "the events file", proc=proc)
    send(proc, signal.SIGINT)
    time.sleep(0.2)
    send(proc, signal.SIGINT)
    out, err = finish(proc)
    # Normally the second SIGINT finds the worker still importing torch and stops the run at once;
    # on a machine fast enough to be done by then, it lands in the interpreter's shutdown, where
    # signals are ignored as in the test above. Exit 130 and a whole document either way.
    assert proc.returncode == 130, err
    check_interrupted_document(out, err, steps=False)


# A run stuck in one long call (the worker never looks at the cancel flag): only the second signal can
# end it. The driver replaces the worker's body, so no torch is imported and nothing else differs.
STUCK_DRIVER = """
import sys, threading
from regtui import cli, headless
headless._Worker.run = lambda self: threading.Event().wait()  # a torch call that never returns
cli.main(sys.argv[1:])
"""


def test_a_second_sigint_ends_a_run_stuck_in_one_call(tmp_path):
    events = tmp_path / "events.jsonl"
    code, out, err = interrupt_twice(
        STUCK_DRIVER,
        ["--scenario", "weight-decay", "--json", "--events", str(events)],
        lambda proc: wait_until(events.exists, "the events file (the handlers are installed by then)", proc=proc),
    )
    assert code == 130, err
    check_interrupted_document(out, err, steps=False)


def interrupt_twice(driver: str, args: list[str], ready) -> tuple[int, str, str]:
    """Run ``driver`` with the CLI's ``args``; once ``ready(proc)`` returns, SIGINT (stop at the next
    step, which never comes) and SIGINT again (stop now). Exit code, stdout and stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-c", driver, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        ready(proc)
        send(proc, signal.SIGINT)
        time.sleep(0.2)
        send(proc, signal.SIGINT)
        out, err = finish(proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out, err


# A run that has started and measured a few steps, then gets stuck in one call.
STUCK_AFTER_STEPS_DRIVER = """
import sys, threading
import regtui.engine as engine
from regtui import cli

real = engine.run_plan

def stuck(plan, device, emit, **kw):
    def emit_then_hang(event):
        emit(event)
        if type(event).__name__ == "Metrics":
            print("measured", file=sys.stderr, flush=True)
            threading.Event().wait()
    return real(plan, device, emit=emit_then_hang, **kw)

engine.run_plan = stuck
cli.main(sys.argv[1:])
"""


def test_a_run_stopped_at_once_still_says_how_long_it_ran(tmp_path):
    """A second signal ends the run without its thread reporting back; elapsed_s used to be null then."""

    def measured(proc):
        assert proc.stderr is not None
        assert proc.stderr.readline().strip() == "measured"

    code, out, err = interrupt_twice(
        STUCK_AFTER_STEPS_DRIVER, ["--scenario", "weight-decay", "--json", "--no-save"], measured
    )
    assert code == 130, err
    doc = check_interrupted_document(out, err)
    assert isinstance(doc["elapsed_s"], float) and doc["elapsed_s"] > 0


def test_each_event_reaches_the_file_when_it_is_emitted(tmp_path):
    """What SIGKILL cannot take back: every line is written and flushed to the OS as it is emitted."""
    path = tmp_path / "events.jsonl"
    log = EventLog(open(path, "w", encoding="utf-8"))  # closed below
    try:
        for step in range(3):
            log(Progress(step, 3))
            # read through another handle, as a reader of a killed run's file would
            assert path.read_text(encoding="utf-8").splitlines()[-1] == encode(Progress(step, 3))
    finally:
        log.close()


def test_a_second_signal_inside_the_first_handler_does_not_deadlock():
    cancel = threading.Event()
    signals = headless.Signals(cancel)
    signals.code = 130  # the first signal has been taken ...
    finished = threading.Event()

    def second_signal_lands_inside_first_handlers_event_set() -> None:
        with cancel._cond:  # ... and its handler is inside cancel.set(), holding the Event's lock
            try:
                signals._on_signal(signal.SIGINT, None)
            except headless._StopNow:
                pass
        finished.set()

    # A daemon thread: if the handler deadlocks, it stays blocked on that lock, harmlessly.
    threading.Thread(target=second_signal_lands_inside_first_handlers_event_set, daemon=True).start()
    assert finished.wait(3), "the second signal's handler deadlocked on the Event's lock"


def test_sigkill_leaves_an_events_file_that_rebuilds(spawn, tmp_path, cli):
    proc, events = start_long_run(spawn, tmp_path)
    wait_until(
        lambda: metric_steps(events.read_text(encoding="utf-8")) > 0 if events.exists() else False,
        "a complete Metrics line in the events file",
        proc=proc,
    )
    time.sleep(0.3)  # let it write a few more lines, so a cut last line is possible
    send(proc, signal.SIGKILL)
    finish(proc)
    assert proc.returncode == -signal.SIGKILL

    text = events.read_text(encoding="utf-8")
    lines = text.split("\n")
    complete, last = lines[:-1], lines[-1]  # after the last newline: "" or a line cut by the kill
    for line in complete:
        json.loads(line)  # every line but the last is whole JSON
    try:  # a cut last line need not parse; one cut right before its newline does, and counts
        json.loads(last)
        complete.append(last)
    except ValueError:
        pass
    assert [json.loads(line)["event"] for line in complete[:1]] == ["RunStarted"]

    result = cli("--rebuild", str(events), "--json")
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    assert doc["status"] == "interrupted"
    assert doc["scenario"] == "weight-decay"
    assert document_steps(doc) == metric_steps("\n".join(complete)) > 0


# Small runs of every kind, so the rebuild covers curves, layers, tables, summaries, sweeps and seeds.
COMPLETED = {
    "weight-decay": ("--scenario", "weight-decay", "--set", "iters=30", "--set", "hidden=8"),
    "weight-decay-seeds": ("--scenario", "weight-decay", "--set", "iters=20", "--set", "hidden=8", "--seeds", "2"),
    "weight-decay-sweep": (
        "--scenario",
        "weight-decay",
        "--sweep",
        "weight_decay=0,0.1,1",
        "--set",
        "iters=20",
        "--set",
        "hidden=8",
    ),
    "dropout": ("--scenario", "dropout", "--set", "iters=20", "--set", "hidden=8", "--set", "scaling_n=100"),
    "bn": ("--scenario", "bn", "--set", "depth=5", "--set", "width=16", "--set", "train_steps=3"),
    "bn-stats": (
        "--scenario",
        "bn-stats",
    ),
    "norms": (
        "--scenario",
        "norms",
        "--set",
        "steps=3",
        "--set",
        "train_samples=8",
        "--set",
        "test_samples=4",
        "--set",
        "batch=4",
        "--set",
        "size=4",
    ),
}


@pytest.mark.parametrize("args", COMPLETED.values(), ids=COMPLETED.keys())
def test_rebuild_of_a_completed_run_reproduces_its_document(cli, tmp_path, args):
    events = tmp_path / "events.jsonl"
    run = cli(*args, "--json", "--jobs", "1", "--events", str(events))
    assert run.exit_code == 0, run.stderr
    original = strict_json(run.stdout)
    assert original["status"] == "completed"

    rebuilt_run = cli("--rebuild", str(events), "--json")
    assert rebuilt_run.exit_code == 0, rebuilt_run.stderr
    rebuilt = strict_json(rebuilt_run.stdout)
    if rebuilt["elapsed_s"] != original["elapsed_s"]:  # the only field allowed to differ
        rebuilt["elapsed_s"] = original["elapsed_s"]
    assert rebuilt == original


def test_rebuild_of_a_file_without_events_is_one_line(cli, tmp_path):
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"not": "an event"}\n', encoding="utf-8")
    for path in (junk, tmp_path / "missing.jsonl"):
        result = cli("--rebuild", str(path), "--json")
        assert result.exit_code == 2
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("regtui: error: --rebuild"), result.stderr


def test_a_ctrl_c_before_the_handlers_are_installed_still_prints_a_document(cli, monkeypatch):
    cli_module = importlib.import_module("regtui.cli.main")  # the module: regtui.cli.main is the command

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "parse_count", ctrl_c)  # runs just before headless.run
    result = cli("--scenario", "weight-decay", "--json")
    assert result.exit_code == 130
    assert result.stdout.strip(), "no document on stdout"
    assert strict_json(result.stdout)["status"] == "interrupted"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_rebuild_refuses_a_fifo_instead_of_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def rebuild() -> None:
        try:
            headless.rebuild(str(fifo), True, None)
            outcome.append(None)
        except BaseException as exc:  # reported below
            outcome.append(exc)

    reader = threading.Thread(target=rebuild, daemon=True)
    reader.start()
    reader.join(3)  # a refusal takes microseconds; opening the FIFO blocks until a writer comes
    blocked = reader.is_alive()
    if blocked:  # be the writer it waits for, so the thread ends (it then reads an empty file)
        with open(fifo, "w"):
            pass
        reader.join(TIMEOUT)
    assert not blocked, "--rebuild opened the FIFO and waited for a writer"
    assert isinstance(outcome[0], ConfigError) and "\n" not in str(outcome[0]), outcome


def _handlers() -> dict[int, object]:
    return {signum: signal.getsignal(signum) for signum in headless.SIGNAL_EXITS}


def test_an_in_process_run_leaves_the_signal_handlers_as_it_found_them(cli):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers belong to the main thread")
    before = _handlers()
    try:
        result = cli("--scenario", "bn-stats", "--json")
        assert result.exit_code == 0, result.stderr
        assert _handlers() == before
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def test_an_early_ctrl_c_does_not_interrupt_the_next_run_in_the_same_process(cli, monkeypatch):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread")
    cli_module = importlib.import_module("regtui.cli.main")  # the module: regtui.cli.main is the command

    before = _handlers()
    real_parse_count = cli_module.parse_count

    def ctrl_c_while_parsing(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the options are parsed
        return real_parse_count(*args, **kwargs)

    try:
        monkeypatch.setattr(cli_module, "parse_count", ctrl_c_while_parsing)
        first = cli("--scenario", "bn-stats", "--json")
        assert first.exit_code == 130
        assert strict_json(first.stdout)["status"] == "interrupted"
        monkeypatch.setattr(cli_module, "parse_count", real_parse_count)

        second = cli("--scenario", "bn-stats", "--json")  # no signal this time
        assert second.exit_code == 0, second.stderr
        assert strict_json(second.stdout)["status"] == "completed"
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
        early = getattr(headless, "_early_code", None)
        if isinstance(early, list):
            early.clear()  # so the bug checked here does not interrupt the later tests of this worker
