"""The dashboard's key and focus policy: which keys act where, what the footer lists, where focus goes.

Keys arrive in bursts over SSH and from a paste, so the screen's keys are priority bindings that
act as the key arrives, and every focus move is made at once (``set_focus``), never deferred
behind queued keys. A key a field takes as a letter, or that the focused widget binds itself,
is passed on (``check_action``). The footer lists the keys in one order on every view: the
screen's keys, the view's own, then help and quit.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import SystemCommand
from textual.binding import ActiveBinding, Binding, BindingType
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Select, TabbedContent, Tabs

from regtui.app.layout import Mode
from regtui.app.widgets.device_select import DeviceSelect
from regtui.app.widgets.picker import ScenarioPicker
from regtui.app.widgets.picker_select import ScenarioSelect

if TYPE_CHECKING:
    from regtui.app.screens.view_deck import ViewDeck
    from regtui.app.views import Showing
    from regtui.app.widgets.param_form import ParamForm

CHART_KEYS = [
    Binding("m", "chart('cycle_group')", "Metrics", priority=True),
    Binding("v", "chart('cycle_variant')", "Variant", priority=True),
    Binding("h", "chart('toggle_hidden')", "Hide/show", priority=True),
    Binding("t", "chart('cycle_split')", "Train/test", priority=True),
]
FULL_FOOTER_MIN = 120  # columns from which the footer lists each chart key (m Metric v Variant …) and ^p
SERIES = Binding.Group("Series")  # the chart keys' one footer entry in the narrow layout: "m v h t Series"
CHART_KEYS_NARROW = [
    Binding(b.key, b.action.replace("')", "', 'narrow')"), b.description, priority=True, group=SERIES)
    for b in CHART_KEYS
]
FOOTER_FIRST = ("tab", "r", "s", "slash")  # the footer's order on every view: these, the view's keys,
FOOTER_LAST = ("question_mark", "q")  # then these (help and quit stay in the 80-column footer)


@functools.cache
def class_binds(cls: type[DOMNode], key: str) -> bool:
    """Whether a widget class (or a class it inherits bindings from) binds ``key``."""
    for base in cls.__mro__:
        bindings = base.__dict__.get("BINDINGS", ())
        if any(b.key == key for b in Binding.make_bindings(bindings)):
            return True
        if not base.__dict__.get("_inherit_bindings", True):
            return False
    return False


class KeyPolicy(Screen[None]):
    """The dashboard screen's keys and focus moves (the screen class inherits them)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority bindings act as the key arrives, before the next key of a burst (a paste, SSH)
        # is handed to the focused widget; check_action passes them on while a field is typed in.
        Binding("r", "run", "Run", priority=True),
        Binding("s", "stop", "Stop", priority=True),
        Binding("tab", "next_view", "Next view", priority=True),
        Binding("shift+tab", "prev_view", "Prev view", show=False, priority=True),
        Binding("slash", "focus_picker", "Scenarios", key_display="/", priority=True),
        Binding("p", "focus_form", "Params", show=False, priority=True),
        Binding("d", "focus_device", "Device", show=False, priority=True),
        Binding("ctrl+r", "reset_params", "Reset params", show=False),
        Binding("a", "attach", "Follow a running run", show=False, priority=True),
        # In a field, letters are text (r types an r): the footer then lists how to run and leave.
        Binding("escape", "leave_field", "Leave field", key_display="esc", priority=True),
        Binding("enter", "submit_field", "Run", priority=True),
        Binding("enter", "enter_view", "Into the view", show=False, priority=True),  # on the tab row
        Binding("down", "enter_view", "Into the view", show=False),  # from the tab row
        # The chart keys act on the visible view's chart wherever the focus is (not in a field).
        # Priority: the footer lists these, not the focused chart's own bindings of the keys.
        *CHART_KEYS,
        # The narrow layout's footer: the same keys, one entry (check_action shows one set).
        *CHART_KEYS_NARROW,
    ]
    TYPING_KEYS: ClassVar[frozenset[str]] = frozenset(
        {"run", "stop", "focus_picker", "focus_form", "focus_device", "attach"}
    )  # letters a field takes
    PRIORITY_KEYS: ClassVar[dict[str, str]] = {
        "run": "r",
        "stop": "s",
        "focus_picker": "slash",
        "focus_form": "p",
        "focus_device": "d",
        "leave_field": "escape",
        "attach": "a",
    }  # a focused widget's own binding of the key (a view's d) wins

    # What the policy reads of the screen (DashboardScreen sets them).
    deck: ViewDeck
    form: ParamForm | None
    plan: Any
    layout_mode: Mode | None
    run_queued: bool

    @property
    def wide(self) -> bool:
        return self.layout_mode == "wide"

    @property
    def full_footer(self) -> bool:
        """Whether the footer shows each chart key and ^p: only where "? Help  q Quit" still fit after
        them (the sidebar layout from 100 columns is not wide enough for that: it gets the compact one)."""
        return self.wide and self.size.width >= FULL_FOOTER_MIN

    if TYPE_CHECKING:  # the screen's, which the policy calls

        def run_active(self) -> bool: ...
        def action_run(self) -> bool: ...
        def action_stop(self) -> None: ...
        def action_reset_params(self) -> None: ...
        def action_attach(self) -> None: ...
        def showing(self) -> Showing: ...
        def redraw_now(self) -> None: ...

    # --- what a key does here ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "chart":
            if (len(parameters) > 1) == self.full_footer:
                return False  # the other layout's footer entry of the key
            chart = self.deck.chart_for(str(parameters[0]))
            if chart is None or not chart.variant_names or self.typing() or self.layout_mode == "small":
                return False  # no chart (or none with this key, or nothing in it yet), or a field's letter
            return chart.check_action(str(parameters[0]), ())
        if action in self.TYPING_KEYS and self.typing():
            return False  # the key goes to the field (or the open list) as a character
        if action in self.PRIORITY_KEYS and self.focus_binds(self.PRIORITY_KEYS[action]):
            return False
        if action == "submit_field":
            return self.in_field()
        if action == "enter_view":
            return self.on_view_tabs()
        if action == "leave_field":
            return isinstance(self.focused, Input)
        if action == "stop" and not (self.run_active() or self.run_queued):
            return None  # shown dimmed in the footer
        if action in ("next_view", "prev_view"):
            # Leave tab alone while the terminal is too small and in an open Select.
            if self.layout_mode == "small" or self.select_open():
                return False
        return True

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's active bindings in the footer's order (FOOTER_FIRST, the view's keys, FOOTER_LAST),
        the same on every view whichever widget has the focus."""
        found = super().active_bindings
        first = [k for k in FOOTER_FIRST if k in found]
        last = [k for k in FOOTER_LAST if k in found]
        middle = [k for k in found if k not in FOOTER_FIRST and k not in FOOTER_LAST]
        return {k: found[k] for k in (*first, *middle, *last)}

    def focus_binds(self, key: str) -> bool:
        """Whether the focused widget or a container of it (below this screen) binds ``key``."""
        node = self.focused
        while node is not None and node is not self:
            if class_binds(type(node), key):
                return True
            node = node.parent if isinstance(node.parent, Widget) else None
        return False

    def typing(self) -> bool:
        """An Input has the focus or a Select's list is open: letters are text, not commands."""
        return isinstance(self.focused, Input) or self.select_open()

    def select_open(self) -> bool:
        """A Select's list is open. It holds the focus while open (it closes when the focus leaves), so
        this walks up from the focus: check_action runs for every binding at every footer refresh,
        and a query over the whole screen there cost tens of ms a refresh."""
        focused = self.focused
        return focused is not None and any(
            isinstance(node, Select) and node.expanded for node in focused.ancestors_with_self
        )

    def in_field(self) -> bool:
        focused = self.focused
        return isinstance(focused, Input) and (focused.id or "").startswith("field-")

    def on_view_tabs(self) -> bool:
        """The focus is on the views' tab row."""
        focused = self.focused
        return isinstance(focused, Tabs) and focused.parent is self.deck.tabs()

    # --- focus moves ---------------------------------------------------------------------------

    def action_submit_field(self) -> None:
        """Enter in a field: run, and leave the field for the views so that one-letter keys act.
        (Enter on the views' tab row is enter_view: into the view, its table, its text.)"""
        focused = self.focused
        if isinstance(focused, Input):
            # Enter is a screen binding, handled at once; keys typed just before it (a burst) may
            # still wait in the field's own queue. Leave the field now (a key after Enter is not
            # typed into it) and run after those keys, with what the field then shows.
            self.focus_views()
            focused.call_later(self._submit_from, focused)

    def _submit_from(self, field: Input) -> None:
        if self.action_run() or self.plan is not None:
            self.focus_views()  # again: starting a run can move the focus (the trial saw it land in a field)
        else:
            self.set_focus(field)  # a bad value: back to the field that holds it

    def action_enter_view(self) -> None:
        """Down or Enter on the tab row: focus the shown view's content (its first table)."""
        view = self.deck.views.get(self.deck.active)
        if view is not None:
            view.focus_content()

    def focus_views(self) -> None:
        """Focus the visible view's content (or its tab row), at once."""
        view = self.deck.views.get(self.deck.active)
        target = next((w for w in view.walk_children(Widget) if w.focusable), None) if view else None
        self.set_focus(target or self.deck.tabs().query_one(Tabs))

    def focus_first_field(self) -> None:
        if self.form is not None:
            fields = self.form.query(Input)
            if fields:
                self.set_focus(fields.first())  # at once: Widget.focus() would wait behind queued keys

    def cycle(self, step: int) -> None:
        """Open the view ``step`` tabs away, drawn at once, and focus it (not while typing in the sidebar)."""
        target = self.deck.step(self.showing(), step)
        if target is None:
            return
        # Drawn now, before the next frame: the pane is shown at once, and its TabActivated message
        # comes later (under load, a frame or more later: the pane's old content showed meanwhile).
        self.redraw_now()
        if self.wide and isinstance(self.focused, Input):
            return  # typing in the sidebar form: keep the cursor there
        self.deck.focus(target)  # at once, so the next key of a burst lands in the view

    def action_next_view(self) -> None:
        self.cycle(1)

    def action_prev_view(self) -> None:
        self.cycle(-1)

    def action_chart(self, action: str, layout: str = "wide") -> None:
        """A chart key (m, v, h, t): the visible view's chart acts on it, focused or not."""
        chart = self.deck.chart_for(action)
        if chart is not None and chart.check_action(action, ()):
            getattr(chart, f"action_{action}")()

    def action_focus_picker(self) -> None:
        """The scenario list: the sidebar's, or in the narrow layout the dropdown's, opened (one key,
        as the footer's "/ Scenarios" promises), its list focused at once for the next key of a burst."""
        if self.wide:
            self.set_focus(self.query_one(ScenarioPicker))
            return
        select = self.query_one(ScenarioSelect)
        self.set_focus(select)
        select.action_show_overlay()
        self.set_focus(select.query_one("SelectOverlay"))  # by type name: Textual's class is private

    def action_focus_form(self) -> None:
        if not self.wide:  # the form lives in the Params tab
            self.deck.show("params")
        self.focus_first_field()

    def action_focus_device(self) -> None:
        self.set_focus(self.query_one(DeviceSelect))

    def action_leave_field(self) -> None:
        if isinstance(self.focused, Input):
            if self.wide:
                self.set_focus(self.query_one(ScenarioPicker))
            else:
                self.set_focus(self.query_one(TabbedContent).query_one(Tabs))

    def system_commands(self) -> Iterable[SystemCommand]:
        """The command palette's entries for this screen's actions."""
        yield SystemCommand("Run", "Run the scenario with the form's parameters (r)", self.action_run)
        yield SystemCommand("Stop", "Stop the run (s)", self.action_stop)
        yield SystemCommand("Next view", "Show the next view (tab)", self.action_next_view)
        yield SystemCommand("Previous view", "Show the previous view (shift+tab)", self.action_prev_view)
        yield SystemCommand("Scenarios", "Focus the scenario picker (/)", self.action_focus_picker)
        yield SystemCommand("Parameters", "Focus the parameter form (p)", self.action_focus_form)
        yield SystemCommand("Device", "Focus the device selector (d)", self.action_focus_device)
        yield SystemCommand("Follow a running run", "Follow the newest running run live (a)", self.action_attach)
        yield SystemCommand("Reset parameters", "Back to the scenario's defaults (ctrl+r)", self.action_reset_params)
