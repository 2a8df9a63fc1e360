"""The dashboard's trainer child process (regtui.app.trainer_process) and the run saver it feeds.

The child sends pickled frames; the parent must hand ``emit`` exactly the events
a headless run makes, end a stopped or dead child's run as "interrupted" or
"failed", keep a child whose run completed warm, and start the next one in the
background after any other end. The saver opens the run store only at the
run's first event (the trainer gets its plan first). Behaviour only: no
assertion on how long anything takes (a loaded 2-core machine runs these).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any
from unittest import mock

import pytest

from regtui import scenario as sc
from regtui.app import trainer_process
from regtui.engine import run_plan
from regtui.events import Progress, RunFinished, RunStarted
from regtui.report import Collector
from regtui.store.saving import RunSaver, store_id

pytestmark = [
    pytest.mark.child_trainer,
    pytest.mark.skipif(os.name != "posix", reason="the child trainer is POSIX only"),
]

HANG_S = 120.0  # a guard against a hang, never a measure


def small_plan(iters: int = 60) -> sc.Plan:
    scenario = sc.load(sc.find("weight-decay"))
    return sc.plan(scenario, sc.parse_sets(scenario.spec, [f"iters={iters}"]))


def long_plan() -> sc.Plan:
    return small_plan(iters=200_000)  # stopped long before its end


@pytest.fixture(scope="module")
def trainer():
    process = trainer_process.TrainerProcess()
    process.prepare()
    yield process
    process.close()


def run_in_thread(trainer, plan, emit, cancel=None) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(trainer.run(plan, "cpu", emit=emit, cancel=cancel)))
    thread.start()
    return thread, result


def comparable(events: list[Any]) -> list[str]:
    """The events with the run's own timing taken out; repr: exact for floats, and NaN equals NaN."""
    return [repr(RunFinished(e.status, 0.0, e.error) if isinstance(e, RunFinished) else e) for e in events]


def test_frames_come_out_whole_however_the_bytes_are_cut():
    events = [RunStarted("s", "e", "t", "cpu", 0, "x", {}, (), 1, {}), Progress(3, 10, "train"), RunFinished("ok", 1.0)]
    stream = b"".join(trainer_process._frame(e) for e in events)
    for cut in (1, 7, 8, 9, 50, len(stream)):
        frames = trainer_process._Frames()
        out = []
        for at in range(0, len(stream), cut):
            out += frames.feed(stream[at : at + cut])
        assert out == events
        assert not frames.pending
    frames = trainer_process._Frames()
    assert frames.feed(stream[:-1]) == events[:2]
    assert frames.pending  # the last frame is cut: a child that died mid-write is not reused


def test_a_run_in_the_child_emits_the_headless_events_and_keeps_its_child(trainer):
    plan = small_plan()
    shown: list[Any] = []
    finished = trainer.run(plan, "cpu", emit=shown.append)
    headless: list[Any] = []
    run_plan(plan, "cpu", emit=headless.append, threads=1)
    assert finished.status == "completed" and shown[-1] is finished
    assert comparable(shown) == comparable(headless)
    warm = trainer._child
    assert warm is not None and warm.poll() is None  # the child stays warm for the next run
    assert trainer.run(plan, "cpu").status == "completed"
    assert trainer._child is warm


CHATTY_CHILD = """
import sys
import regtui.engine
from regtui.app import trainer_process

run_plan = regtui.engine.run_plan

def chatty(*args, **kwargs):
    print("a stray line on stdout", flush=True)  # a library or a custom engine talking
    sys.stdout.buffer.write(b"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x07garbage")
    sys.stdout.flush()
    return run_plan(*args, **kwargs)

regtui.engine.run_plan = chatty
sys.exit(trainer_process._child_main())
"""


class ChattyTrainer(trainer_process.TrainerProcess):
    def _spawn(self) -> None:
        real = subprocess.Popen

        def popen(args, **kwargs):
            return real([sys.executable, "-c", CHATTY_CHILD], **kwargs)

        with mock.patch.object(trainer_process.subprocess, "Popen", popen):
            super()._spawn()


def test_stray_output_in_the_child_never_mixes_with_its_events():
    trainer = ChattyTrainer()
    try:
        plan = small_plan()
        shown: list[Any] = []
        finished = trainer.run(plan, "cpu", emit=shown.append)
    finally:
        trainer.close()
    headless: list[Any] = []
    run_plan(plan, "cpu", emit=headless.append, threads=1)
    assert finished.status == "completed"
    assert comparable(shown) == comparable(headless)


def test_stop_ends_the_run_interrupted_and_the_next_run_gets_a_fresh_child(trainer):
    cancel = threading.Event()
    seen: list[Any] = []

    def emit(event: Any) -> None:
        seen.append(event)
        if isinstance(event, Progress):
            cancel.set()

    thread, result = run_in_thread(trainer, long_plan(), emit, cancel)
    thread.join(HANG_S)
    assert not thread.is_alive()
    assert result[0].status == "interrupted"
    assert isinstance(seen[-1], RunFinished) and seen[-1].status == "interrupted"
    assert trainer.run(small_plan(), "cpu").status == "completed"  # a fresh warm child, started behind it


def test_a_child_that_dies_mid_run_fails_the_run(trainer):
    taken: list[Any] = []
    take = trainer._take

    def spy():
        child, stderr = take()
        taken.append(child)
        return child, stderr

    trainer._take = spy
    try:

        def emit(event: Any) -> None:
            if isinstance(event, Progress) and taken[0].poll() is None:
                taken[0].kill()

        finished = trainer.run(long_plan(), "cpu", emit=emit)
    finally:
        del trainer._take
    assert finished.status == "failed"
    assert "the training process exited with code" in (finished.error or "")
    assert trainer.run(small_plan(), "cpu").status == "completed"


def test_the_saver_opens_the_store_at_the_first_event(tmp_path):
    runs = tmp_path / "runs"
    plan = small_plan()
    saver = RunSaver(plan, "cpu", runs_dir=str(runs))
    assert not runs.exists()  # nothing touched before the run starts
    collector = Collector()
    emit = saver.sink(collector)
    run_plan(plan, "cpu", emit=emit, threads=1)
    saver.end(collector)
    assert saver.warnings == []
    run_id = store_id(collector)
    assert run_id is not None and (runs / str(run_id) / "run.json").is_file()


def test_a_saver_whose_run_never_starts_leaves_no_trace(tmp_path):
    runs = tmp_path / "runs"
    saver = RunSaver(small_plan(), "cpu", runs_dir=str(runs))
    collector = Collector()
    saver.sink(collector)
    saver.end(collector)
    assert not runs.exists() and saver.warnings == [] and store_id(collector) is None


def test_an_unwritable_store_is_a_warning_not_a_failure(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    plan = small_plan()
    saver = RunSaver(plan, "cpu", runs_dir=str(blocker / "runs"))
    collector = Collector()
    finished = run_plan(plan, "cpu", emit=saver.sink(collector), threads=1)
    saver.end(collector)
    assert finished.status == "completed" and collector.finished is not None
    assert len(saver.warnings) == 1 and "not kept in the run history" in saver.warnings[0]
    notes: list[str] = []
    saver.report(lambda text, **kw: notes.append(text))
    assert len(notes) == 1 and "not kept in the run history" in notes[0]


def test_a_reused_child_gives_each_plan_its_headless_numbers_whatever_ran_before(trainer):
    """The warm child is kept after a completed run: the runs before one must not change its
    numbers (global RNG, flushed denormals, threads). Dropout draws and a model built by
    ``nn.Linear``'s default init both read torch's generators."""
    small_digits = sc.plan(
        sc.load(sc.find("digits-overfit")), sc.parse_sets(sc.load(sc.find("digits-overfit")).spec, ["steps=30"])
    )
    plans = [small_plan(40), small_digits, sc.plan(sc.load(sc.find("bn")), {"depth": 8, "train_steps": 20})]
    references = []
    for plan in plans:
        headless: list[Any] = []
        run_plan(plan, "cpu", emit=headless.append, threads=1)
        references.append(comparable(headless))
    for i in [2, 1, 0, 0, 2, 1]:  # each plan after other plans than before its reference
        shown: list[Any] = []
        assert trainer.run(plans[i], "cpu", emit=shown.append).status == "completed"
        assert comparable(shown) == references[i], plans[i].scenario.name
