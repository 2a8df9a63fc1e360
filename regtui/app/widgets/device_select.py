"""The device selector: ``regtui.devices.available()`` once torch has loaded (in a thread)."""

from __future__ import annotations

from textual.widgets import Select


class DeviceSelect(Select[str]):
    DEFAULT_CSS = """
    DeviceSelect {
        width: 18;
    }
    """

    def __init__(self, device: str | None, *, id: str | None = None) -> None:
        initial = [(device, device)] if device else [("loading…", "")]
        super().__init__(initial, value=device or "", allow_blank=False, compact=True, id=id)

    def set_devices(self, names: list[str], chosen: str) -> None:
        self.set_options([(n, n) for n in names])
        self.value = chosen
