"""The scenario's title, summary and explanation (Markdown)."""

from __future__ import annotations

from textual.widgets import Markdown


class Explanation(Markdown):
    DEFAULT_CSS = """
    Explanation {
        padding: 0 1;
    }
    """

    def show(self, title: str, summary: str, explanation: str, error: str | None = None) -> None:
        parts = [f"# {title}"]
        if error:
            parts.append(f"**This scenario file cannot be used:** `{error}`")
        if summary:
            parts.append(f"*{summary}*")
        if explanation:
            parts.append(explanation)
        self.update("\n\n".join(parts))
