"""The worked numbers (a run's ``summary.worked``): each formula with its predicted and measured value side by side.

The engine writes ``worked`` as nested JSON whose shape is the experiment's
own (per variant, per normalization, per BatchNorm update…). Any dict with a
``formula`` is one worked number: ``{formula, predicted, measured, …}``. The
rest gives context: a dict at the top is a section (one table), a nested dict
or a list of dicts is a group of rows, and plain values are the givens shown
beside their group. :func:`worked_sections` turns the JSON into rows; the
widget shows one WideTable per section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from regtui.app.widgets.table_views import Refills
from regtui.app.widgets.wide_table import WideTable
from regtui.numbers import fmt

ITEM_KEYS = ("formula", "predicted", "measured")
# The numbers beside their names, the formula after them: at 80 columns the predicted and measured
# values show without scrolling (a formula with the run's numbers put in is often 40 wide).
COLUMNS = ("what", "predicted", "measured", "agreement", "formula", "note")
HINT = "Worked numbers appear here once a run has produced them (the five lessons do)."


@dataclass(frozen=True)
class Row:
    label: str
    formula: str = ""
    predicted: str = ""
    measured: str = ""
    agreement: str = ""
    note: str = ""
    depth: int = 0
    group: bool = False  # a heading row (its givens in the formula column)

    def cells(self) -> tuple[str, ...]:
        """In the order of ``COLUMNS``."""
        return (self.label, self.predicted, self.measured, self.agreement, self.formula, self.note)


@dataclass
class Section:
    title: str
    given: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


def worked_sections(worked: Any) -> list[Section]:
    """The sections of a ``summary.worked`` value (a top-level dict that is not a worked number is one each)."""
    main = Section("")
    sections: list[Section] = []
    if isinstance(worked, dict) and not is_item(worked):
        for key, value in worked.items():
            if isinstance(value, dict) and not is_item(value):
                section = Section(str(key), given=givens(value))
                section.rows = list(_rows(value, 0))
                sections.append(section)
            elif is_item(value) or _dict_list(value):
                main.rows.extend(_rows({key: value}, 0))
            else:
                main.given.append(given_text(key, value))
    elif is_item(worked) or _dict_list(worked):
        main.rows.extend(_rows({"worked": worked}, 0))
    elif worked is not None:
        main.given.append(given_text("worked", worked))
    return ([main] if main.rows or main.given else []) + sections


def is_item(value: Any) -> bool:
    return isinstance(value, dict) and "formula" in value


def _dict_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list)) or (
        isinstance(value, list) and not _dict_list(value) and not any(isinstance(v, dict) for v in value)
    )


def givens(node: dict[str, Any]) -> list[str]:
    return [given_text(k, v) for k, v in node.items() if _scalar(v)]


def given_text(key: Any, value: Any) -> str:
    return f"{key} {value_text(value)}"


def value_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, str):
        return value
    return fmt(value)


def _rows(node: dict[str, Any], depth: int):
    for key, value in node.items():
        if is_item(value):
            yield item_row(str(key), value, depth)
        elif isinstance(value, dict):
            yield Row(str(key), formula=" · ".join(givens(value)), depth=depth, group=True)
            yield from _rows(value, depth + 1)
        elif _dict_list(value):
            yield Row(str(key), depth=depth, group=True)
            for element in value:
                scalars = [(k, v) for k, v in element.items() if k not in ITEM_KEYS and _scalar(v)]
                label = " · ".join(given_text(k, v) for k, v in scalars[:2]) or str(key)
                if is_item(element):
                    yield item_row(label, element, depth + 1, skip={k for k, _ in scalars[:2]})
                else:
                    rest = " · ".join(given_text(k, v) for k, v in scalars[2:])
                    yield Row(label, formula=rest, depth=depth + 1, group=True)
                    yield from _rows({k: v for k, v in element.items() if not _scalar(v)}, depth + 2)


def item_row(label: str, item: dict[str, Any], depth: int, skip: set[str] | None = None) -> Row:
    predicted, measured = item.get("predicted"), item.get("measured")
    notes = [
        given_text(k, v) for k, v in item.items() if k not in ITEM_KEYS and k not in (skip or set()) and _scalar(v)
    ]
    return Row(
        label,
        formula=str(item.get("formula", "")),
        predicted=value_text(predicted) if "predicted" in item else "",
        measured=value_text(measured) if "measured" in item else "",
        agreement=agreement(predicted, measured) if "predicted" in item and "measured" in item else "",
        note=" · ".join(notes),
        depth=depth,
    )


def agreement(predicted: Any, measured: Any) -> str:
    """``✓`` when they agree to rounding, else how far the measured value is from the predicted one."""
    if not (_number(predicted) and _number(measured)):
        return "✓" if predicted == measured else ""
    p, m = float(predicted), float(measured)
    if math.isclose(p, m, rel_tol=1e-9) or (p == 0 and abs(m) < 1e-12):
        return "✓"
    if p == 0:
        return f"Δ {fmt(m - p, 2)}"
    ratio = m / p
    if 0.5 < ratio < 1.5:
        return f"{(ratio - 1) * 100:+.2g}%"
    return f"×{fmt(ratio, 2)}"


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class WorkedView(Refills, VerticalScroll, can_focus=False):
    """One caption and one table per section of the run's worked numbers. The tables take the
    focus, not the view (it scrolls to the focused table), so Left/Right reach their columns."""

    DEFAULT_CSS = """
    WorkedView > .worked-caption {
        text-style: bold;
        padding: 1 1 0 1;
    }
    WorkedView > .worked-table {
        height: auto;
        max-height: 100%;
    }
    WorkedView > .hint {
        color: $text-muted;
        padding: 1 2;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: Any = None  # the worked value now shown
        self.sections: list[Section] = []

    def compose(self) -> ComposeResult:
        yield Static(HINT, classes="hint")

    def reset(self) -> None:
        if self.shown is None:
            return
        self.shown, self.sections = None, []
        self.empty()
        self.mount(Static(HINT, classes="hint"))

    def show(self, worked: Any) -> None:
        if worked is None:
            self.reset()
            return
        if worked == self.shown:
            return
        self.shown = worked
        self.sections = worked_sections(worked)
        self.empty()
        self._fill(worked)

    def _fill(self, worked: Any) -> None:
        """Mount the tables of ``worked`` once the previous ones (same ids) are gone."""
        if worked is not self.shown:
            return  # another value came meanwhile (its own fill follows)
        if self.defer(self._fill, worked):
            return
        widgets: list[Static | WideTable] = [
            Static(
                "Each formula with the numbers of this run put in: predicted by the formula, measured in "
                "the run, and how far apart they are (✓: equal to rounding).",
                classes="hint",
            )
        ]
        for i, section in enumerate(self.sections):
            caption = " · ".join(part for part in (section.title, *section.given) if part) or "the run"
            widgets.append(Static(caption, classes="worked-caption"))
            table = WideTable(id=f"worked-{i}", classes="worked-table")
            table.add_columns(*COLUMNS)
            for row in section.rows:
                cells: list[str | Text] = list(row.cells())
                cells[0] = Text("  " * row.depth + row.label, style="bold" if row.group else "")
                if row.group:
                    cells[COLUMNS.index("formula")] = Text(row.formula, style="dim")
                if row.agreement and row.agreement != "✓":
                    cells[COLUMNS.index("agreement")] = Text(row.agreement, style="yellow")
                table.add_row(*cells)
            widgets.append(table)
        self.mount_all(widgets)
