"""The parameter form, generated from the scenario's ExperimentSpec.

Every field is an Input validated as you type with the CLI's own rules
(``Param.parse``), then the whole form with ``regtui.scenario.plan`` (the
spec's cross-parameter check, seeds, the sweep). Errors show inline under the
field and block Run. The plan's ``sets`` are the fields that differ from the
scenario's defaults, exactly like ``--set``; the sweep fields are the whole sweep
of the file's swept key (cleared or given another key, the file's key takes its
field's value as a ``--set``), so the CLI command of the form plans the same runs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static

from regtui import scenario as sc
from regtui.app.messages import FormChanged
from regtui.custom_specs import MissingPackage
from regtui.scenario import value_text
from regtui.specs import MAX_MODELS, SEED_MAX, ConfigError, Param, parse_count

RUN_FIELDS = ("seed", "seeds", "sweep_key", "sweep_values")
LABEL_MIN, LABEL_MAX = 15, 21  # the label column's width, its right padding included


def per_variant(scenario: sc.Scenario, key: str) -> list[Any]:
    """The values of ``key`` for the variants that set it, in the file's order, when two or more do:
    its field then holds one value per variant ('0.0, 0.01'), like ``--set key=0.0,0.01``."""
    values = [v.overrides[key] for v in scenario.variants if key in v.overrides]
    return values if len(values) > 1 else []


def default_texts(scenario: sc.Scenario, seed: int = 0) -> dict[str, str]:
    texts = {name: value_text(v) for name, v in scenario.defaults().items()}
    for name in texts:
        listed = per_variant(scenario, name)
        if listed:
            texts[name] = ", ".join(value_text(v) for v in listed)
    key, values = next(iter(scenario.sweep.items()), ("", ()))
    texts.update(
        seed=str(seed), seeds=str(scenario.seeds), sweep_key=key, sweep_values=",".join(value_text(v) for v in values)
    )
    return texts


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
        numeric = [p.name for p in self.spec.params if p.numeric]
        yield from self._field(
            "sweep_key",
            "sweep key",
            "none",
            "numeric parameter to sweep (empty: no sweep)",
            SuggestFromList(numeric, case_sensitive=True),
        )
        yield from self._field(
            "sweep_values", "sweep values", "e.g. 0,1e-3,1e-2", "comma-separated values of the swept parameter"
        )
        yield Static("", id="form-error")
        with Horizontal(id="form-buttons"):
            yield Button("Run r", id="run-button", variant="success", compact=True)
            yield Button("Stop s", id="stop-button", variant="error", compact=True, disabled=True)
            yield Button("Reset ^r", id="reset-button", compact=True)

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
            self.texts[event.input.id[len("field-") :]] = event.value
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
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        listed: dict[str, tuple[Any, ...]] = {}  # keys whose field holds one value per variant
        for p in self.spec.params:
            text = self.texts.get(p.name, "")
            try:
                per = per_variant(self.scenario, p.name)
                if per and "," in text:
                    values[p.name] = tuple(p.parse(t) for t in text.split(","))
                    listed[p.name] = tuple(per)
                    if len(values[p.name]) != len(per):
                        raise ConfigError(
                            f"{p.name}: {len(values[p.name])} values for {len(per)} variants; "
                            "give one per variant, or one for all"
                        )
                else:
                    values[p.name] = p.parse(text)
                    if per:
                        listed[p.name] = tuple(per)
            except ConfigError as exc:
                errors[p.name] = str(exc)
        seed = _int(self.texts.get("seed", "0"), "seed", 0, SEED_MAX, errors)
        seeds = _int(self.texts.get("seeds", "1"), "seeds", 1, MAX_MODELS, errors)
        sweep: dict[str, tuple[Any, ...]] = {}
        key = self.texts.get("sweep_key", "").strip()
        raw = self.texts.get("sweep_values", "").strip()
        if key or raw:
            if not key:
                errors["sweep_key"] = "sweep key: give the parameter to sweep, or clear the values"
            elif not raw:
                errors["sweep_values"] = f"sweep values: give a comma list for {key}, e.g. 0,1e-3,1e-2"
            else:
                try:
                    sweep = sc.parse_sweeps(self.spec, [f"{key}={raw}"])
                except ConfigError as exc:
                    errors[
                        "sweep_key"
                        if key not in {p.name for p in self.spec.params} or "not numeric" in str(exc)
                        else "sweep_values"
                    ] = str(exc)
        plan = None
        form_error = None
        self.missing = None
        if not errors:
            defaults = self.scenario.defaults()
            sets = {
                k: v
                for k, v in values.items()
                if (k in listed and v != listed[k])  # a per-variant list that changed, or one value for all
                or (k not in listed and (v != defaults.get(k) or type(v) is not type(defaults.get(k))))
            }
            shown = next(iter(self.scenario.sweep), None)  # the file's swept key, in the sweep fields
            if shown is not None and shown not in sweep:
                sets[shown] = values[shown]  # its sweep cleared or replaced: the field's one value (--set)
            try:
                plan = sc.plan(self.scenario, sets, sweep, seed, seeds)
            except ConfigError as exc:
                form_error = str(exc)
                self.missing = exc if isinstance(exc, MissingPackage) else None
        self.errors = errors
        self.plan = plan
        self.error = next(iter(errors.values()), None) or form_error
        self._show_errors(errors, form_error)
        self._show_merges(plan)
        if self.is_mounted:
            self._show_values()
        self._buttons()
        self.post_message(FormChanged(self, plan, self.error))

    def _show_merges(self, plan: sc.Plan | None) -> None:
        """Under a per-variant field: its variants' names, or, when it holds one value, that they
        all run with it and how many models that leaves (variants made identical merge)."""
        for hint in self.query(".field-hint").results(Static):
            if not (hint.id or "").startswith("hint-"):
                continue
            key = (hint.id or "")[len("hint-") :]
            names = [v.name for v in self.scenario.variants if key in v.overrides]
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
            box.update(Content(f"⚠ {message}" if message else ""))  # plain text: "regtui[digits]" is no markup
        note = self.query_one("#form-error", Static)
        note.update(Content(f"⚠ {form_error}" if form_error else ""))


def merged_count(plan: sc.Plan | None) -> int | None:
    """How many variants a plan trains (per grid point and seed), or None without a plan."""
    if plan is None:
        return None
    points = 1
    for values in plan.sweep.values():
        points *= len(values)
    return len(plan.variant_names) // points


def _int(text: str, name: str, minimum: int, maximum: int, errors: dict[str, str]) -> int:
    """The CLI's parser for seed/seeds; a bad value goes into ``errors`` under ``name``."""
    try:
        return parse_count(name, text, minimum, maximum)
    except ConfigError as exc:
        errors[name] = str(exc)
        return minimum
