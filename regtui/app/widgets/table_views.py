"""Tables in a view of several tables (Running stats, Results, Worked numbers): each one shown whole
under its caption when focused, Up/Down leading from one table to the next, the view's first table
focused when the view is, and a view that empties itself and fills again with tables of the same ids.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.containers import ScrollableContainer
from textual.css.scalar import Scalar
from textual.widget import Widget
from textual.widgets import Static, Tabs

CAPTION_LINES = 2  # a table's caption in a view of tables (with its padding)


class InView:
    """For a table (a Widget) in a scrolling view of captions and tables: focused, it is shown whole,
    under its caption; :meth:`neighbour` is the next or previous table of the view."""

    def on_focus(self) -> None:
        assert isinstance(self, Widget)
        self.call_after_refresh(self._show_whole, True)

    def on_mount(self) -> None:  # Textual calls the widget classes' own on_mount too
        self.fit_room()

    def fit_room(self) -> None:
        """In a scrolling view, at most its height less a caption's two lines: caption, header, rows and
        the cut-columns hint then show together."""
        assert isinstance(self, Widget)
        parent = self.parent
        if isinstance(parent, ScrollableContainer) and parent.size.height > 0:
            room = max(6, parent.scrollable_content_region.height - CAPTION_LINES)
            if self.styles.max_height != Scalar.from_number(room):
                self.styles.max_height = room

    def _show_whole(self, again: bool = False) -> None:
        assert isinstance(self, Widget)
        parent = self.parent
        if not isinstance(parent, ScrollableContainer) or not self.is_mounted:
            return
        self.fit_room()
        siblings = list(parent.children)
        index = siblings.index(self) if self in siblings else 0
        caption = siblings[index - 1] if index > 0 and isinstance(siblings[index - 1], Static) else None
        top = (caption or self).virtual_region.y
        bottom = self.virtual_region.bottom
        if top < parent.scroll_y or bottom > parent.scroll_y + parent.scrollable_content_region.height:
            parent.scroll_to(y=top, animate=False)
        if again:  # once more after the layout that a new max height (or new tables) brings
            self.call_after_refresh(self._show_whole)

    def neighbour(self, step: int) -> Widget | None:
        """The next (step 1) or previous (-1) shown table beside this one in its view."""
        assert isinstance(self, Widget)
        parent = self.parent
        if parent is None:
            return None
        tables: list[Widget] = [w for w in parent.children if isinstance(w, InView) and w.display]
        i = tables.index(self) + step if self in tables else -1
        return tables[i] if 0 <= i < len(tables) else None


def shown_tables(view: Widget) -> list[Widget]:
    """The tables a view shows, in order."""
    return [w for w in view.walk_children(Widget) if isinstance(w, InView) and w.display]


class TableFocus:
    """For a view (a TabPane) whose content is tables drawn only once it is shown: tab to the view
    focuses its first table, at once when it is there, else as soon as it is drawn (unless the
    focus went somewhere else than the tab row meanwhile)."""

    _focus_pending = False

    def focus_content(self) -> bool:
        """Its first table, at once (the next key of a burst, Right or End, scrolls it)."""
        assert isinstance(self, Widget)
        tables = shown_tables(self)
        self._focus_pending = not tables
        if tables:
            self.screen.set_focus(tables[0])
        return bool(tables)

    def focus_when_drawn(self) -> None:
        """Call after drawing: a pending focus goes to the first table once it is mounted."""
        assert isinstance(self, Widget)
        if self._focus_pending:
            self.call_after_refresh(self._take_pending_focus, 3)

    def _take_pending_focus(self, tries: int) -> None:
        assert isinstance(self, Widget)
        tables = shown_tables(self)
        if not self._focus_pending:
            return
        if not tables:  # mounting: look again after the next refresh
            if tries > 0:
                self.call_after_refresh(self._take_pending_focus, tries - 1)
            return
        self._focus_pending = False
        focused = self.screen.focused
        tabbed = self.parent.parent if self.parent is not None else None  # ContentSwitcher, TabbedContent
        on_tab_row = focused is None or (isinstance(focused, Tabs) and focused.parent is tabbed)
        if on_tab_row and self.display and self.parent is not None and getattr(self.parent, "current", None) == self.id:
            self.screen.set_focus(tables[0])


class Refills:
    """For a container that empties itself and fills again with tables of the same ids (a new run, a
    stored run opened): Textual removes widgets a moment later, so a table must wait until the one of
    its id has gone (``leaving``), else mounting it fails (DuplicateIds). Widgets without an id (the
    hint) are not waited for."""

    _leaving: tuple[Widget, ...] = ()
    _deferred = False  # a fill waits for the removed widgets to go

    def on_resize(self) -> None:
        assert isinstance(self, Widget)
        for table in self.children:
            if isinstance(table, InView):
                table.fit_room()

    def empty(self) -> None:
        assert isinstance(self, Widget)
        self._leaving = (*self._leaving, *self.children)
        self._deferred = False
        self.remove_children()

    def leaving(self) -> bool:
        """Some of the widgets removed by :meth:`empty` that have an id are still there (a hint or
        a caption, without one, never holds a fill back: the view would show blank meanwhile)."""
        assert isinstance(self, Widget)
        self._leaving = tuple(w for w in self._leaving if w in self.children and w.id is not None)
        return bool(self._leaving)

    def defer(self, callback: Callable[..., object], *args: object) -> bool:
        """While removed widgets are still there: call ``callback(*args)`` after the next refresh
        and return True (the caller stops); else False (fill now)."""
        assert isinstance(self, Widget)
        self._deferred = self.leaving()
        if self._deferred:
            self.call_after_refresh(callback, *args)
        return self._deferred

    def settled(self) -> bool:
        """No fill waits for removed widgets to go: the next frame shows what it was last given."""
        return not self._deferred
