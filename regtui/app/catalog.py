"""The scenarios the picker offers: bundled ones, a --scenarios-dir, and the file given on the command line.

A file that does not load is still listed, with the same one-line error the CLI
prints (``str(ConfigError)``), so one bad file never hides the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from regtui import registry
from regtui import scenario as sc
from regtui.specs import ConfigError


@dataclass(frozen=True)
class Entry:
    path: Path | None
    scenario: sc.Scenario | None
    error: str | None = None

    @property
    def label(self) -> str:
        if self.scenario is not None and self.scenario.experiment == registry.TRACK and self.path is not None:
            return f"{self.scenario.title} · run {self.path.parent.name}"  # runs of one loop share its name
        if self.scenario is not None:
            return self.scenario.title
        return f"⚠ {self.path.name if self.path else 'scenario'} (invalid)"

    @property
    def summary(self) -> str:
        if self.scenario is not None:
            return self.scenario.summary
        return self.error or ""

    @property
    def key(self) -> str:
        return str(self.path.resolve()) if self.path else (self.error or "")


def _entry(path: Path) -> Entry:
    try:
        return Entry(path, sc.load(path))
    except ConfigError as exc:
        return Entry(path, None, str(exc))


def _lesson_key(entry: Entry) -> tuple[float, str]:
    """The tutorial's order: by the kind's place in the lessons, then by name (a sweep follows its lesson)."""
    kind = entry.scenario.experiment if entry.scenario else ""
    return registry.lesson_key(kind, entry.path.stem if entry.path else "")


def load_entries(file: str | None = None, scenarios_dir: str | None = None) -> tuple[list[Entry], int]:
    """All entries and the index to open on (the given file, else the first)."""
    entries = sorted((_entry(p) for p in sc.bundled_paths()), key=_lesson_key)
    if scenarios_dir:
        folder = Path(scenarios_dir)
        if folder.is_dir():
            entries += [_entry(p) for p in sorted(folder.glob("*.toml"))]
        else:
            entries.append(Entry(folder, None, f"--scenarios-dir: not a folder: {scenarios_dir}"))
    start = 0
    if file:
        try:
            path = sc.find(file)
        except ConfigError as exc:
            entries.append(Entry(Path(file), None, str(exc)))
            return entries, len(entries) - 1
        keys = [e.key for e in entries]
        key = str(path.resolve())
        if key in keys:
            start = keys.index(key)
        else:
            entries.append(_entry(path))
            start = len(entries) - 1
    return entries, start
