"""The parameter form, generated from the scenario's ExperimentSpec.

Every field is an Input (a :class:`.field_input.FieldInput`) checked as you type with the CLI's
own rules, then the whole form planned (:mod:`.form_check`). Errors show inline under the field
and block Run.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static

from regtui import registry
from regtui import scenario as sc
from regtui.app.messages import FormChanged
from regtui.app.widgets.field_input import FieldInput
from regtui.app.widgets.form_check import check, merged_count, per_variant, variant_names
from regtui.custom_specs.sources import MissingPackage
from regtui.scenario import value_text
from regtui.specs import Param

RUN_FIELDS = ("seed", "seeds", "sweep_key", "sweep_values")
LABEL_MIN, LABEL_MAX = 15, 21  # the label column's width, its right padding included


def default_texts(scenario: sc.Scenario, seed: int = 0) -> dict[str, str]:
    texts = {name: value_text(v) for name, v in scenario.defaults().items()}
    for name in texts:
        listed = per_variant(scenario, name)
        if listed:
            texts[name] = ", ".join(value_text(v) for v in listed)
    key, values = next(iter(scenario.sweep.items()), ("", ()))
    shown = ",".join(value_text(v) for v in values)
    if not key and scenario.sample:  # a [sample] table: its first range, with its points
        key, r = next(iter(scenario.sample.items()))
        shown = f"{r.text}*{scenario.sample_points}"
    texts.update(seed=str(seed), seeds=str(scenario.seeds), sweep_key=key, sweep_values=shown)
    return texts


def plan_texts(plan: sc.Plan) -> dict[str, str]:
    """The fields that give ``plan`` again (a stored or followed run's): the scenario's defaults with
    the run's ``--set`` values (one per variant where it had a list), its seed, seeds and sweep."""
    texts = default_texts(plan.scenario, plan.seed)
    for name, value in plan.sets.items():
        if name in texts:
            listed = isinstance(value, tuple | list)
            texts[name] = ", ".join(value_text(v) for v in value) if listed else value_text(value)
    key, values = next(iter(plan.sweep.items()), ("", ()))
    shown = ",".join(value_text(v) for v in values)
    if key in plan.sample:  # random search: the range and its points, as typed
        shown = f"{plan.sample[key]}*{plan.points}"
    texts.update(seeds=str(plan.seeds), sweep_key=key, sweep_values=shown)
    return texts


class ParamForm(VerticalScroll, can_focus=False):
    """Fields for one scenario; posts FormChanged after every edit. The fields take the focus,
    not the form (it scrolls to the focused field)."""

    # Priority: the focus moves as the key arrives, so the next key of a burst (Down then 7,
    # pasted or over SSH) lands in the field it was aimed at, not the one being left.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "app.focus_next", "Next field", show=False, priority=True),
        Binding("up", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    DEFAULT_CSS = """
    ParamForm {
        height: 1fr;
        padding: 0 1 0 0;
    }
    ParamForm .field {
        height: 1;
    }
    ParamForm .config-row {
        height: auto;  /* a long config value wraps */
    }
    ParamForm .config-value {
        width: 1fr;
        height: auto;
    }
    ParamForm .field-name {
        width: 15;
        height: 1;
        padding-right: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ParamForm .field Input {
        width: 1fr;
        height: 1;
    }
    ParamForm .field-hint {
        color: $text-muted;
        height: auto;
    }
    ParamForm .field-hint.merging {
        color: $text-warning;
    }
    ParamForm .field-echo {
        color: $text-muted;
        height: auto;
        padding: 0 0 0 2;
        display: none;
    }
    ParamForm .field-echo.shown {
        display: block;
    }
    ParamForm .field-error {
        color: $text-error;
        height: auto;
        display: none;
    }
    ParamForm .field-error.shown {
        display: block;
    }
    ParamForm Input.invalid {
        background: $error 25%;
    }
    ParamForm .form-section {
        color: $text-muted;
        text-style: bold;
        margin-top: 1;
    }
    ParamForm #form-error {
        color: $text-error;
        height: auto;
    }
    ParamForm #form-buttons {
        height: 1;
        margin-top: 1;
    }
    ParamForm #form-buttons Button {
        margin-right: 1;
        min-width: 9;
    }
    """

    def __init__(self, scenario: sc.Scenario, texts: dict[str, str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario = scenario
        self.spec = scenario.spec
        self.texts = dict(texts)
        self.errors: dict[str, str] = {}
        self.plan: sc.Plan | None = None
        self.error: str | None = None
        self.missing: MissingPackage | None = None  # the plan waits for a package to be installed
        self.running = False

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if self.scenario.experiment == registry.TRACK:
            yield from self._tracked()
            return
        # The label column fits the longest name (and a space before the value) up to LABEL_MAX;
        # a longer name ends in "…".
        longest = max((cell_len(p.name) for p in self.spec.params), default=0)
        self.label_width = min(max(LABEL_MIN, longest + 1), LABEL_MAX)
        yield Label("Parameters", classes="form-section")
        for p in self.spec.params:
            yield from self._field(p.name, p.name, self._placeholder(p), p.help, self._suggest(p))
            names = [v.name for v in self.scenario.variants if p.name in v.overrides]
            if len(names) > 1:
                hint = Static(f"  per variant: {', '.join(names)}", id=f"hint-{p.name}", classes="field-hint")
                hint.tooltip = (
                    "One value per variant, comma-separated (like --set KEY=V1,V2); "
                    "a single value applies to all of them and merges those it makes identical."
                )
                yield hint
            elif names:
                varied = self._variant_values(p.name)
                hint = Static(f"  {names[0]}: {varied}", classes="field-hint")
                hint.tooltip = "That variant sets this; a value typed here applies to all of them (like --set)."
                yield hint
        yield Label("Runs", classes="form-section")
        yield from self._field("seed", "seed", "integer >= 0", "base seed (models use seed, seed+1, …)")
        yield from self._field("seeds", "seeds", "integer >= 1", "repeat every variant over N seeds (mean ± std)")
        yield from self._field(
            "sweep_key",
            "sweep key",
            "none",
            "parameter to sweep: a number, a flag or a choice such as norm (empty: no sweep)",
            SuggestFromList([p.name for p in self.spec.params], case_sensitive=True),
        )
        yield from self._field(
            "sweep_values",
            "sweep values",
            "e.g. 0,1e-3,1e-2",
            "comma-separated values of the swept parameter (numbers, true,false, or choices: batch,layer); "
            "or random search: a range and its points, log(1e-4,1e-1)*8, uniform(0,0.6)*8, choice(batch,group)*4",
        )
        yield Static("", id="form-error")
        with Horizontal(id="form-buttons"):
            yield Button("Run r", id="run-button", variant="success", compact=True)
            yield Button("Stop s", id="stop-button", variant="error", compact=True, disabled=True)
            yield Button("Reset ^r", id="reset-button", compact=True)

    def _tracked(self) -> ComposeResult:
        """A run of the user's own loop (regtui.track): its config, read-only, and the command that
        runs it again; no fields (regtui does not run that script) and only Stop (for a followed run)."""
        config = self.scenario.config
        self.label_width = min(max(LABEL_MIN, max((cell_len(k) + 1 for k in config), default=0)), LABEL_MAX)
        yield Label("Config", classes="form-section")
        if not config:
            yield Static("none (the script gave regtui.track() no config)", classes="field-hint", markup=False)
        for key, value in config.items():
            with Horizontal(classes="field config-row"):
                name = Label(key, classes="field-name", markup=False)
                name.styles.width = self.label_width
                name.tooltip = key
                yield name
                yield Static(value_text(value), classes="config-value", markup=False)
        yield Label("Runs again with", classes="form-section")
        yield Static(self.scenario.command or "its own script", classes="config-value", markup=False)
        yield Static("", id="form-error")
        with Horizontal(id="form-buttons"):
            yield Button("Stop s", id="stop-button", variant="error", compact=True, disabled=True)

    def _field(self, key: str, label: str, placeholder: str, help: str, suggester: Any = None) -> ComposeResult:
        with Horizontal(classes="field"):
            name = Label(label, classes="field-name")
            name.styles.width = getattr(self, "label_width", LABEL_MIN)
            yield name
            field = FieldInput(
                self.texts.get(key, ""),
                placeholder=placeholder,
                id=f"field-{key}",
                compact=True,
                suggester=suggester,
                select_on_focus=False,
            )
            field.tooltip = help
            yield field
        # The whole value, wrapped, when it is wider than its field (bn's init list in the sidebar).
        yield Static("", id=f"echo-{key}", classes="field-echo", markup=False)
        yield Static("", id=f"error-{key}", classes="field-error")

    def _show_values(self, tries: int = 2) -> None:
        """Under a field too narrow for its value, the whole value, wrapped (bn's init list in the sidebar)."""
        changed = False
        for echo in self.query(".field-echo").results(Static):
            key = (echo.id or "")[len("echo-") :]
            text = self.texts.get(key, "")
            field = self.query_one(f"#field-{key}", Input)
            width = field.content_size.width
            cut = width > 0 and cell_len(text) >= width
            if cut != echo.has_class("shown"):
                changed = True
                echo.set_class(cut, "shown")
            if cut:
                echo.update(f"= {text}")
        if changed and tries > 0:  # a scrollbar that came or went changes the fields' width
            self.call_after_refresh(self._show_values, tries - 1)

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_values)

    def _variant_values(self, key: str) -> str:
        """'0.0, 0.01': the distinct values the scenario's variants give ``key`` ('' if none does)."""
        values = [value_text(v.overrides[key]) for v in self.scenario.variants if key in v.overrides]
        return ", ".join(dict.fromkeys(values))

    @staticmethod
    def _placeholder(p: Param) -> str:
        return p.allowed()

    @staticmethod
    def _suggest(p: Param) -> Any:
        if p.choices:
            return SuggestFromList(list(p.choices), case_sensitive=True)
        if p.kind is bool:
            return SuggestFromList(["true", "false"], case_sensitive=True)
        return None

    def on_mount(self) -> None:
        self.validate()
        self.call_after_refresh(self._show_values)

    # --- editing ---------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("field-"):
            # The field's value now, not the message's: a fresh field's first Changed can arrive after
            # a reset (a stored run's parameters) and must not bring the old value back.
            self.texts[event.input.id[len("field-") :]] = event.input.value
            event.stop()
            self.validate()

    def reset(self, texts: dict[str, str]) -> None:
        self.texts = dict(texts)
        for key, text in texts.items():
            for field in self.query(f"#field-{key}").results(Input):
                with field.prevent(Input.Changed):
                    field.value = text
        self.validate()

    def sync(self) -> tuple[sc.Plan | None, str | None]:
        """The plan of what the fields show now: keys typed in a burst may not have sent their
        Changed messages yet when Enter or r arrives, and a run must use what is on screen."""
        shown = {(f.id or "")[len("field-") :]: f.value for f in self.query(Input) if (f.id or "").startswith("field-")}
        if any(self.texts.get(key) != value for key, value in shown.items()):
            self.texts.update(shown)
            self.validate()  # once, for every field that had not told the form yet
        return self.plan, self.error

    def set_running(self, running: bool) -> None:
        self.running = running
        self._buttons()

    def _buttons(self) -> None:
        for button in self.query("#run-button").results(Button):
            button.disabled = self.plan is None
        for button in self.query("#stop-button").results(Button):
            button.disabled = not self.running

    # --- validation ------------------------------------------------------------------------

    def validate(self) -> None:
        """Check the fields (:func:`.form_check.check`), show what is wrong, tell the screen."""
        checked = check(self.scenario, self.texts)
        self.errors, self.plan, self.error, self.missing = checked.errors, checked.plan, checked.error, checked.missing
        self._show_errors(checked.errors, checked.form_error)
        self._show_merges(checked.plan)
        if self.is_mounted:
            self._show_values()
        self._buttons()
        self.post_message(FormChanged(self, checked.plan, self.error))

    def _show_merges(self, plan: sc.Plan | None) -> None:
        """Under a per-variant field: its variants' names, or, when it holds one value, that they
        all run with it and how many models that leaves (variants made identical merge)."""
        for hint in self.query(".field-hint").results(Static):
            if not (hint.id or "").startswith("hint-"):
                continue
            key = (hint.id or "")[len("hint-") :]
            names = variant_names(self.scenario, plan, key)
            single = "," not in self.texts.get(key, "")
            hint.set_class(single, "merging")
            if not single:
                hint.update(f"  per variant: {', '.join(names)}")
                continue
            text = f"  one value: all {len(names)} variants run with it"
            left = merged_count(plan)
            if left is not None and left < len(self.scenario.variants):
                text += f" (they merge: {len(self.scenario.variants)} → {left})"
            hint.update(text)

    def _show_errors(self, errors: dict[str, str], form_error: str | None) -> None:
        for field in self.query(Input):
            key = (field.id or "")[len("field-") :]
            field.set_class(key in errors, "invalid")
        for box in self.query(".field-error").results(Static):
            key = (box.id or "")[len("error-") :]
            message = errors.get(key)
            box.set_class(message is not None, "shown")
            box.update(Content(f"⚠ {message}" if message else ""))  # plain text: "[vision]" or a pin is no markup
        note = self.query_one("#form-error", Static)
        note.update(Content(f"⚠ {form_error}" if form_error else ""))
