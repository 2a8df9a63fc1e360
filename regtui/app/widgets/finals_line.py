"""The loss chart's legend: each variant's markers, name and final values.

``●○ no weight decay: train_loss 0.0003 · test_loss 0.32 · weight_norm 41.2`` (the
chart's title says which marker is which metric).
Drawn outside the plot so it never hides a curve; shapes as well as colours, so
it reads the same with ``NO_COLOR``. Many variants (a sweep) get a compact
wrapped list of names instead; their final values are in the Sweep view.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from regtui.aggregate import finite
from regtui.app import plotting
from regtui.app.widgets.loss_chart import metric_names
from regtui.numbers import fmt

MAX_LINES = 4


class FinalsLine(Static):
    DEFAULT_CSS = """
    FinalsLine {
        height: auto;
        max-height: 5;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._last = ""

    def show(self, records: list[dict[str, Any]]) -> None:
        metrics = metric_names(records)
        text = Text()
        if len(records) <= MAX_LINES:
            for vi, rec in enumerate(records):
                if vi:
                    text.append("\n")
                self._markers(text, vi, metrics, with_names=False)
                text.append(f" {rec['name']}", style="bold")
                parts = self._finals(rec)
                if parts:
                    text.append(": " + " · ".join(parts))
        else:
            # Many variants: a compact list of "markers name" items, broken into lines by hand
            # (the widget does not wrap, so its height stays predictable).
            width = max(40, (self.size.width or 80) - 2)
            items = []
            if len(metrics) > 1:
                head = Text()
                self._markers(head, 0, metrics, with_names=True, style="")
                head.append(" (shape per variant)")
                items.append(head)
            for vi, rec in enumerate(records):
                item = Text()
                self._markers(item, vi, metrics, with_names=False)
                item.append(f" {rec['name']}")
                items.append(item)
            line_len = 0
            for item in items:
                if line_len and line_len + 3 + len(item.plain) > width:
                    text.append("\n")
                    line_len = 0
                elif line_len:
                    text.append("   ")
                    line_len += 3
                text.append_text(item)
                line_len += len(item.plain)
        self._update(text)

    @staticmethod
    def _markers(text: Text, vi: int, metrics: list[str], with_names: bool, style: str | None = None) -> None:
        for i, name in enumerate(metrics):
            marker = plotting.marker(vi, plotting.metric_rank(name))
            text.append(marker, style=plotting.rich_color(vi) if style is None else style)
            if with_names:
                text.append(plotting.metric_label(name) + (" " if i < len(metrics) - 1 else ""))

    @staticmethod
    def _finals(rec: dict[str, Any]) -> list[str]:
        parts = []
        std = rec.get("final_std") or {}
        for key, value in rec.get("final", {}).items():
            if isinstance(value, bool):
                if value:
                    parts.append(key)
                continue
            if value is None or not isinstance(value, (int, float)):
                continue
            item = f"{key} {fmt(value, 3)}"
            if finite(std.get(key)):
                item += f" ± {fmt(std[key], 2)}"
            parts.append(item)
        return parts

    def _update(self, text: Text) -> None:
        if text.plain != self._last:
            # One line per variant, never wrapped: the height changes only with the line count.
            same_height = text.plain.count("\n") == self._last.count("\n") and bool(self._last) == bool(text.plain)
            self._last = text.plain
            self.update(text, layout=not same_height)
