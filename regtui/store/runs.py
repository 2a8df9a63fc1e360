"""The run store: one folder per run beside a SQLite index, safe for concurrent processes.

A run's folder is claimed with ``mkdir`` (atomic: two processes can never get
the same id) and is the truth about the run; the index mirrors its
``meta.json`` so a list needs no document. While a run goes on its events
stream to ``events.jsonl`` (one flushed line each), so a run killed even with
SIGKILL is listed as interrupted and its document is rebuilt from them; when
it ends, the document is written atomically and the events file goes.
Problems with one run or with the index are one-line :class:`ConfigError`s
that never hide the other runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regtui.scenario import Plan
from regtui.specs import ConfigError
from regtui.store import location
from regtui.store.db import FILE as INDEX_FILE
from regtui.store.db import Index, IndexCorrupt
from regtui.store.document_shape import document_problem
from regtui.store.process import start_ticks
from regtui.store.record import RUNNING, RunInfo
from regtui.store.recording import DOCUMENT, EVENTS, META, Recording, replace_quickly
from regtui.store.replay import changed, is_bundled, plan_record


@dataclass
class Listing:
    """The runs a list shows, and one line per problem met on the way (the others are still listed)."""

    runs: list[RunInfo]
    problems: list[str] = field(default_factory=list)


def open_store(runs_dir: str | os.PathLike[str] | None = None) -> RunStore:
    """The store at ``runs_dir``, ``$REGTUI_RUNS_DIR`` or the XDG data folder (not created until a run is saved)."""
    return RunStore(location.resolve(runs_dir))


class RunStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.index = Index(root)

    # --- ids and folders ---------------------------------------------------------------------

    def folder(self, run_id: int) -> Path:
        return self.root / str(run_id)

    def run_ids(self) -> list[int]:
        """The ids of the run folders, oldest first (no record read: a list that knows its runs adds the new ones)."""
        return self._folder_ids()

    def _folder_ids(self) -> list[int]:
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ConfigError(f"runs folder {self.root}: cannot read it ({exc.strerror or exc})") from None
        return sorted(rid for n in names if (rid := id_of(n)) is not None and (self.root / n).is_dir())

    def strangers(self) -> list[str]:
        """Names in the runs folder that are no run's (a folder '²', '007', a 5,000-digit name):
        every command ignores them; ``regtui runs reindex`` says so."""
        try:
            names = os.listdir(self.root)
        except OSError:
            return []
        return sorted(n for n in names if (self.root / n).is_dir() and id_of(n) is None)

    def claim(self) -> int:
        """A new id, never handed out before here: its folder is created with mkdir, which only one process wins."""
        highest = max(self._folder_ids(), default=0)
        with contextlib.suppress(ConfigError):  # a damaged index only loses the memory of deleted ids
            highest = max(highest, self.index.highest_id())
        candidate = highest + 1
        while True:
            try:
                self.folder(candidate).mkdir()
                return candidate
            except FileExistsError:
                candidate += 1

    # --- saving a run ------------------------------------------------------------------------

    def begin(self, plan: Plan, device: str = "auto", run_id: int | None = None) -> Recording:
        """Claim an id and start recording; ConfigError (before the run) if the store cannot be written.

        Only the checks and the ``mkdir`` that claims the id happen here; the
        record, the index row and the events are written by the Recording's thread.
        ``run_id``: an id claimed before (``regtui --detach`` claims it in the process that
        starts the run, so it can print it at once); its folder is recorded into.
        """
        location.ensure_writable(self.root)
        claimed = self.check_claimed(run_id) if run_id is not None else None
        info = self.new_record(plan, device, self.claim() if run_id is None else run_id, os.getpid())
        if claimed is not None:
            info.created = claimed.created  # the run began when it was started in the background
        return Recording(self, info, None if is_bundled(plan) else plan.scenario.path, claimed=run_id is not None)

    def check_claimed(self, run_id: int) -> RunInfo | None:
        """That ``run_id`` was claimed for this process: its folder holds no run, or this process's first
        record (returned; None if it is not written yet)."""
        folder = self.folder(run_id)
        if not folder.is_dir():
            raise ConfigError(f"run {run_id}: its folder {folder} is gone; the run cannot be recorded")
        if (folder / DOCUMENT).exists():
            raise ConfigError(f"run {run_id} holds a run already; --run-id is only for the run --detach starts")
        try:
            info = RunInfo.from_json((folder / META).read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            return None
        if info.pid != os.getpid():
            raise ConfigError(f"run {run_id} was not claimed for this process; --run-id is for --detach's own use")
        return info

    def new_record(self, plan: Plan, device: str, run_id: int, pid: int) -> RunInfo:
        """The record of a run that begins now in process ``pid`` of this host (status running)."""
        return RunInfo(
            id=run_id,
            created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            scenario=plan.scenario.name,
            experiment=plan.scenario.experiment,
            status=RUNNING,
            device=device,
            seed=plan.seed,
            seeds=plan.seeds,
            params=dict(plan.params),
            changed=changed(plan),
            document=f"{run_id}/{DOCUMENT}",
            pid=pid,
            host=socket.gethostname(),
            pid_start=start_ticks(pid),
            plan=plan_record(plan, device),
        )

    def create_record(self, info: RunInfo) -> bool:
        """Write a run's first meta.json unless its process has written one already (False then).

        Exclusive (a hard link of a complete file, which fails when the name exists), so a record
        the run wrote itself, maybe its final one, is never replaced by this earlier one.
        """
        target = self.folder(info.id) / META
        tmp = target.with_name(f".{META}.{os.getpid()}.tmp")
        try:
            tmp.write_text(info.to_json(), encoding="utf-8")
            os.link(tmp, target)
        except FileExistsError:
            return False
        except OSError as exc:
            raise ConfigError(f"run {info.id}: cannot write its record {target} ({exc.strerror or exc})") from None
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return True

    def mark_failed(self, run_id: int, error: str) -> None:
        """Record that this process's run ended before it started (bad input it found): failed, with why."""
        with contextlib.suppress(ConfigError, OSError):
            info = self.get(run_id)
            if info.status != RUNNING or info.pid != os.getpid():
                return
            info.status, info.error = "failed", error
            replace_quickly(self.folder(run_id) / META, info.to_json())
            with contextlib.suppress(OSError):
                (self.folder(run_id) / EVENTS).unlink()
            self.index.upsert(info.to_row())

    # --- reading -----------------------------------------------------------------------------

    def listing(self, scenario: str | None = None) -> Listing:
        """Every run (oldest first) or those of one scenario, from the index and any folder it misses."""
        listing = Listing([])
        folders = set(self._folder_ids())
        try:
            rows = [RunInfo.from_row(r) for r in self.index.rows(scenario)] if self.index.path.exists() else []
        except IndexCorrupt as exc:
            listing.problems.append(str(exc))
            rows = []
        except ConfigError as exc:
            if os.access(self.root, os.W_OK):  # a read-only store (another user's, a mount) is listed from its folders
                listing.problems.append(str(exc))
            rows = []
        except (ValueError, TypeError) as exc:
            listing.problems.append(
                f"the run index {self.index.path} holds a bad row ({exc}); 'regtui runs reindex' rebuilds it"
            )
            rows = []
        by_id = {r.id: r for r in rows if r.id in folders}  # a row whose folder was deleted by hand is gone
        for rid, row in list(by_id.items()):
            if row.status == RUNNING:  # the folder's record is newer if the run ended but its row was not updated
                with contextlib.suppress(ConfigError):
                    by_id[rid] = self.get(rid)
        for run_id in sorted(folders - by_id.keys()):
            if not (self.folder(run_id) / META).exists():
                continue  # an id claimed and its record not written yet (or a claim that crashed): no run
            try:
                info = self.get(run_id)
            except ConfigError as exc:
                listing.problems.append(str(exc))
                continue
            if scenario is None or info.scenario == scenario:
                by_id[run_id] = info
        listing.runs = [by_id[k] for k in sorted(by_id)]
        return listing

    def stamp(self, running: Iterable[int] = ()) -> tuple[Any, ...]:
        """What changes whenever :meth:`listing` may: the run folders (a run added or deleted), the
        index and its write-ahead log (a row written), and the record of each run ``running`` (one
        that ends in another process). Cheap (a listdir and a few stat calls), so a view lists again
        only when the store changed. Not the folder's own mtime: opening the index changes it."""
        try:
            names = tuple(sorted(n for n in os.listdir(self.root) if id_of(n) is not None))
        except OSError:
            names = None
        paths = [self.index.path, self.index.path.with_name(self.index.path.name + "-wal")]
        paths += [self.folder(i) / META for i in running]
        stamp: list[Any] = [names]
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                stamp.append(None)
            else:
                stamp.append((st.st_mtime_ns, st.st_size, st.st_ino))
        return tuple(stamp)

    def get(self, run_id: int | str) -> RunInfo:
        """A run's record from its folder (the index's copy if meta.json is damaged)."""
        rid = parse_id(run_id)
        folder = self.folder(rid)
        if not folder.is_dir():
            raise ConfigError(f"run {rid}: no such run in {self.root}; 'regtui runs list' shows the runs")
        try:
            return RunInfo.from_json((folder / META).read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError) as exc:
            problem = exc.strerror if isinstance(exc, OSError) else exc
        with contextlib.suppress(ConfigError, ValueError, TypeError):
            rows = [r for r in self.index.rows() if r["id"] == rid]
            if rows:
                return RunInfo.from_row(rows[0])
        raise ConfigError(
            f"run {rid}: its record {folder / META} is damaged ({problem}); 'regtui runs rm {rid}' removes it"
        )

    def document(self, run_id: int | str) -> dict[str, Any]:
        """The run's JSON document, or for a run that never finished, rebuilt from its events."""
        info = self.get(run_id)
        folder = self.folder(info.id)
        path = folder / DOCUMENT
        if path.exists():
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                problem = exc.strerror if isinstance(exc, OSError) else exc
                raise ConfigError(
                    f"run {info.id}: its document {path} is damaged ({problem}); 'regtui runs rm {info.id}' removes it"
                ) from None
            if not isinstance(doc, dict) or doc.get("schema") != "regtui.run/1" or "variants" not in doc:
                raise ConfigError(
                    f"run {info.id}: {path} is not a regtui run document; 'regtui runs rm {info.id}' removes it"
                )
            problem = document_problem(doc)
            if problem is not None:
                raise ConfigError(
                    f"run {info.id}: its document {path} is damaged ({problem}); 'regtui runs rm {info.id}' removes it"
                )
            return doc
        return _rebuild(info, folder / EVENTS)

    # --- changing ------------------------------------------------------------------------------

    def remove(self, run_ids: list[int | str]) -> list[int]:
        """Delete these runs (all or none: every id is checked first); a run still going is refused."""
        ids = list(dict.fromkeys(parse_id(r) for r in run_ids))
        for rid in ids:
            if not self.folder(rid).is_dir():
                raise ConfigError(f"run {rid}: no such run in {self.root}; 'regtui runs list' shows the runs")
            try:
                info = self.get(rid)
                alive, pid = info.alive, info.pid
            except ConfigError:  # a damaged record may still be removed
                alive, pid = False, None
            if alive:
                raise ConfigError(f"run {rid} is still running (process {pid}); stop it first")
        for rid in ids:
            try:
                shutil.rmtree(self.folder(rid))
            except OSError as exc:
                raise ConfigError(f"run {rid}: cannot remove {self.folder(rid)} ({exc.strerror or exc})") from None
        with contextlib.suppress(ConfigError):  # the folders are gone, so no list shows them any more
            self.index.delete(ids)
        return ids

    def reindex(self) -> Listing:
        """Rebuild the index from the run folders (a damaged index file is kept aside, not deleted)."""
        location.ensure_writable(self.root)
        listing = Listing([])
        for rid in self._folder_ids():
            try:
                listing.runs.append(RunInfo.from_json((self.folder(rid) / META).read_text(encoding="utf-8")))
            except FileNotFoundError:
                listing.problems.append(
                    f"run {rid}: its folder holds no record (a run that never started); "
                    f"'regtui runs rm {rid}' removes it"
                )
            except (OSError, ValueError, TypeError) as exc:
                listing.problems.append(f"run {rid}: its record is damaged ({exc}); 'regtui runs rm {rid}' removes it")
        try:
            self.index.replace_all([r.to_row() for r in listing.runs])
        except IndexCorrupt:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            for suffix in ("", "-wal", "-shm"):
                old = self.root / (INDEX_FILE + suffix)
                if old.exists():
                    old.replace(self.root / f"{INDEX_FILE}{suffix}.corrupt-{stamp}")
            self.index.replace_all([r.to_row() for r in listing.runs])
        return listing


MAX_ID = 10**12 - 1  # run ids are ASCII decimal numbers from 1 to this (the index, JSON and folders hold them)
_ID_DIGITS = len(str(MAX_ID))


def id_of(name: str) -> int | None:
    """The run id a folder of the store is named for, or None: not a run's folder ('²' and '١' are
    digits to Python but not ids; '007' is not how an id is written; nor is a number beyond MAX_ID)."""
    if not (name.isascii() and name.isdigit()) or len(name) > _ID_DIGITS or name != str(int(name)):
        return None
    value = int(name)
    return value if 1 <= value <= MAX_ID else None


def parse_id(text: int | str) -> int:
    """A run id given by the user: ASCII digits only (no spaces, no other script's digits), 1 to MAX_ID."""
    if isinstance(text, int) and not isinstance(text, bool):
        value: int | None = text if 1 <= text <= MAX_ID else None
    else:
        raw = str(text)
        ok = raw.isascii() and raw.isdigit() and len(raw.lstrip("0")) <= _ID_DIGITS
        value = int(raw) if ok and 1 <= int(raw) <= MAX_ID else None
    if value is None:
        shown = repr(str(text)) if len(str(text)) <= 24 else repr(str(text)[:20] + "…")
        raise ConfigError(
            f"{shown} is not a run id; ids are whole numbers from 1 to {MAX_ID} written in the digits 0-9 "
            "('regtui runs list' shows them)"
        )
    return value


def _rebuild(info: RunInfo, events: Path) -> dict[str, Any]:
    from regtui.event_log import read
    from regtui.report import Collector

    if not events.exists():
        if info.status == "failed" and info.error:
            raise ConfigError(f"run {info.id} failed before it started: {info.error}")
        if info.alive:
            raise ConfigError(f"run {info.id} is starting: no data yet ('regtui runs follow {info.id}' follows it)")
        raise ConfigError(
            f"run {info.id} holds no data (neither a document nor events: it ended before its first event); "
            f"'regtui runs rm {info.id}' removes it"
        )
    collector = Collector()
    try:
        for event in read(events):
            try:
                collector(event)
            except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                break  # a damaged event (fields of the wrong kind): the run as far as it was readable
    except ConfigError:
        raise ConfigError(f"run {info.id}: cannot read its events {events}") from None
    if collector.started is None:
        if events.stat().st_size > 0:
            raise ConfigError(
                f"run {info.id}: its events {events} hold no readable event (damaged); "
                f"'regtui runs rm {info.id}' removes it"
            )
        raise ConfigError(f"run {info.id} was stopped before it started; it holds no data")
    try:
        doc = collector.document()
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:  # a damaged RunStarted, say
        raise ConfigError(
            f"run {info.id}: its events {events} are damaged ({type(exc).__name__}: {exc}); "
            f"'regtui runs rm {info.id}' removes it"
        ) from None
    problem = document_problem(json.loads(json.dumps(doc)))  # the events' fields are as damaged as they came
    if problem is not None:
        raise ConfigError(
            f"run {info.id}: its events {events} are damaged ({problem}); 'regtui runs rm {info.id}' removes it"
        )
    if doc["status"] == "interrupted" and info.alive:
        doc["status"] = RUNNING  # still going: what it has so far
    return doc
