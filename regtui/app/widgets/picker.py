"""The scenario list of the wide layout: titles, the highlighted one's summary below."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from regtui.app.catalog import Entry


class ScenarioPicker(OptionList):
    """Enter (or a click) picks the highlighted scenario; its index is the option id."""

    DEFAULT_CSS = """
    ScenarioPicker {
        height: auto;
        max-height: 12;
    }
    """

    def __init__(self, entries: list[Entry], *, id: str | None = None) -> None:
        options = [Option(Text(e.label, style="" if e.scenario else "red"), id=str(i)) for i, e in enumerate(entries)]
        super().__init__(*options, id=id)
        self.entries = entries
        self.border_title = "Scenarios"
