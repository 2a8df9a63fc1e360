"""The scenario's title, summary and explanation: Markdown in a scroll box that takes focus.

Tab (or a click) focuses the box; then Up/Down, PageUp/PageDown, Home/End, Space
and the mouse wheel scroll the text.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownFence


class PlainFence(MarkdownFence):
    """A code block shown as plain text. Without a language, Textual asks Pygments to guess one,
    which costs ≈0.1 s a block (0.8 s for the lessons at startup) and colours formulas at random."""

    @classmethod
    def highlight(cls, code: str, language: str, ansi: bool = False, dark: bool = False) -> Content:
        return super().highlight(code, language or "text", ansi, dark)


class LessonMarkdown(Markdown):
    BLOCKS = {**Markdown.BLOCKS, "fence": PlainFence, "code_block": PlainFence}  # noqa: RUF012 (Textual's own)


class Explanation(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    Explanation {
        height: 1fr;
        padding: 0 1;
    }
    Explanation > Markdown {
        padding: 0;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "page_down", "Page down", show=False),
        Binding("shift+space", "page_up", "Page up", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield LessonMarkdown()

    def show(self, title: str, summary: str, explanation: str, error: str | None = None) -> None:
        parts = [f"# {title}"]
        if error:
            parts.append(f"**This scenario file cannot be used:** `{error}`")
        if summary:
            parts.append(f"*{summary}*")
        if explanation:
            parts.append(explanation)
        self.query_one(LessonMarkdown).update("\n\n".join(parts))
        self.scroll_home(animate=False)
