"""Following a run as it goes on, from any process: what ``regtui runs follow`` (and a dashboard) draws from.

A :class:`Follower` tails one run's ``events.jsonl`` in the store (see
:mod:`regtui.store.recording`) and feeds each new event to a
:class:`~regtui.report.Collector`, the object the dashboard's views draw from,
so a run followed from elsewhere is drawn as one started here. It only reads:
the run never waits for it, and any number of followers may watch one run.
Call :meth:`Follower.poll` about every :data:`POLL_S` seconds (the run writes
its events in batches every 0.1 s); each poll reads only what was appended
since the last one, a line still being written is left for the next, and a
long run's backlog is read in bounded slices (see :attr:`Follower.caught_up`).

The run's state (:attr:`Follower.state`, one of
:data:`regtui.store.record.STATES`) comes from its record (``meta.json``) and
its process: running while the process lives; once the record says the run
ended, its final state, after the last of its events (the recording writes
them all before the document); when the process died without ending the
record (``kill -9``, a crash, the OOM killer), interrupted at the next poll,
keeping what was read. A follower started before the run's first event waits
for it; one started after the run ended (its events file gone) is given the
run's document. A run of another host sharing the folder is followed until its
record ends: its process cannot be checked from here. Nothing here imports
torch or a UI.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from regtui.event_log import decode
from regtui.events import Event, Progress, RunFinished
from regtui.report import Collector
from regtui.specs import ConfigError
from regtui.store.process import same_process
from regtui.store.record import RUNNING, RunInfo
from regtui.store.recording import EVENTS, META
from regtui.store.runs import RunStore, parse_id

POLL_S = 0.1  # how often a follower should poll: the run writes its events every 0.1 s
READ_LIMIT = 4 << 20  # bytes read by one poll: catching up with a long run's backlog never blocks for long
RECORD_WAIT_S = 10.0  # how long a run's folder may lack its record (it is being set up) before that is an error
RATE_WINDOW_S = 5.0  # steps/s is measured over the progress seen in this many seconds


class Follower:
    """One run, followed: :meth:`poll` it, draw from :attr:`collector`, read :attr:`state`.

    ConfigError (one line) at once for a run that does not exist or a folder it
    cannot read, and from :meth:`poll` if its files become unreadable.
    """

    def __init__(
        self,
        store: RunStore,
        run_id: int | str,
        collector: Collector | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.id = parse_id(run_id)
        self.collector = collector if collector is not None else Collector()
        self.folder = store.folder(self.id)
        self.info: RunInfo | None = None  # the run's latest record (None until its process wrote it)
        self.state = RUNNING
        self.caught_up = False  # every event written so far has been read
        self.bad_lines = 0  # complete lines that were not events (skipped)
        self.rate = Rate(clock)
        self._clock = clock
        self._since = clock()
        self._events: BinaryIO | None = None
        self._tail = b""  # the start of a line still being written
        self._record_key: tuple[int, int, int] | None = None
        self._ended_at: float | None = None  # wall time the follower saw the run end
        self._check_folder()
        self._read_record()

    @property
    def ended(self) -> bool:
        return self.state != RUNNING

    def __enter__(self) -> Follower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._events is not None:
            self._events.close()
            self._events = None

    # --- polling ---------------------------------------------------------------------------

    def poll(self) -> list[Event]:
        """Read the events appended since the last poll into the collector (and return them); update the state."""
        if self.ended:
            return []
        events = self._read_events(READ_LIMIT)
        info = self._read_record()
        if info is None:
            if self._clock() - self._since > RECORD_WAIT_S:
                raise ConfigError(f"run {self.id}: its folder {self.folder} has no record ({META}); it never started")
        elif info.status == RUNNING and (not info.on_this_host or same_process(info.pid, info.pid_start)):
            self._measure()
        else:
            if info.status == RUNNING:  # its process is gone: it may have ended its record just now
                info = self._read_record(force=True) or info
            events += self._read_events(None)  # all it wrote before it ended
            self._end(info)
        return events

    def _read_events(self, limit: int | None) -> list[Event]:
        """Feed the collector the complete lines appended since the last read (``limit``: at most that many bytes)."""
        if self._events is None:
            self._events = self._open_events()
            if self._events is None:
                return []
        out: list[Event] = []
        while True:
            chunk = self._events.read(limit if limit is not None else READ_LIMIT)
            if not chunk:
                self.caught_up = True
                return out
            data = self._tail + chunk
            cut = data.rfind(b"\n") + 1
            self._tail = data[cut:]
            for line in data[:cut].splitlines():
                try:
                    event = decode(line.decode("utf-8"))
                except (ValueError, TypeError, KeyError):
                    if line.strip():
                        self.bad_lines += 1
                    continue
                self.collector(event)
                out.append(event)
            if limit is not None:
                self.caught_up = len(chunk) < limit
                return out

    def _open_events(self) -> BinaryIO | None:
        """The run's events file opened for reading, or None while there is none (or no longer: it ended)."""
        path = self.folder / EVENTS
        try:
            mode = os.stat(path).st_mode
            if not stat.S_ISREG(mode):  # a FIFO would block open() until a writer came
                raise ConfigError(f"run {self.id}: {path} is not a regular file; it cannot be followed")
            return open(path, "rb")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"run {self.id}: cannot read its events {path} ({exc.strerror or exc})") from None

    def _end(self, info: RunInfo) -> None:
        """The run ended: its final state, and a collector that knows it (a killed run never said so)."""
        self.info = info
        self._ended_at = time.time()
        self.state = info.state if info.status != RUNNING else "interrupted"
        if self.collector.started is None:  # it ended before its events could be read: its document holds them
            from regtui.store.reading import document_events

            with contextlib.suppress(ConfigError):
                for event in document_events(self.store.document(self.id)):
                    self.collector(event)
        if self.collector.started is not None and self.collector.finished is None:
            status = info.status if info.status != RUNNING else "interrupted"
            self.collector(RunFinished(status, self.elapsed_s() or 0.0, info.error))
        self.close()

    def _measure(self) -> None:
        """A sample for steps/s: only once caught up (a backlog read at once is no measure of speed)."""
        progress = self.collector.progress
        if self.caught_up and progress is not None:
            self.rate.add(progress)

    # --- the record --------------------------------------------------------------------------

    def _check_folder(self) -> None:
        try:
            mode = os.stat(self.folder).st_mode
        except FileNotFoundError:
            raise ConfigError(
                f"run {self.id}: no such run in {self.store.root}; 'regtui runs list' shows the runs"
            ) from None
        except OSError as exc:
            raise ConfigError(f"run {self.id}: cannot read {self.folder} ({exc.strerror or exc})") from None
        if not stat.S_ISDIR(mode):
            raise ConfigError(f"run {self.id}: {self.folder} is not a run folder")
        if not os.access(self.folder, os.R_OK | os.X_OK):
            raise ConfigError(f"run {self.id}: cannot read its folder {self.folder} (permission denied)")

    def _read_record(self, force: bool = False) -> RunInfo | None:
        """The run's record, read again only when its file changed (a stat a poll); None while it has none."""
        path = self.folder / META
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if not self.folder.is_dir():
                raise ConfigError(f"run {self.id} was removed from {self.store.root} while it was followed") from None
            return None
        except OSError as exc:
            raise ConfigError(f"run {self.id}: cannot read its record {path} ({exc.strerror or exc})") from None
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if key == self._record_key and not force:
            return self.info
        try:
            self.info = RunInfo.from_json(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return self.info
        except OSError as exc:
            raise ConfigError(f"run {self.id}: cannot read its record {path} ({exc.strerror or exc})") from None
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"run {self.id}: its record {path} is damaged ({exc})") from None
        self._record_key = key
        return self.info

    # --- what a status line says ---------------------------------------------------------------

    def elapsed_s(self) -> float | None:
        """How long the run has gone on (its own figure once it ended; None before its record exists)."""
        info = self.info
        if info is None:
            return None
        if self.ended and info.elapsed_s is not None:
            return float(info.elapsed_s)
        try:
            created = datetime.fromisoformat(info.created).replace(tzinfo=UTC).timestamp()
        except (TypeError, ValueError):
            return None
        end = self._ended_at if self._ended_at is not None else time.time()
        return max(0.0, end - created)


class Rate:
    """Steps a second and the time left, from the progress a follower saw over the last few seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque()
        self._last: Progress | None = None

    def add(self, progress: Progress) -> None:
        last = self._last
        if last is not None and (progress.total != last.total or progress.phase != last.phase):
            self._samples.clear()  # another phase: its steps are another unit
        self._last = progress
        now = self._clock()
        self._samples.append((now, progress.step))
        while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW_S:
            self._samples.popleft()

    def steps_per_s(self) -> float | None:
        """None until progress was seen over half a second."""
        if len(self._samples) < 2:
            return None
        (t0, s0), (t1, s1) = self._samples[0], self._samples[-1]
        return (s1 - s0) / (t1 - t0) if t1 - t0 >= 0.5 else None

    def eta_s(self) -> float | None:
        rate, last = self.steps_per_s(), self._last
        if rate is None or last is None or not last.total:
            return None
        if rate <= 0:
            return math.inf if last.step < last.total else 0.0
        return max(0.0, (last.total - last.step) / rate)


def newest_running(store: RunStore) -> RunInfo:
    """The newest run that is running (one line when none is)."""
    listing = store.listing()
    running = [r for r in listing.runs if r.state == RUNNING]
    if not running:
        raise ConfigError("no run is running; 'regtui runs list' shows the runs")
    return running[-1]
