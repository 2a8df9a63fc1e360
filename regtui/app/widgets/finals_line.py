"""Each variant's final values under the loss chart: ``name: train_loss 0.0003 · test_loss 0.32``."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from regtui.app import plotting

MAX_LINES = 4


class FinalsLine(Static):
    DEFAULT_CSS = """
    FinalsLine {
        height: auto;
        max-height: 5;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._last = ""

    def show(self, records: list[dict[str, Any]]) -> None:
        text = Text()
        shown = [r for r in records if r.get("final")]
        for vi, rec in enumerate(shown[:MAX_LINES]):
            if vi:
                text.append("\n")
            index = records.index(rec)
            text.append(f"{plotting.marker(index, 0)} {rec['name']}: ", style="bold")
            parts = []
            std = rec.get("final_std") or {}
            for key, value in rec["final"].items():
                if isinstance(value, bool):
                    if value:
                        parts.append(key)
                    continue
                if value is None:
                    continue
                if isinstance(value, (int, float)):
                    item = f"{key} {plotting.fmt(value)}"
                    if plotting.finite(std.get(key)):
                        item += f" ± {plotting.fmt(std[key], 2)}"
                    parts.append(item)
            text.append(" · ".join(parts))
        if len(shown) > MAX_LINES:
            text.append(f"\n… {len(shown) - MAX_LINES} more variants (see the Sweep view or --json)")
        if text.plain != self._last:
            same_height = text.plain.count("\n") == self._last.count("\n") and bool(self._last) == bool(text.plain)
            self._last = text.plain
            self.update(text, layout=not same_height)
