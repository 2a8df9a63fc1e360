"""A run being saved while it goes on, without slowing it down.

The training thread only puts each event on a queue; a writer thread does
everything slow: the run's meta.json and index row, then the events as JSON
lines, flushed after each batch (a tenth of a second), so a run killed even
with SIGKILL leaves what it had but its last tenth of a second (of a fit curve,
which each new one replaces, its last second), and a follower
(:mod:`regtui.store.follow`) reading the file sees the run a tenth of a second
late at most. When the run ends, :meth:`Recording.finish` writes the events
still queued (the last batch and the fit curves held back: a follower gets the
whole stream, its end included), then the document, atomically, and marks the
run's final status; the events file goes.
A full disk or a damaged index never fails the experiment: they become
warnings, and the run's folder keeps what could be written.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from regtui.event_log import encode_parts
from regtui.events import Curve, Event, Progress
from regtui.output import write_atomic
from regtui.specs import ConfigError
from regtui.store.record import RunInfo, scalar_finals
from regtui.store.replay import SCENARIO_COPY

if TYPE_CHECKING:
    from regtui.store.runs import RunStore

META, DOCUMENT, EVENTS = "meta.json", "run.json", "events.jsonl"
JOIN_TIMEOUT_S = 30.0
BATCH_S = 0.1  # a SIGKILL loses at most this much of the run's latest events
CURVE_S = 1.0  # a fit curve is a snapshot that the next one replaces: streamed at most once a second each
_STOP = object()


class Recording:
    """Call it with each event (an ``emit`` sink), then :meth:`finish` with the document, or :meth:`discard`."""

    def __init__(
        self, store: RunStore, info: RunInfo, scenario_file: Path | None = None, claimed: bool = False
    ) -> None:
        self.store, self.info = store, info
        self.claimed = claimed  # its id was claimed by another process (--detach): discard keeps the folder
        self.warnings: list[str] = []  # read after finish/discard (the writer thread has ended by then)
        self._scenario_file = scenario_file
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._discard = False
        self._wake = threading.Event()
        self._stopped = False  # the writer gave up (a full disk): events are no longer queued
        self._thread = threading.Thread(target=self._write, name="regtui-save", daemon=True)
        self._thread.start()

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def folder(self) -> Path:
        return self.store.folder(self.info.id)

    def __call__(self, event: Event) -> None:
        if not self._stopped:
            self._queue.put(event)  # all the training thread pays

    # --- the writer thread ---------------------------------------------------------------------

    def _write(self) -> None:
        try:
            self._write_all()
        except Exception as exc:  # never "Exception in thread": a warning, and the run goes on
            self.warnings.append(f"run {self.id}: its events could not be written ({type(exc).__name__}: {exc})")
        finally:
            self._stopped = True

    def _write_all(self) -> None:
        try:
            if self._scenario_file is not None:
                (self.folder / SCENARIO_COPY).mkdir(exist_ok=True)
                shutil.copyfile(self._scenario_file, self.folder / SCENARIO_COPY / self._scenario_file.name)
            for f in self.info.plan.get("files") or []:  # the factory files the run imports (see replay)
                if f.get("copy"):
                    (self.folder / f["copy"]).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(f["path"], self.folder / f["copy"])
            write_atomic(self.folder / META, self.info.to_json())
            stream = open(self.folder / EVENTS, "w", encoding="utf-8")  # closed below
        except OSError as exc:
            self.warnings.append(f"run {self.id}: could not record it as it ran ({exc.strerror or exc})")
            return
        try:
            self.store.index.upsert(self.info.to_row())
        except ConfigError as exc:  # the folder holds the run; 'regtui runs reindex' lists it again
            self.warnings.append(str(exc))
        curves = _CurveThrottle()
        try:
            self._stream_events(stream, curves)
        finally:
            with contextlib.suppress(OSError):
                stream.close()  # its last buffered line: a full disk may refuse it (reported above)

    def _stream_events(self, stream: TextIO, curves: _CurveThrottle) -> None:
        """The writer loop: a batch of events every BATCH_S, until the run ends (or the disk refuses)."""
        while True:
            batch = [self._queue.get()]
            self._wake.wait(BATCH_S)  # gather a batch: fewer writes, and superseded events are dropped
            with contextlib.suppress(queue.Empty):
                while True:
                    batch.append(self._queue.get_nowait())
            if self._discard:
                return
            last = any(e is _STOP for e in batch)
            try:
                stream.write(_lines(curves.due(_latest(batch), every=last)))
                stream.flush()  # to the OS now: a SIGKILL cannot take it back
            except OSError as exc:
                self.warnings.append(f"run {self.id}: its events could not be written ({exc.strerror or exc})")
                return
            if last:
                return

    def _stop(self, discard: bool) -> None:
        """End the writer thread: after it wrote every event queued, or (``discard``) dropping them."""
        self._discard = discard
        self._queue.put(_STOP)
        self._wake.set()
        self._thread.join(JOIN_TIMEOUT_S)

    # --- the end -------------------------------------------------------------------------------

    def finish(self, doc: dict[str, Any]) -> RunInfo:
        """Write the document (atomically), the final record and index row.

        OSError when the document or record cannot be written; a damaged index
        is only a warning (the folder holds the run whole).
        """
        from regtui.json_writer import write_json

        self._stop(discard=False)
        info = self.info
        info.status = str(doc.get("status") or "interrupted")
        info.device = str(doc.get("device") or info.device)
        info.elapsed_s, info.error = doc.get("elapsed_s"), doc.get("error")
        info.finals = scalar_finals(doc)

        def document(stream: TextIO) -> None:  # streamed: a long run's text is never held whole
            write_json(doc, stream)
            stream.write("\n")

        write_atomic(self.folder / DOCUMENT, document)
        replace_quickly(self.folder / META, info.to_json())
        with contextlib.suppress(OSError):
            (self.folder / EVENTS).unlink()
        try:
            self.store.index.upsert(info.to_row())
        except ConfigError as exc:  # the run is saved whole in its folder; reindex lists it again
            self.warnings.append(str(exc))
        return info

    def discard(self) -> None:
        """Forget the run (it never started: e.g. its device does not exist).

        A run whose id was claimed for it by another process keeps its folder: that process
        told the user the id, and :meth:`RunStore.mark_failed` records why it never started.
        """
        self._stop(discard=True)
        if self.claimed:
            with contextlib.suppress(OSError):
                (self.folder / EVENTS).unlink()
            return
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(ConfigError):
            self.store.index.delete([self.info.id])


def _latest(batch: list[Any]) -> list[Event]:
    """The batch without events a later one in it replaces (a Curve by its newer self, a Progress by the last).

    The Collector keeps only the latest of each, so the rebuilt document is the
    same; the fit curves are most of what encoding costs.
    """
    keep: dict[Any, int] = {}
    for i, event in enumerate(batch):
        if isinstance(event, Curve):
            keep[("curve", event.variant, event.seed, event.name)] = i
        elif isinstance(event, Progress):
            keep["progress"] = i
    superseded = {i for i, e in enumerate(batch) if isinstance(e, (Curve, Progress))} - set(keep.values())
    return [e for i, e in enumerate(batch) if e is not _STOP and i not in superseded]


class _CurveThrottle:
    """Holds back a Curve streamed less than CURVE_S ago for the same model and name.

    A Curve replaces the previous one whole, so a killed run's rebuilt document
    loses at most a second of its fit curve (the run's own document, written at
    the end, has the last one); encoding them every batch was a third of what
    streaming a run cost. A held curve goes out with the next batch after its second.
    """

    def __init__(self) -> None:
        self.sent: dict[Any, float] = {}
        self.held: dict[Any, Curve] = {}

    def due(self, events: list[Event], every: bool = False) -> list[Event]:
        """The events to write now; ``every``: the run's end, so every curve held back goes too."""
        now = time.monotonic()
        out: list[Event] = []
        for event in events:
            if isinstance(event, Curve):
                self.held[(event.variant, event.seed, event.name)] = event
            else:
                out.append(event)
        for key, curve in list(self.held.items()):
            if every or now - self.sent.get(key, -math.inf) >= CURVE_S:
                out.append(curve)
                self.sent[key] = now
                del self.held[key]
        return out


def replace_quickly(path: Path, text: str) -> None:
    """Replace a file whole (a temporary file and a rename) without waiting for the disk.

    For the final meta.json, right after the fsynced document: a power loss can
    at worst leave the earlier record ("running"), and the document says how
    the run ended; an fsync here would double what saving a run costs.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _lines(events: Iterable[Event]) -> str:
    """The events as JSON lines, encoded piece by piece with the GIL let go in between
    (:func:`~regtui.event_log.encode_parts`): the training thread waits a piece, not a batch."""
    parts = []
    for event in events:
        for part in encode_parts(event):
            parts.append(part)
            time.sleep(0)
        parts.append("\n")
    return "".join(parts)
