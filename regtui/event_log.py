"""The event stream as JSON lines (``--events FILE``), and reading it back.

Each event is one line, written and flushed as it happens, so a run killed
even with SIGKILL leaves a file that parses line by line up to the kill; the
last line may be cut, and :func:`read` stops there. Feeding the events read
back to a :class:`regtui.report.Collector` rebuilds the JSON document
(``regtui --rebuild FILE``). Strict JSON: NaN and infinities are written as
null, and come back as NaN in the per-step series.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from regtui.aggregate import strict_dumps
from regtui.events import (
    Curve,
    Event,
    Final,
    LayerStats,
    Metrics,
    Progress,
    RunFinished,
    RunSpec,
    RunStarted,
    Summary,
    TableRows,
)
from regtui.specs import ConfigError

SCHEMA = "regtui.events/1"
_TYPES: dict[str, type] = {
    c.__name__: c for c in (RunStarted, Progress, Metrics, Curve, LayerStats, TableRows, Final, Summary, RunFinished)
}


def encode(event: Event) -> str:
    """One event as one line of strict JSON: {"event": "Metrics", ...its fields}."""
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    if isinstance(event, RunStarted):
        fields["runs"] = [dataclasses.asdict(r) for r in event.runs]
    return strict_dumps({"event": type(event).__name__, **fields})


def encode_parts(event: Event) -> Iterator[str]:
    """:func:`encode`'s line in pieces that join to it: a Metrics event's series one at a time.

    A run's store writer is a thread: while it encodes, the training thread waits for the GIL,
    up to the interpreter's switch interval (5 ms). A tracked loop's Metrics of a quarter second
    holds a few hundred rows of every series, most of them NaN (a norm logged every 100 steps),
    about 1.5 ms of encoding in one piece; the writer lets the GIL go between the pieces.
    """
    if not isinstance(event, Metrics) or len(event.values) < 2:
        yield encode(event)
        return
    head = strict_dumps({"event": "Metrics", "variant": event.variant, "seed": event.seed, "step": event.step})
    yield head[:-1] + ', "values": {'
    for i, (name, values) in enumerate(event.values.items()):
        yield f"{', ' if i else ''}{json.dumps(str(name))}: {_numbers(values)}"
    yield "}}"


def _numbers(values: Any) -> str:
    """A series as a JSON list, a non-finite number as null (in a list of numbers, json's NaN and
    Infinity tokens can only be numbers)."""
    text = json.dumps(values)
    if '"' in text:  # not numbers after all: the general path
        return strict_dumps(values)
    if "NaN" in text or "Infinity" in text:
        text = text.replace("-Infinity", "null").replace("Infinity", "null").replace("NaN", "null")
    return text


def _nan(values: Any) -> tuple[float, ...]:
    return tuple(math.nan if v is None else float(v) for v in values)


def decode(line: str) -> Event:
    """The event a line of :func:`encode` holds; ValueError when it is not one."""
    data = json.loads(line)
    cls = _TYPES.get(data.pop("event", None)) if isinstance(data, dict) else None
    if cls is None:
        raise ValueError("not a regtui event")
    if cls is RunStarted:
        data["runs"] = tuple(RunSpec(**r) for r in data["runs"])
        data["sweep"] = {k: tuple(v) for k, v in (data.get("sweep") or {}).items()}
    elif cls is Metrics:
        data["step"] = tuple(data["step"])
        data["values"] = {k: _nan(v) for k, v in data["values"].items()}
    elif cls is Curve:
        data["x"], data["y"] = _nan(data["x"]), _nan(data["y"])
    elif cls is LayerStats:
        data["mean"], data["std"] = _nan(data["mean"]), _nan(data["std"])
        data["names"] = tuple(data.get("names") or ())
    elif cls is TableRows:
        data["columns"], data["key"] = tuple(data["columns"]), tuple(data.get("key", ()))
        data["rows"] = tuple(tuple(r) for r in data["rows"])
    event: Event = cls(**data)
    return event


class EventLog:
    """An ``emit`` callback that appends every event to a file, one flushed line each.

    A write that fails (a full disk, a file-size limit) never fails the run: the log stops,
    keeps the error in :attr:`error` for the caller to report once, and the run goes on.
    """

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.error: OSError | None = None

    def __call__(self, event: Event) -> None:
        if self.error is not None:
            return
        try:
            self.stream.write(encode(event) + "\n")
            self.stream.flush()  # reaches the OS now: a SIGKILL cannot take it back
        except OSError as exc:
            self.error = exc
            self.close()

    def flush(self) -> None:
        if self.error is None:
            try:
                self.stream.flush()
            except OSError as exc:
                self.error = exc

    def close(self) -> None:
        try:
            self.stream.close()
        except OSError as exc:  # its last buffered line: the file is as complete as the disk allowed
            self.error = self.error or exc


def read(path: str | Path) -> Iterator[Event]:
    """The events of a file, up to its first line that does not parse (a run killed mid-write)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block open() until a writer came
            raise ConfigError(f"--rebuild: {path} is not a regular file (a directory, device or pipe)")
        handle = open(path, encoding="utf-8", errors="replace")  # garbage bytes: a line that does not parse
    except OSError as exc:
        raise ConfigError(f"--rebuild: cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        for line in handle:
            try:
                yield decode(line)
            except (ValueError, TypeError, KeyError, AttributeError):  # fields of the wrong kind, too
                return
