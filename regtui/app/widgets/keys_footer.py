"""The footer: Textual's own, rebuilt only when the keys it shows changed.

Textual's Footer recomposes (unmounts and mounts a widget per key) at every
``refresh_bindings``, and a view switch asks for that several times (the focus
moves, the tab changes, the chart's groups change). Each rebuild also asks every
binding's ``check_action``. Here the requests of one refresh are taken together,
and the footer is rebuilt only when what it would show differs.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._pending = False
        self._shown: tuple[Any, ...] | None = None
        self.rebuilds = 0  # for tests and the benchmark

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if not self._pending:
            self._pending = True
            self.call_after_refresh(self._settle, screen)

    def _settle(self, screen: Screen[Any]) -> None:
        self._pending = False
        if not self.is_attached or screen is not self.screen:
            return
        shown = self.signature(screen)
        if shown == self._shown:
            return
        if screen.app.app_focus:  # else Footer waits for the focus to come back: so will this
            self._shown = shown
            self.rebuilds += 1
        super().bindings_changed(screen)

    def signature(self, screen: Screen[Any]) -> tuple[Any, ...]:
        """What the footer would show: the shown bindings (key, description, group, enabled) and its style."""
        keys = tuple(
            (key, binding.action, binding.description, binding.group, enabled)
            for key, (_, binding, enabled, _) in screen.active_bindings.items()
            if binding.show
        )
        return (*keys, self.compact, self.show_command_palette)
