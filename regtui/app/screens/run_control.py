"""The run controller: starts, stops and ends the dashboard's runs, saves them, opens stored ones.

Not a widget: the screen hands it a plan to start and the worker's messages; it keeps the one
current :class:`RunState` and the trainer (a child process, unless the options give a runner).
A run trains in a daemon thread that feeds the run's Collector (the views' buffer) through the
:class:`RunSaver` (the run history), then posts :class:`RunEnded` at once and
:class:`RunSaved` once the document is written, so neither the status line nor the next run
waits for the disk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from textual.message import Message

from regtui import scenario as sc
from regtui.app.messages import RunEnded, RunSaved
from regtui.app.options import Options
from regtui.app.run_state import RunState
from regtui.app.trainer_process import Saving, make_trainer, own_core
from regtui.events import RunFinished
from regtui.report import Collector
from regtui.specs import ConfigError
from regtui.store.saving import RunSaver, remember_id, report_warnings, store_id

SAVE_WAIT_S = 2.0  # quitting just after a run ended waits this long at most for its document
# A followed run's state (regtui.store.record.STATES) as the status line says it, where the words differ.
FOLLOWED_STATUS = {"completed": "done"}


def run_plan_lazily(*args: Any, **kwargs: Any) -> Any:
    """:func:`regtui.engine.run_plan` (or Ray's, for the device choice ``ray``), imported when the first
    run in this process starts (torch)."""
    from regtui.engine.executors import run_choice

    return run_choice(*args, **kwargs)


class RunController:
    """The dashboard's runs, one at a time. ``post`` delivers the worker's messages to the screen;
    ``notify`` shows the run history's warnings (both are safe to call from the worker thread)."""

    def __init__(self, options: Options, post: Callable[[Message], Any], notify: Callable[..., Any]) -> None:
        self.options = options
        self.post = post
        self.notify = notify
        self.state: RunState | None = None
        self.last_id = 0  # run ids of this session, so a late message of an old run is told apart
        # Training in a child process (its own GIL and core) unless a runner was given.
        self.trainer = make_trainer() if options.runner is None else None

    @property
    def active(self) -> bool:
        return self.state is not None and self.state.active

    @property
    def collector(self) -> Collector | None:
        return self.state.collector if self.state else None

    def contended(self) -> bool:
        """Whether training shares this process's GIL or cores (the redraw timer then draws less often)."""
        return self.trainer is None or not own_core()

    def prepare(self) -> None:
        if self.trainer is not None:
            self.trainer.prepare()  # a warm child: it imports torch while the user reads

    def close(self) -> None:
        state = self.state
        if state is not None and state.trained.is_set():
            state.saved.wait(SAVE_WAIT_S)  # a run that just ended is written before the app goes
        if self.trainer is not None:
            self.trainer.close()

    # --- a run of this session ---------------------------------------------------------------

    def start(self, plan: sc.Plan, device: str) -> RunState:
        """Stop what runs, and train ``plan`` on ``device`` in a new thread."""
        self.cancel()
        self.last_id += 1
        self.state = RunState(self.last_id, plan, device, Collector())
        # A daemon thread, not a Textual worker: asyncio joins its default executor's threads on
        # exit, so quitting would wait for the step under way; the cancel flag stops the run.
        threading.Thread(target=self._train, args=(self.state,), name=f"regtui-run-{self.last_id}", daemon=True).start()
        return self.state

    def _train(self, state: RunState) -> None:
        if self.trainer is not None and self.options.runner is None:
            self._train_in_child(state)
            return
        saver = RunSaver(state.plan, state.device, save=self.options.save, runs_dir=self.options.runs_dir)
        error: str | None = None
        try:
            runner = self.options.runner or run_plan_lazily
            finished = runner(
                state.plan,
                state.device,
                emit=saver.sink(state.collector),
                cancel=state.cancel,
                threads=self.options.threads,
            )
            ended = RunEnded(state.run_id, finished.status, finished.error, finished.elapsed_s)
        except BaseException as exc:  # a failure is a message, never a dead app
            error = f"{type(exc).__name__}: {exc}"
            ended = RunEnded(state.run_id, "failed", error)
        state.trained.set()
        self.post(ended)
        try:
            saver.end(state.collector, error=error)
        finally:
            state.saved.set()
            self.post(RunSaved(state.run_id))
        saver.report(self.notify)

    def _train_in_child(self, state: RunState) -> None:
        """The child trains and saves the run; RunEnded goes out with its RunFinished, RunSaved once
        the child wrote the document. A run left to go on alone (:meth:`leave`) posts neither."""
        assert self.trainer is not None
        saving = Saving(self.options.runs_dir, on_id=lambda run_id: remember_id(state.collector, run_id))

        def emit(event: Any) -> None:
            state.collector(event)
            if isinstance(event, RunFinished):
                state.trained.set()
                self.post(RunEnded(state.run_id, event.status, event.error, event.elapsed_s))

        try:
            finished = self.trainer.run(
                state.plan,
                state.device,
                emit=emit,
                cancel=state.cancel,
                threads=self.options.threads,
                saving=saving if self.options.save else None,
            )
        except BaseException as exc:  # a failure is a message, never a dead app
            finished = None
            if not state.trained.is_set():
                state.trained.set()
                self.post(RunEnded(state.run_id, "failed", f"{type(exc).__name__}: {exc}"))
        if finished is None and state.kept:
            return  # it goes on in its child, saved there; this dashboard is closing
        state.saved.set()
        self.post(RunSaved(state.run_id))
        report_warnings(saving.warnings, self.notify)

    def ended(self, event: RunEnded) -> RunState | None:
        """The worker's end of the current run, recorded in its state (None: an old run's message)."""
        state = self.state
        if state is None or event.run_id != state.run_id:
            return None
        if event.status == "failed":
            status = "failed"
        elif event.status == "interrupted" or state.cancel.is_set():
            status = "stopped"
        else:
            status = "done"
        state.end(status, event.elapsed_s, event.error)
        return state

    def keeps_going(self) -> bool:
        """Whether the run under way can go on without this dashboard (quitting then asks): a run of
        this session, training and saving in the child process."""
        state = self.state
        return (
            state is not None
            and state.active
            and state.follower is None
            and self.trainer is not None
            and self.options.runner is None
            and self.options.save
        )

    def leave(self) -> None:
        """Quit and keep the run going: its child trains on, saves it and exits; a later dashboard
        (or ``regtui attach``) follows it from the store."""
        if self.state is not None and self.keeps_going() and self.trainer is not None:
            self.state.kept = True
            self.trainer.leave()

    def stop(self) -> bool:
        """Ask the running run to stop between steps; returns whether one was running."""
        if not self.active or self.state is None:
            return False
        self.state.cancel.set()
        self.state.status = "stopping"
        return True

    def cancel(self) -> None:
        if self.state is not None and not self.state.kept:
            self.state.cancel.set()

    def clear(self) -> None:
        self.state = None

    # --- a run of another process, followed live ----------------------------------------------

    def follow(self, follower: Any, plan: sc.Plan, device: str) -> RunState:
        """A running run of the store (a ``regtui.store.follow.Follower`` on it) as the current run."""
        self.last_id += 1
        self.state = RunState(self.last_id, plan, device, follower.collector, stored_id=follower.id, follower=follower)
        return self.state

    def unfollow(self) -> None:
        """Stop following the followed run (it goes on); nothing when none is followed."""
        state = self.state
        if state is not None and state.follower is not None and state.active:
            state.follower.close()
            self.state = None

    @property
    def following(self) -> bool:
        return self.state is not None and self.state.follower is not None and self.state.active

    def poll(self) -> RunState | None:
        """Read what the followed run wrote since the last poll; its state when it has just ended."""
        state = self.state
        if state is None or state.follower is None or not state.active:
            return None
        follower = state.follower
        error: str | None
        try:
            follower.poll()
        except ConfigError as exc:  # its folder became unreadable: what was drawn stays
            status, error = "failed", str(exc)
        else:
            if not follower.ended:
                return None
            status = FOLLOWED_STATUS.get(follower.state, follower.state)
            error = follower.info.error if follower.info is not None else None
        state.end(status, follower.elapsed_s(), error)
        follower.close()
        return state

    # --- a stored run ------------------------------------------------------------------------

    def show_stored(
        self, plan: sc.Plan, collector: Collector, status: str, elapsed_s: float | None, device: str
    ) -> RunState:
        """A stored run (History's) as the current run: read-only, ended, its own status."""
        self.last_id += 1
        state = RunState(
            self.last_id, plan, device, collector, status=status, elapsed_s=elapsed_s, stored_id=store_id(collector)
        )
        state.end(status, elapsed_s, at=state.started)
        self.state = state
        return state
