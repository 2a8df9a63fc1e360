"""The Params view: in the narrow layout the parameter form lives here (the screen mounts it in ``slot``)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container
from textual.widgets import Input, Static

from regtui.app.catalog import Entry
from regtui.app.views.base import Showing, View


class ParamsTab(View):
    title = "Params"

    def compose(self) -> ComposeResult:
        yield Static("", id="params-summary")
        yield Container(id="tab-form-slot")

    @property
    def slot(self) -> Container:
        return self.query_one("#tab-form-slot", Container)

    def shown(self, showing: Showing) -> bool:
        return not showing.wide  # the wide layout has the form in its sidebar

    def leads(self, showing: Showing) -> bool:
        return not showing.wide and not showing.running  # before a run, the form comes first

    def show_entry(self, entry: Entry) -> None:
        box = self.query_one("#params-summary", Static)
        box.update(entry.summary)
        box.set_class(entry.error is not None, "error")

    def focus_content(self) -> bool:
        fields = self.query(Input)
        if fields:
            self.screen.set_focus(fields.first())  # at once: the next key of a burst goes there
        else:
            self.call_after_refresh(self._focus_first_field)  # the form may move here first
        return True

    def _focus_first_field(self) -> None:
        fields = self.query(Input)
        if fields:
            fields.first().focus()
