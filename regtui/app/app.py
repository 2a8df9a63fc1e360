"""The regtui dashboard App: its options, the devices, help and quit.

Everything on screen is :class:`~regtui.app.screens.dashboard.DashboardScreen`'s
(the layout, the keys that act on it, the form, runs and views); the App keeps
what outlives a screen and what every screen shares. Layout classes come from
Textual's breakpoints (see :mod:`regtui.app.layout`).
"""

from __future__ import annotations

import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from textual import on
from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen

from regtui.app import layout
from regtui.app.catalog import load_entries
from regtui.app.messages import DevicesFound
from regtui.app.options import MAX_POINTS, Options
from regtui.app.screens.dashboard import DashboardScreen
from regtui.app.widgets.help_screen import HelpScreen

ACTION_FAILED = "that key failed (the dashboard keeps running)"  # the notice's title


class RegtuiApp(App[None]):
    """The dashboard. Build it with :func:`make_app`."""

    CSS_PATH = "regtui.tcss"
    TITLE = "regtui"
    HORIZONTAL_BREAKPOINTS = layout.HORIZONTAL_BREAKPOINTS
    VERTICAL_BREAKPOINTS = layout.VERTICAL_BREAKPOINTS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        file: str | None = None,
        scenarios_dir: str | None = None,
        device: str = "auto",
        *,
        devices: list[str] | None = None,
        runner: Callable[..., Any] | None = None,
        min_interval: float = 0.25,
        draw_factor: float = 20.0,
        max_points: int = MAX_POINTS,
        threads: int = 1,
        seed: int = 0,
        save: bool = True,
        runs_dir: str | None = None,
        follow: int | None = None,
    ) -> None:
        super().__init__()
        self.file = file
        self.scenarios_dir = scenarios_dir
        self.options = Options(runner, min_interval, draw_factor, max_points, threads, seed, save, runs_dir, follow)
        self.requested_device = device or "auto"
        self.device: str | None = None  # the device a run uses; None while detecting
        self.device_names: list[str] = list(devices) if devices else []
        if devices:
            self.device = devices[0] if self.requested_device == "auto" else self.requested_device
            if self.device not in self.device_names:
                self.device_names.append(self.device)
        self._main: DashboardScreen | None = None
        self.notices: deque[str] = deque(maxlen=50)  # the messages notify showed, newest last
        self.farewell = ""  # a line for the shell once the dashboard is gone (a run left going)

    def get_default_screen(self) -> Screen[Any]:
        self._main = DashboardScreen(*load_entries(self.file, self.scenarios_dir), self.options)
        return self._main

    @property
    def main(self) -> DashboardScreen:
        """The dashboard's screen (also while help or the command palette is open above it)."""
        if self._main is None:
            raise RuntimeError("the dashboard screen exists once the app runs")
        return self._main

    def on_mount(self) -> None:
        if not self.device_names:
            # Draw first: torch loads (and the devices are found) only once the first frame is out.
            self.call_after_refresh(self.set_timer, 0.4, self._detect_devices)

    # --- devices ---------------------------------------------------------------------------

    def run_device(self) -> str:
        """The device a run started now uses (the requested one while detection is under way)."""
        return self.device or ("cpu" if self.requested_device == "auto" else self.requested_device)

    def _detect_devices(self) -> None:
        # A daemon thread, not a Textual worker: those run on asyncio's default executor, which
        # the event loop joins on exit, so quitting while torch loads would wait for the import.
        threading.Thread(target=self._find_devices, name="regtui-devices", daemon=True).start()

    def _find_devices(self) -> None:
        try:
            from regtui import devices
            from regtui.specs import ConfigError

            names = devices.available()
            names += devices.ray_choices(names)  # the plan's stacks as tasks on a Ray cluster
            chosen, error = devices.best(), None
            if self.requested_device.strip().lower() != "auto":
                try:
                    chosen = devices.resolve(self.requested_device)
                except ConfigError as exc:
                    error = f"{exc}; using {chosen}"
            self.post_message(DevicesFound(names, chosen, error))
        except BaseException as exc:  # a broken torch install is a notice, never a dead app
            self.post_message(DevicesFound(["cpu"], "cpu", f"finding the devices failed: {type(exc).__name__}: {exc}"))

    @on(DevicesFound)
    def _devices_found(self, event: DevicesFound) -> None:
        if event.error:
            self.notify(event.error, title="device", severity="error", timeout=10)
        self.device_names = list(event.names)
        if event.best not in self.device_names:
            self.device_names.append(event.best)
        self.device = event.best
        self.main.show_devices(self.device_names, event.best)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's notify, and the message kept in ``notices`` (the last 50): what the user was told,
        readable without Textual's private toast list (tests, and a record of the session's messages)."""
        self.notices.append(str(message))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # --- keys ------------------------------------------------------------------------------

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Every key's action goes through here: one that raises is an error notice, never an exit.

        Only actions are guarded (a key, a click on a footer key, the command palette); an
        exception anywhere else (a message handler, a render) still reaches Textual's handler.
        """
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as exc:
            name = action if isinstance(action, str) else action[1]
            self.log.error(f"action {name!r} failed", "".join(traceback.format_exception(exc)))
            self.notify(
                f"{name}: {type(exc).__name__}: {exc}",
                title=ACTION_FAILED,
                severity="error",
                timeout=10,
                markup=False,
            )
            return True

    # --- help, quit, the command palette ---------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.main.quit_app()

    def on_unmount(self) -> None:
        if self._main is not None:
            self._main.cancel_run()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from self.main.system_commands()
        yield SystemCommand("Help", "Keys and a short guide (?)", self.action_help)
        yield from super().get_system_commands(screen)


def make_app(
    file: str | None = None,
    scenarios_dir: str | None = None,
    device: str = "auto",
    **options: Any,
) -> RegtuiApp:
    """The dashboard, shared by the CLI (``regtui [FILE]``) and the tests.

    ``options``: ``devices`` (skip detection: a list of device names), ``runner``
    (replaces ``regtui.engine.run_plan``), ``min_interval`` (shortest redraw
    interval, seconds), ``draw_factor`` (wait this many times the last redraw's
    cost before the next), ``max_points`` (per drawn series), ``threads``, ``seed``,
    ``save`` (keep runs in the run history), ``runs_dir`` (its folder) and ``follow`` (a running
    run's id to follow as it opens).
    """
    return RegtuiApp(file=file, scenarios_dir=scenarios_dir, device=device, **options)
