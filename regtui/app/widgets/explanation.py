"""The scenario's title, summary and explanation: Markdown in a scroll box that takes focus.

Tab (or a click) focuses the box; then Up/Down, PageUp/PageDown, Home/End, Space
and the mouse wheel scroll the text.
"""

from __future__ import annotations

from typing import ClassVar

from rich.markdown import Markdown
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static


class Explanation(VerticalScroll, can_focus=True):
    """One Static with the text as Rich Markdown (code blocks as plain text, no language guessed).
    Not Textual's Markdown widget: that is a widget per paragraph, and focusing the box (tab to
    the view) restyled every one of them, a third of a view switch."""

    DEFAULT_CSS = """
    Explanation {
        height: 1fr;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "page_down", "Page down", show=False),
        Binding("shift+space", "page_up", "Page up", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="explanation-text")

    def show(self, title: str, summary: str, explanation: str, error: str | None = None) -> None:
        parts = [f"# {title}"]
        if error:
            parts.append(f"**This scenario file cannot be used:** `{error}`")
        if summary:
            parts.append(f"*{summary}*")
        if explanation:
            parts.append(explanation)
        self.query_one("#explanation-text", Static).update(Markdown("\n\n".join(parts), code_theme="ansi_dark"))
        self.scroll_home(animate=False)
