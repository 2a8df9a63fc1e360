"""The headless command that reproduces the run (or, before a run, the form's settings)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ReplayLine(Static):
    DEFAULT_CSS = """
    ReplayLine {
        height: auto;
        max-height: 3;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.command = ""

    def show(self, prefix: str, command: str) -> None:
        if command == self.command and prefix == getattr(self, "_prefix", None):
            return
        self.command, self._prefix = command, prefix
        text = Text()
        text.append(f"{prefix} ", style="bold")
        text.append(command)
        self.update(text)  # may wrap to another line on a narrow terminal: relayout
