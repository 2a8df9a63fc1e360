"""The one-line scenario selector of the narrow (80x24) layout."""

from __future__ import annotations

from textual.widgets import Select

from regtui.app.catalog import Entry


class ScenarioSelect(Select[int]):
    DEFAULT_CSS = """
    ScenarioSelect {
        width: 1fr;
    }
    """

    def __init__(self, entries: list[Entry], value: int, *, id: str | None = None) -> None:
        super().__init__(
            [(e.label, i) for i, e in enumerate(entries)],
            value=value,
            allow_blank=False,
            compact=True,
            id=id,
        )
        self.entries = entries
