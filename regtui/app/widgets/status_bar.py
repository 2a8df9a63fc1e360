"""The status line: progress bar, percent done, rate, device, elapsed, status and what the run showed.

While a run goes on the bar leads; once it has ended the status and what the run showed lead
("done · normal init went inf/NaN at layer 37"), the figures follow, and the line wraps onto a
second one rather than cut the words.

Progress is in percent: the engine counts work over every model of the plan (bn: 4 models ×
81 passes = 324), while the charts' x axis is one model's step (80), so a count here would not
agree with what the charts show."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

STATUS_STYLE = {
    "ready": "dim",
    "running": "bold",
    "stopping": "bold",
    "done": "bold green",
    "stopped": "bold yellow",
    "interrupted": "bold yellow",
    "diverged": "bold magenta",
    "failed": "bold red",
}


@dataclass
class StatusInfo:
    status: str = "ready"
    step: int = 0
    total: int = 0
    phase: str = ""
    rate: float | None = None  # steps/s
    elapsed: float | None = None  # seconds
    device: str = "…"
    note: str = ""  # what the run showed, e.g. "normal init went inf/NaN at layer 37"
    hint: str = ""  # what to do next, after the status: "ready — r runs"
    marker: str = ""  # shown until the next run: "viewing stored run #12 (read-only) — r runs anew"


def elapsed_text(seconds: float) -> str:
    minutes, sec = divmod(seconds, 60)
    return f"{int(minutes)}:{sec:04.1f}"


class StatusBar(Static):
    """Redrawn by the app's timer only when its text changes."""

    DEFAULT_CSS = """
    StatusBar {
        height: auto;
        max-height: 2;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.info = StatusInfo()
        self.show_timing = True  # False in snapshot tests: steps/s and elapsed vary
        self._last = ""

    def show(self, info: StatusInfo) -> None:
        self.info = info
        width = max(20, self.size.width - 2 if self.size.width else 78)
        text = self.build(info, width)
        if text.plain != self._last:
            # A new layout only when the text goes from one line to two or back (the bar's redraws are cheap).
            lines = (len(self._last) > width, len(text.plain) > width)
            self._last = text.plain
            self.update(text, layout=lines[0] != lines[1])

    def build(self, info: StatusInfo, width: int) -> Text:
        if info.status in ("running", "stopping"):
            return self.running_line(info, width)
        return self.ended_line(info)

    def figures(self, info: StatusInfo) -> str:
        """'45% measure  1,650 model-steps/s  cpu  0:01.2' (what is known of them)."""
        parts = []
        if info.total:
            percent = 100 * info.step // info.total
            parts.append(f"{percent}%" + (f" {info.phase}" if info.phase and percent < 100 else ""))
        if self.show_timing and info.rate is not None:
            parts.append(f"{info.rate:,.0f} model-steps/s")
        parts.append(info.device)
        if self.show_timing and info.elapsed is not None:
            parts.append(elapsed_text(info.elapsed))
        return "  ".join(parts)

    def ended_line(self, info: StatusInfo) -> Text:
        """The status and what the run showed first, then the marker, then the figures."""
        text = Text(info.status, style=STATUS_STYLE.get(info.status, "bold"))
        if info.note:
            text.append(f" · {info.note}")
        if info.hint:
            text.append(f" — {info.hint}", style="dim")
        if info.marker:
            text.append("  ")
            text.append(f" {info.marker} ", style="bold reverse")  # visible without colour (NO_COLOR) too
        text.append(f"  {self.figures(info)}")
        return text

    def running_line(self, info: StatusInfo, width: int) -> Text:
        """The bar, the figures and the status ("running", "stopping"), the bar as wide as the rest leaves."""
        tail = self.figures(info)
        hint = f" — {info.hint}" if info.hint else ""
        marker = f"   {info.marker} " if info.marker else ""  # a followed run says so while it runs
        bar_width = min(30, width - len(tail) - len(info.status) - len(hint) - len(marker) - 4)
        bar_width = bar_width if bar_width >= 8 else 0
        frac = min(1.0, info.step / info.total) if info.total else 0.0
        filled = round(frac * bar_width)
        text = Text()
        if bar_width:
            text.append("█" * filled, style="bold")
            text.append("░" * (bar_width - filled), style="dim")
            text.append(" ")
        text.append(f"{tail}  ")
        text.append(info.status, style=STATUS_STYLE.get(info.status, "bold"))
        if hint:
            text.append(hint, style="dim")
        if marker:
            text.append("  ")
            text.append(marker[2:], style="bold reverse")
        return text
