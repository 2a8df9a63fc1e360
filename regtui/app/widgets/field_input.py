"""A text field of the parameter form whose editing keys act in the order they arrive."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding
from textual.widgets import Input


class FieldInput(Input):
    """An Input whose editing keys act in the order they arrive, even in a burst (paste, SSH).

    Textual types a character in the field's own handler but runs an editing key (Backspace,
    End, ←, …) as a binding once the key has bubbled up, later: `End BSpace×6 1 2 3 4` sent
    at once left `500` instead of `1234` (a trial). Here the editing keys run at once, from
    the field's own binding table, so keys act in order.
    """

    ACTIONS: ClassVar[dict[str, str]] = {
        key: binding.action
        for binding in Input.BINDINGS
        if isinstance(binding, Binding) and binding.action not in ("submit", "cut", "copy", "paste")
        for key in binding.key.split(",")
    }

    async def on_key(self, event: events.Key) -> None:
        """An editing key acts now; any other key goes on to Input's own handler (a character)."""
        action = self.ACTIONS.get(event.key)
        if action is not None:
            event.stop()
            event.prevent_default()  # Textual dispatches along the MRO: Input's own handler is skipped
            await self.run_action(action)
