"""Keeping a run in the run store as it runs: one saver for headless runs and the dashboard.

:class:`RunSaver` is one more ``emit`` sink beside the :class:`~regtui.report.Collector`:
it claims the run's id and begins a :class:`~regtui.store.Recording` with the run's first
event (a run that never starts, e.g. on a device this machine lacks, takes no id and
leaves no trace; the Recording only queues each event, its own thread writes), and at the
end writes the document. The headless runner opens the store before the run (a store that
cannot be written is a one-line error before anything trains); the dashboard lets the saver
open it at the first event, in the run's worker thread, so the UI never waits for the disk.
Saving never fails a run: a problem is a warning, reported by the caller.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from regtui import scenario as sc
from regtui.events import Event
from regtui.report import Collector
from regtui.specs import ConfigError

# Each collector's run id in the store (a dashboard run that was saved, or a stored run opened).
_STORE_IDS: weakref.WeakKeyDictionary[Collector, int] = weakref.WeakKeyDictionary()


def store_id(collector: Collector | None) -> int | None:
    """The store id of the run this collector holds (None: not saved, or not a run)."""
    return _STORE_IDS.get(collector) if collector is not None else None


class RunSaver:
    """One run's saving; every method is called in the run's thread and never raises.

    ``store``: the store, already opened (headless: proven writable before the run); without
    it the store at ``runs_dir`` is opened with the first event (the dashboard). ``run_id``:
    record into this id, claimed before (``regtui --detach``), instead of claiming one.
    """

    def __init__(
        self,
        plan: sc.Plan,
        device: str,
        save: bool = True,
        runs_dir: str | None = None,
        store: Any = None,
        run_id: int | None = None,
    ) -> None:
        self.plan, self.device, self.runs_dir, self.store = plan, device, runs_dir, store
        self.run_id = run_id  # an id claimed for this run by the process that started it (--detach)
        self.recording: Any = None  # regtui.store.Recording, once the run has started
        self.warnings: list[str] = []
        self.save = save  # until the first event; then whether the recording began
        self.saved_id: int | None = None  # the run's id once its document is written

    @property
    def id(self) -> int | None:
        return self.recording.id if self.recording is not None else None

    def _begin(self, collector: Collector) -> Any:
        """Open the store, claim the run's id and start recording (at its first event); None when that fails.

        Not before: the worker thread sends the plan to the trainer first, and the run store's
        first opening (its imports, the index) costs tens of milliseconds that the training
        need not wait for. Its warnings are reported when the run ends, as before.
        """
        self.save = False
        try:
            from regtui.store import open_store

            store = self.store if self.store is not None else open_store(self.runs_dir)
            self.recording = store.begin(self.plan, self.device, self.run_id)  # its folder proven writable
        except ConfigError as exc:
            self.warnings.append(f"this run is not kept in the run history: {exc}")
        except Exception as exc:
            self.warnings.append(f"this run is not kept in the run history: {type(exc).__name__}: {exc}")
        else:
            _STORE_IDS[collector] = self.recording.id
        return self.recording

    def sink(self, collector: Collector) -> Callable[[Event], None]:
        """The ``emit`` callback of the run: the collector, and the recording once the run has started."""
        if not self.save:
            return collector

        def emit(event: Event) -> None:
            collector(event)
            recording = self.recording
            if recording is None and self.save:
                recording = self._begin(collector)
            if recording is not None:
                recording(event)

        return emit

    def discard(self) -> None:
        """Forget the run (bad input found once it had begun: no run happened)."""
        recording, self.recording = self.recording, None
        if recording is not None:
            recording.discard()

    def end(self, collector: Collector, error: str | None = None) -> None:
        """Write the run's document (``error``: the run's worker failed with it), or forget a run that never began."""
        if self.recording is None:
            return
        if collector.started is None:
            self.discard()
            _STORE_IDS.pop(collector, None)
            return
        try:
            doc = collector.document(compact=True)
        except Exception as exc:
            self.warnings.append(f"run {self.recording.id} could not be saved ({type(exc).__name__}: {exc})")
            self.discard()
            return
        if error is not None and collector.finished is None:
            doc["status"], doc["error"] = "failed", error
        self.finish(doc)

    def finish(self, doc: dict[str, Any]) -> None:
        """Write ``doc`` as the run's document; a failure is a warning (what it streamed stays on disk)."""
        recording, self.recording = self.recording, None
        if recording is None:
            return
        try:
            recording.finish(doc)
            self.saved_id = recording.id
        except OSError as exc:
            self.warnings.append(
                f"run {recording.id} could not be saved in full ({exc.strerror or exc}); "
                f"what it streamed is in {recording.folder}"
            )
        except Exception as exc:
            self.warnings.append(f"run {recording.id} could not be saved ({type(exc).__name__}: {exc})")
        self.warnings.extend(recording.warnings)

    def report(self, notify: Callable[..., Any]) -> None:
        """Each warning once, as a notification (``notify`` is thread-safe: it posts a message)."""
        report_warnings(self.warnings, notify)
        self.warnings.clear()


def report_warnings(warnings: list[str], notify: Callable[..., Any]) -> None:
    """A run's saving warnings, each once, as notifications (this process's saver's, or a trainer child's)."""
    for warning in dict.fromkeys(warnings):
        notify(warning, title="run history", severity="warning", timeout=8)


def remember_id(collector: Collector, run_id: int) -> None:
    """Note that ``collector`` holds the stored run ``run_id`` (a stored run opened for viewing)."""
    _STORE_IDS[collector] = run_id
