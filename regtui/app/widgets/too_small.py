"""Shown instead of the dashboard when the terminal is smaller than 80x24."""

from __future__ import annotations

from textual.widgets import Static

MIN_WIDTH, MIN_HEIGHT = 80, 24


class TooSmall(Static):
    DEFAULT_CSS = """
    TooSmall {
        width: 1fr;
        height: 1fr;
        content-align: center middle;
        text-align: center;
        padding: 1 2;
    }
    """

    def show_size(self, width: int, height: int) -> None:
        self.update(
            f"regtui needs a terminal of at least {MIN_WIDTH}x{MIN_HEIGHT}; this one is {width}x{height}.\n"
            "Enlarge the window or make the font smaller to see the dashboard.\n"
            "q quits; a run keeps going meanwhile."
        )
