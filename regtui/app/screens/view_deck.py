"""The view deck: the dashboard's views in their tabs, which of them show, and what is drawn.

Views are alike here (see :mod:`regtui.app.views.base`): the deck loops over them and never names
one. It remembers, per view, the data it was last drawn from (the run, the collector's version of
the view's kinds, the run compared with it), so showing a view again costs no redraw unless its
data changed: its widgets kept what they showed (a chart its last frame).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import TabbedContent, Tabs

from regtui import registry
from regtui.app.overlay import Overlay
from regtui.app.views import VIEW_TYPES, Showing, View
from regtui.app.widgets.chart import LiveChart
from regtui.report import Collector

DataKey = tuple[int, int, int]


class ViewDeck:
    """The views (one per name in ``registry.VIEWS``, in tab order) of the TabbedContent ``tabs()`` returns;
    ``switching()`` is told when one is opened (the screen holds the garbage collector off until it shows)."""

    def __init__(self, tabs: Callable[[], TabbedContent], switching: Callable[[], None] = lambda: None) -> None:
        self.tabs = tabs
        self.switching = switching  # called as a view is opened, before anything of it is drawn
        self.views: dict[str, View] = {name: VIEW_TYPES[name](name) for name in registry.VIEWS}
        self.drawn: dict[str, DataKey] = {}  # view -> the data key it was last drawn from
        self.fitted_to: frozenset[str] | None = None  # the run's data kinds the tabs were last fitted to
        self.stepped = False  # a key opened a view (tab, shift+tab): the first fitting leaves it open

    @property
    def active(self) -> str:
        return (self.tabs().active or "").removeprefix("tab-")

    def show(self, name: str) -> None:
        if self.active != name:
            self.switching()
        self.tabs().active = f"tab-{name}"

    def visible(self, showing: Showing) -> list[str]:
        return [name for name, view in self.views.items() if view.shown(showing)]

    def fit(self, showing: Showing, first: str | None, open_first: bool = False) -> None:
        """Show the tabs of the views ``showing`` lists and hide the others; open ``first`` (or the
        view that leads) when asked to, or when the open view was hidden."""
        tabs = self.tabs()
        visible = self.visible(showing)
        self.fitted_to = showing.data
        for name in self.views:
            if name in visible:
                tabs.show_tab(f"tab-{name}")
            else:
                tabs.hide_tab(f"tab-{name}")
        if not visible or not (open_first or self.active not in visible):
            return
        first = first or visible[-1]  # with no kind (a broken file), the last tab: the lesson text
        if open_first:
            first = next((name for name in visible if self.views[name].leads(showing)), first)
        if first in visible:
            self.show(first)

    def step(self, showing: Showing, step: int) -> str | None:
        """Open the view ``step`` tabs away (wrapping); its name, or None with no view to show."""
        views = self.visible(showing)
        if not views:
            return None
        index = views.index(self.active) if self.active in views else -1
        target = views[(index + step) % len(views)]
        self.show(target)
        self.stepped = True
        return target

    def focus(self, name: str) -> None:
        """Focus the view's content, else the tab row (at once, so the next key of a burst lands there)."""
        view = self.views.get(name)
        if view is None or not view.focus_content():
            tabs = self.tabs()
            tabs.screen.set_focus(tabs.query_one(Tabs))

    # --- drawing -------------------------------------------------------------------------------

    def new_scenario(self) -> None:
        """Another scenario was picked: the charts' choices (v, h, t, m) were about the last one's variants."""
        for view in self.views.values():
            chart = view.chart()
            if chart is not None:
                chart.reset_choices()

    def clear(self) -> None:
        self.drawn.clear()
        for view in self.views.values():
            view.clear()

    @staticmethod
    def data_key(
        view: View | None, collector: Collector | None, run_id: int, overlay: Overlay | None
    ) -> DataKey | None:
        """What a view's drawing depends on now (None: it draws no run data)."""
        if view is None or not view.kinds or collector is None:
            return None
        return (run_id, collector.version(*view.kinds), id(overlay) if overlay else 0)

    def is_current(self, name: str, collector: Collector | None, run_id: int, overlay: Overlay | None) -> bool:
        """Whether the view was drawn from the data the run has now (or draws no run data)."""
        key = self.data_key(self.views.get(name), collector, run_id, overlay)
        return key is None or self.drawn.get(name) == key

    def draw_active(
        self, collector: Collector, run_id: int, overlay: Overlay | None, max_points: int, force: bool = False
    ) -> bool:
        """Draw the open view if its data changed since it was drawn; returns whether it drew."""
        name = self.active
        view = self.views.get(name)
        key = self.data_key(view, collector, run_id, overlay)
        if view is None or key is None or (self.drawn.get(name) == key and not force):
            return False
        self.drawn[name] = key
        snapshot = collector.snapshot(view.points or max_points)
        view.draw(overlay(name, collector, snapshot) if overlay else snapshot)
        return True

    # --- the chart keys ------------------------------------------------------------------------

    def chart_for(self, action: str) -> LiveChart | None:
        """The open view's chart if it has ``action`` (Fit, Layers and Sweep charts have no m)."""
        view = self.views.get(self.active)
        chart = view.chart() if view is not None else None
        return chart if chart is not None and callable(getattr(chart, f"action_{action}", None)) else None
