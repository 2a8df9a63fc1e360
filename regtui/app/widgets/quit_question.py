"""The question quitting during a run asks: stop the run, or keep it running in the background."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class QuitQuestion(ModalScreen[str | None]):
    """Dismissed with "stop" (``s``), "keep" (``k``), or None (``escape``: stay). ``enter`` and a second
    ``q`` take the focused answer, which is the one given last time."""

    DEFAULT_CSS = """
    QuitQuestion {
        align: center middle;
    }
    QuitQuestion > Vertical {
        width: auto;
        max-width: 76;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    QuitQuestion #quit-question {
        width: auto;
        margin-bottom: 1;
    }
    QuitQuestion Horizontal {
        width: auto;
        height: auto;
    }
    QuitQuestion Button {
        margin: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "answer('stop')", "Stop the run"),
        Binding("k", "answer('keep')", "Keep it running"),
        Binding("q", "default", "Quit", show=False),
        Binding("escape", "answer(None)", "Stay", show=False),
    ]

    def __init__(self, run: str, default: str) -> None:
        super().__init__()
        self.run = run
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"{self.run} is still running. Quit and …\n"
                "  stop it: it stops at its next step and is saved as stopped;\n"
                "  keep it running in the background: it is saved when it ends,\n"
                "  'regtui attach' follows it again (or a, when the dashboard opens).",
                id="quit-question",
                markup=False,
            )
            with Horizontal():
                yield Button("Stop it (s)", variant="error", id="quit-stop")
                yield Button("Keep running (k)", variant="success", id="quit-keep")
                yield Button("Stay (esc)", id="quit-stay")

    def on_mount(self) -> None:
        self.query_one(f"#quit-{self.default}", Button).focus()  # Enter repeats the last answer

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)

    def action_default(self) -> None:
        self.dismiss(self.default)

    @on(Button.Pressed, "#quit-stop")
    def _stop(self) -> None:
        self.dismiss("stop")

    @on(Button.Pressed, "#quit-keep")
    def _keep(self) -> None:
        self.dismiss("keep")

    @on(Button.Pressed, "#quit-stay")
    def _stay(self) -> None:
        self.dismiss(None)
