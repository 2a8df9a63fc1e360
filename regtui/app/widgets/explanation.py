"""The scenario's title, summary and explanation: Markdown in a scroll box that takes focus.

Tab (or a click) focuses the box; then Up/Down, PageUp/PageDown, Home/End, Space
and the mouse wheel scroll the text.
"""

from __future__ import annotations

from typing import ClassVar

from rich.markdown import Markdown
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.widgets import RichLog


class Explanation(RichLog):
    """The text as Rich Markdown (code blocks as plain text, no language guessed), laid out once per
    width into lines that Textual's line API shows (only the lines in view are drawn). Not
    Textual's Markdown widget, a widget per paragraph: focusing the box (tab to the view)
    restyled every one of them, and a repaint of a tall Static laid out the whole text again
    (0.1–0.5 s of a view switch)."""

    DEFAULT_CSS = """
    Explanation {
        height: 1fr;
        padding: 0 1;
        background: transparent;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "page_down", "Page down", show=False),
        Binding("shift+space", "page_up", "Page up", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False, auto_scroll=False)
        self._markdown = ""
        self._width = 0  # the width the text was laid out for

    def show(self, title: str, summary: str, explanation: str, error: str | None = None) -> None:
        parts = [f"# {title}"]
        if error:
            parts.append(f"**This scenario file cannot be used:** `{error}`")
        if summary:
            parts.append(f"*{summary}*")
        if explanation:
            parts.append(explanation)
        self._markdown = "\n\n".join(parts)
        self._width = 0
        self._lay_out()
        self.scroll_home(animate=False)

    def on_resize(self, event: Resize) -> None:  # RichLog's own on_resize runs too (Textual dispatches along the MRO)
        self._lay_out()

    def _lay_out(self) -> None:
        """Lay the text out for the box's width (once per text and width)."""
        # The room beside a vertical scrollbar, whether or not one shows: the width stays put.
        width = self.content_region.width - self.styles.scrollbar_size_vertical
        if width <= 0 or width == self._width or not self._markdown:
            return
        self._width = width
        self.clear()
        self.write(Markdown(self._markdown, code_theme="ansi_dark"), width=width, scroll_end=False)
