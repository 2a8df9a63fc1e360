"""Run history: every headless run kept on disk, listed, compared and exported.

Layout of a store (the folder of ``--runs-dir``, ``REGTUI_RUNS_DIR`` or
``$XDG_DATA_HOME/regtui/runs``)::

    index.sqlite        the index, one row per run (SQLite in WAL mode); a cache
    <id>/meta.json      the same row, so the index can always be rebuilt
    <id>/run.json       the JSON document (schema regtui.run/1), once the run ended
    <id>/events.jsonl   the event stream while the run goes on (what a killed run leaves)
    <id>/scenario/*.toml  a copy of a user's scenario file, so a rerun finds it

The folder of a run is the truth and the index only makes listing fast: a lost
or corrupted index takes no run with it (``regtui runs reindex``). Nothing here
imports torch, so the dashboard and ``regtui runs`` stay quick.

What a caller uses (the CLI, the headless runner, a dashboard History view):
:func:`open_store`, :class:`RunStore` (``listing``, ``get``, ``document``, ``remove``,
``begin`` → :class:`Recording`), :func:`regtui.store.compare.compare`; for a run
going on in another process, :class:`regtui.store.follow.Follower` (its events,
as they come, into a Collector) and :func:`regtui.store.control.stop`.
"""

from __future__ import annotations

from regtui.store.location import default_dir
from regtui.store.record import RunInfo
from regtui.store.recording import Recording
from regtui.store.runs import RunStore, open_store

__all__ = ["Recording", "RunInfo", "RunStore", "default_dir", "open_store"]
