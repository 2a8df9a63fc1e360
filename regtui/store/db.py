"""The run index: one SQLite table, in WAL mode, shared safely by concurrent regtui processes.

SQLite from the standard library, because several processes (a sweep script
starting runs in parallel, the dashboard and a headless run) write to one
store at once: WAL lets readers go on while one writer commits, and the busy
timeout makes a second writer wait instead of failing. Every write is one
short ``BEGIN IMMEDIATE`` transaction. The index is a cache of the runs'
``meta.json`` files (see :mod:`regtui.store.runs`): a damaged index is reported
as :class:`IndexCorrupt` and can be rebuilt without losing a run.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from regtui.specs import ConfigError

FILE = "index.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
COLUMNS = (
    "id",
    "created",
    "scenario",
    "experiment",
    "status",
    "device",
    "seed",
    "seeds",
    "params",
    "changed",
    "finals",
    "document",
    "pid",
    "host",
    "plan",
    "elapsed_s",
    "error",
)
_CREATE = f"""
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    scenario TEXT NOT NULL,
    experiment TEXT NOT NULL,
    status TEXT NOT NULL,
    device TEXT,
    seed INTEGER,
    seeds INTEGER,
    params TEXT NOT NULL,      -- JSON: the effective base parameters
    changed TEXT NOT NULL,    -- JSON: what differs from the scenario's defaults
    finals TEXT NOT NULL,     -- JSON: variant -> headline final scalars
    document TEXT NOT NULL,   -- the document's path, relative to the store
    pid INTEGER,
    host TEXT,
    plan TEXT NOT NULL,       -- JSON: what a rerun needs
    elapsed_s REAL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS runs_scenario ON runs (scenario);
PRAGMA user_version = {SCHEMA_VERSION};
"""
_CORRUPT = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}


class IndexCorrupt(ConfigError):
    """The index file is not a usable SQLite database (garbage bytes, a cut file)."""


class Index:
    """The ``runs`` table of one store; open it per operation (opening costs about a millisecond)."""

    def __init__(self, root: Path) -> None:
        self.path = root / FILE

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        try:
            _setup(conn)
            yield conn
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        finally:
            conn.close()

    def _error(self, exc: sqlite3.Error) -> ConfigError:
        if getattr(exc, "sqlite_errorname", "") in _CORRUPT or "not a database" in str(exc) or "malformed" in str(exc):
            return IndexCorrupt(
                f"the run index {self.path} is corrupted ({exc}); "
                "'regtui runs reindex' rebuilds it from the run folders (no run is lost)"
            )
        return ConfigError(f"the run index {self.path}: {exc}")

    def upsert(self, row: dict[str, Any]) -> None:
        """Insert or replace the row with this id (the id was claimed by creating the run's folder)."""
        names = ", ".join(COLUMNS)
        marks = ", ".join("?" for _ in COLUMNS)
        with self._connect() as conn:
            _write(conn, f"INSERT OR REPLACE INTO runs ({names}) VALUES ({marks})", [row.get(c) for c in COLUMNS])

    def delete(self, ids: list[int]) -> None:
        with self._connect() as conn:
            _write(conn, f"DELETE FROM runs WHERE id IN ({', '.join('?' for _ in ids)})", ids)

    def replace_all(self, rows: list[dict[str, Any]]) -> None:
        """Make the table hold exactly these rows, in one transaction (reindex)."""
        names = ", ".join(COLUMNS)
        marks = ", ".join("?" for _ in COLUMNS)
        with self._connect() as conn:
            _begin(conn)
            try:
                conn.execute("DELETE FROM runs")
                conn.executemany(
                    f"INSERT INTO runs ({names}) VALUES ({marks})", [[r.get(c) for c in COLUMNS] for r in rows]
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def rows(self, scenario: str | None = None) -> list[dict[str, Any]]:
        """Every row (oldest first), or those of one scenario."""
        query = f"SELECT {', '.join(COLUMNS)} FROM runs"
        args: list[Any] = []
        if scenario is not None:
            query += " WHERE scenario = ?"
            args.append(scenario)
        with self._connect() as conn:
            return [dict(zip(COLUMNS, r)) for r in conn.execute(query + " ORDER BY id", args)]

    def highest_id(self) -> int:
        """The highest id ever given, deleted runs included (so an id is not handed out twice)."""
        with self._connect() as conn:
            seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
            top = conn.execute("SELECT MAX(id) FROM runs").fetchone()
        return max(seq[0] if seq else 0, top[0] or 0)


def _setup(conn: sqlite3.Connection) -> None:
    """WAL mode and the table, retried while another process holds the lock that changing the mode needs."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            # No fsync: NORMAL costs ~20 ms a save here (a synced WAL header and a checkpoint on close). A
            # process crash still never corrupts a WAL database; an OS crash or power loss might, and then
            # the index is rebuilt from the runs' folders, whose files are fsynced (regtui runs reindex).
            conn.execute("PRAGMA synchronous=OFF")
            if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                try:
                    conn.executescript("BEGIN IMMEDIATE;" + _CREATE + "COMMIT;")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _begin(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


def _write(conn: sqlite3.Connection, sql: str, args: list[Any]) -> None:
    _begin(conn)
    try:
        conn.execute(sql, args)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
