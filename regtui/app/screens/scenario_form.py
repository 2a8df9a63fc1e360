"""The scenario picker and the parameter form of the dashboard screen (which inherits them).

Picking a scenario keeps the form texts of the one left (so coming back finds the edits), shows
its summary and text in every view, and mounts its form: in the sidebar in the wide layout, in the
Params tab in the narrow one. The form sends the plan it makes (or the first error that blocks
Run) as a FormChanged message at each edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Button, OptionList, Select, Static
from textual.widgets.option_list import Option

from regtui import scenario as sc
from regtui.app.catalog import Entry
from regtui.app.heap import HeapFreezer
from regtui.app.layout import Mode
from regtui.app.messages import FormChanged
from regtui.app.options import Options
from regtui.app.views import View
from regtui.app.views.params import ParamsTab
from regtui.app.widgets.device_select import DeviceSelect
from regtui.app.widgets.param_form import ParamForm, default_texts
from regtui.app.widgets.picker import ScenarioPicker
from regtui.app.widgets.picker_select import ScenarioSelect

if TYPE_CHECKING:
    from regtui.app.app import RegtuiApp
    from regtui.app.run_state import RunState
    from regtui.app.screens.view_deck import ViewDeck


class ScenarioForm(Screen[None]):
    """Which scenario is picked, its form, and the plan the form makes."""

    entries: list[Entry]
    entry_index: int
    texts: dict[str, dict[str, str]]  # entry key -> form texts (kept across picks)
    form: ParamForm | None
    form_key: str  # the entry key of the mounted form
    plan: sc.Plan | None
    form_error: str | None
    layout_mode: Mode | None
    options: Options
    run_queued: bool

    deck: ViewDeck
    heap: HeapFreezer

    if TYPE_CHECKING:  # the screen's, which picking and editing call

        @property
        def regtui(self) -> RegtuiApp: ...
        @property
        def views(self) -> dict[str, View]: ...
        @property
        def wide(self) -> bool: ...
        def run_active(self) -> bool: ...
        def action_run(self) -> bool: ...
        def action_stop(self) -> None: ...
        def refresh_status(self) -> None: ...
        def _show_title(self, state: RunState | None) -> None: ...
        def _clear_views(self) -> None: ...
        def _update_tabs(self, open_first: bool = False) -> None: ...
        def _update_replay(self) -> None: ...

    @property
    def entry(self) -> Entry:
        return self.entries[self.entry_index]

    def select_entry(self, index: int, notify: bool = False) -> None:
        if index == self.entry_index:
            return
        if self.form is not None:
            self.texts[self.form_key] = dict(self.form.texts)
        self.entry_index = index
        entry = self.entry
        picker = self.query_one(ScenarioPicker)
        if picker.highlighted != index:
            picker.highlighted = index
        select = self.query_one(ScenarioSelect)
        if select.value != index:
            select.value = index
        self._show_summary(entry)
        self._show_title(None)
        for view in self.views.values():
            view.show_entry(entry)
        self.deck.new_scenario()
        if entry.error and notify:
            self.notify(entry.error, title="scenario file", severity="error", timeout=10, markup=False)
        if not self.run_active():
            self._clear_views()
        self._mount_form()
        self._update_tabs(open_first=True)

    def add_entry(self, entry: Entry) -> int:
        """List a scenario the picker does not have (a stored run's own file, a tracked run) at its
        end, so the picker, the summary and the form can say it; its index."""
        self.entries.append(entry)  # the pickers' list too
        index = len(self.entries) - 1
        self.query_one(ScenarioPicker).add_option(Option(entry.label, id=str(index)))
        select = self.query_one(ScenarioSelect)
        with select.prevent(Select.Changed):  # set_options picks the first option: not a choice of the user's
            select.set_options([(e.label, i) for i, e in enumerate(self.entries)])
            select.value = self.entry_index
        return index

    def _show_summary(self, entry: Entry) -> None:
        box = self.query_one("#scenario-summary", Static)
        box.update(entry.summary)
        box.set_class(entry.error is not None, "error")

    def _form_slot(self) -> Container:
        if self.wide:
            return self.query_one("#sidebar-form-slot", Container)
        return self.query_one(ParamsTab).slot

    def _mount_form(self) -> None:
        if self.layout_mode in (None, "small") and self.form is not None:
            return
        slot = self._form_slot()
        old = self.form
        if old is not None:
            self.texts[self.form_key] = dict(old.texts)
            old.remove()
        for stale in self.query(".form-error-note"):
            stale.remove()
        entry = self.entry
        if entry.scenario is None:
            self.form = None
            self.plan, self.form_error = None, entry.error
            slot.mount(
                Static(
                    "⚠ This file does not load (the message above says why); Run is off. "
                    "Fix the file and restart, or pick another scenario.",
                    classes="form-error-note",
                )
            )
            self._update_replay()
            return
        texts = self.texts.get(entry.key) or default_texts(entry.scenario, self.options.seed)
        form = ParamForm(entry.scenario, texts)
        self.form, self.form_key = form, entry.key
        slot.mount(form)
        form.set_running(self.run_active())

    @on(FormChanged)
    def _form_changed(self, event: FormChanged) -> None:
        if event.form is not self.form:  # a form being replaced
            return
        self.plan, self.form_error = event.plan, event.error
        self._update_tabs()
        self._update_replay()
        self.refresh_status()
        if self.run_queued and self.regtui.device is not None:
            self.action_run()  # Run came while this scenario's form was being built

    @on(OptionList.OptionHighlighted, "#picker")
    def _picker_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_summary(self.entries[int(event.option.id or 0)])

    @on(OptionList.OptionSelected, "#picker")
    def _picker_selected(self, event: OptionList.OptionSelected) -> None:
        self.select_entry(int(event.option.id or 0), notify=True)

    @on(Select.Changed, "#picker-select")
    def _select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and event.value != self.entry_index:
            self.select_entry(event.value, notify=True)

    @on(Select.Changed, "#device")
    def _device_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value:
            self.regtui.device = event.value
            self._update_replay()
            self.refresh_status()

    def show_devices(self, names: list[str], chosen: str) -> None:
        """The App found the devices (or was given them)."""
        if self.entry_index < 0:
            return  # not mounted yet: on_mount shows them
        self.query_one(DeviceSelect).set_devices(names, chosen)
        self._update_replay()
        self.refresh_status()
        if not self.run_active():
            self.heap.freeze()  # started (torch loaded if it is): what is held now is held for good
        if self.run_queued:
            self.action_run()

    @on(Button.Pressed, "#run-button")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#stop-button")
    def _stop_pressed(self) -> None:
        self.action_stop()

    @on(Button.Pressed, "#reset-button")
    def _reset_pressed(self) -> None:
        self.action_reset_params()

    def action_reset_params(self) -> None:
        entry = self.entry
        if entry.scenario is None or self.form is None:
            return
        texts = default_texts(entry.scenario, self.options.seed)
        self.texts[entry.key] = texts
        self.form.reset(texts)
        self.notify("parameters reset to the scenario's defaults", timeout=3)
