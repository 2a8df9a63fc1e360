"""The protocol every dashboard view follows, so the screen can treat them all alike.

A view is the tab pane itself: it says which collector data it draws from
(``kinds``, the version keys that trigger a redraw), which data make its tab
appear (``shows_for``), and it draws from a :class:`~regtui.report.Snapshot`.
The screen composes one per name in ``registry.VIEWS`` and loops over them;
adding a view is one module here and one entry in ``views/__init__.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane

from regtui.app.catalog import Entry
from regtui.app.widgets.chart import LiveChart
from regtui.app.widgets.table_views import Refills
from regtui.report import Snapshot


@dataclass(frozen=True)
class Showing:
    """What decides which tabs show: the kind's views, the run's data, the layout, the plan."""

    listed: frozenset[str]  # the experiment kind's views (and its run_views once a run started)
    data: frozenset[str]  # Collector.data_kinds() of the current run (empty before one)
    wide: bool  # the sidebar layout
    sweep: bool  # the form's or the run's plan sweeps a parameter
    running: bool  # a run has started (and was not cleared by picking another scenario)


class ViewTabs(TabbedContent):
    """The views' TabbedContent: a focus inside a pane activates that pane only while it is still there.

    TabbedContent switches to a pane whenever a widget in it was focused, by a message that
    arrives later. In a burst of tab keys (a paste, SSH) the focus has moved on to a later
    view by then, and the pane it left took the screen back.
    """

    def on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        """Activate the pane (TabbedContent's own handler, next in the MRO) only if the focus is in it."""
        focused = self.screen.focused
        if focused is None or not (focused is event.tab_pane or event.tab_pane in focused.ancestors):
            event.stop()
            event.prevent_default()  # Textual dispatches along the MRO: TabbedContent's own is skipped


class View(TabPane):
    """One tab of the dashboard. Subclasses set the class attributes and override what they need."""

    title: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = ()  # Collector.version kinds it draws from; () = not drawn from a run
    shows_for: ClassVar[tuple[str, ...]] = ()  # Collector.data_kinds that make its tab appear
    points: ClassVar[int | None] = None  # points per drawn series; None = the app's max_points

    def __init__(self, name: str) -> None:
        super().__init__(self.title, id=f"tab-{name}", name=name)
        self._chart: LiveChart | Literal[False] | None = None  # None: not looked up yet; False: none

    def shown(self, showing: Showing) -> bool:
        """Whether its tab shows: the kind lists it, or the run produced data it draws."""
        return self.name in showing.listed or bool(showing.data.intersection(self.shows_for))

    def leads(self, showing: Showing) -> bool:
        """Whether it opens first when a scenario is picked or a run starts (over the kind's first view)."""
        return False

    def draw(self, snapshot: Snapshot) -> None:
        """Redraw from the run's data (called only when ``kinds`` changed, or the tab was opened)."""

    def clear(self) -> None:
        """Back to the empty state of a new scenario or run."""

    def show_entry(self, entry: Entry) -> None:
        """A scenario was picked (its text, its summary)."""

    def settled(self) -> bool:
        """Whether the next frame shows what it was last drawn with (no fill of tables waits)."""
        return all(widget.settled() for widget in self.walk_children(Widget) if isinstance(widget, Refills))

    def focus_content(self) -> bool:
        """Focus its first focusable widget (tab key); False when it has none."""
        first = next((widget for widget in self.walk_children(Widget) if widget.focusable), None)
        if first is not None:
            # At once (Widget.focus() waits for the message queue): in a burst of tab keys a
            # deferred focus landed after the later tabs and took the screen back to this view.
            self.screen.set_focus(first)
        return first is not None

    def chart(self) -> LiveChart | None:
        """Its chart, if it has one: the screen sends the chart keys (m, v, h, t) to it. Looked up
        once its content is composed (a view composes its chart once; asked before that, it is not
        known yet): the footer asks for every chart key it draws."""
        if self._chart is None and self.is_mounted and self.children:
            self._chart = next(iter(self.query(LiveChart)), False)
        return self._chart or None
