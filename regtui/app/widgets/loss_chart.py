"""Loss curves: the per-step metrics of every variant (train, test, …), mean ± std over seeds.

A run with metrics of several groups (the ``train`` kind: losses, accuracies, and the
norms of every layer's weights and gradients) shows one group at a time on its own axis
(``plotting.metric_group``, by name pattern, so any kind gets it): ``m`` cycles the
groups that have data, loss first; the title names the group and the next ones. In a
norms group each layer has its own shape (the legend under the chart names the layers)
and each variant its colour. A run with one group (every lesson) draws as before.

The compared run of the History view (records marked ``"compared"``) is drawn with
shapes of its own (small and open, ``plotting.COMPARED_FAMILIES``) in a darker shade of
the matching variant's colour, so it never reads as one of the shown run's variants.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType

from regtui.aggregate import finite
from regtui.app import plotting
from regtui.app.widgets.chart import LiveChart

GROUP_KEY = "m"


def metric_names(records: list[dict[str, Any]]) -> list[str]:
    """Every per-step metric, train first, then test, then the rest."""
    return plotting.order_metrics(name for rec in records for name in rec.get("series", {}) if name != "step")


def slots(records: list[dict[str, Any]]) -> list[tuple[bool, int]]:
    """Per record: (whether it is the compared run's, its index among its run's records)."""
    out: list[tuple[bool, int]] = []
    counts = [0, 0]
    for rec in records:
        compared = bool(rec.get("compared"))
        out.append((compared, counts[compared]))
        counts[compared] += 1
    return out


def groups_with_data(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The metric groups that have a finite value, each with its metrics (a layer group in layer order)."""
    found: dict[str, list[str]] = {}
    for group, names in plotting.group_metrics(metric_names(records)).items():
        has_data = any(finite(v) for rec in records for name in names for v in rec.get("series", {}).get(name, ()))
        if not has_data:
            continue
        if group in plotting.LAYER_GROUPS:
            # The layers in the order the run reports them (the model's order), not sorted by name.
            names = list(dict.fromkeys(n for rec in records for n in rec.get("series", {}) if n in names))
        found[group] = names
    return found


def short_label(name: str) -> str:
    """A metric's name in the title's key: 'train_accuracy' -> 'train' (the group says accuracy)."""
    return plotting.metric_label(name.replace("_accuracy", "_loss"))


class LossChart(LiveChart):
    """Train/test loss per variant (train filled, test hollow markers). Log y when the losses span decades."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(GROUP_KEY, "cycle_group", "Metrics"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.group = plotting.LOSS_GROUP  # the user's choice (key m); outlives redraws and runs
        self.groups: list[str] = []  # the groups with data in the last replot, in cycling order
        self.shown_group = plotting.LOSS_GROUP  # the group drawn (the choice, or the first with data)
        self.shown_metrics: list[str] = []  # the metrics drawn
        self.group_metrics: list[str] = []  # the shown group's metrics, before t's choice
        self.layer_group = False  # the drawn group has one series per layer

    def reset_choices(self) -> None:
        super().reset_choices()
        self.group = plotting.LOSS_GROUP

    def setup(self) -> None:
        self.set_xlabel("step")
        self.empty("loss · run the scenario to see it")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cycle_group":
            return len(self.groups) > 1  # one group (every lesson): no key in the footer
        if action == "cycle_split" and self.split == "both" and not self.has_both_splits():
            return False  # t would only empty the chart (norms' Loss has train losses only)
        return super().check_action(action, parameters)

    def has_both_splits(self) -> bool:
        """Whether the shown group has train and test metrics, so that t's choice can show either."""
        if self.layer_group:
            return False  # one series per layer: t does not filter them
        ranks = {0 if plotting.metric_rank(m) == 0 else 1 for m in self.group_metrics if self._split_of(m)}
        return ranks == {0, 1}

    @staticmethod
    def _split_of(name: str) -> bool:
        """A metric t's choice filters: a train one, or a test one."""
        return plotting.metric_rank(name) < 2 or name.startswith(("train", "test"))

    def action_cycle_group(self) -> None:
        if len(self.groups) < 2:
            return
        current = self.groups.index(self.shown_group) if self.shown_group in self.groups else -1
        self.group = self.groups[(current + 1) % len(self.groups)]
        self._replay()

    def replot(self, records: list[dict[str, Any]]) -> None:
        self.remember(records)
        self.set_variants([str(rec["name"]) for rec in records])
        groups = groups_with_data(records)
        if list(groups) != self.groups:
            self.groups = list(groups)
            self.refresh_bindings()
        shown = self.group if self.group in groups else next(iter(groups), plotting.LOSS_GROUP)
        self.shown_group = shown
        self.layer_group = shown in plotting.LAYER_GROUPS
        if groups.get(shown, []) != self.group_metrics:
            self.group_metrics = list(groups.get(shown, []))
            self.refresh_bindings()  # t is offered only where the group has both splits
        metrics = [m for m in groups.get(shown, []) if self.layer_group or self.shows_metric(m)]
        self.shown_metrics = metrics
        values = [v for rec in records for name in metrics for v in rec["series"].get(name, ())]
        heading = shown if len(groups) > 1 else "loss"
        if not any(finite(v) for v in values):
            # The group has metrics, but t's choice left none of them: not a run still to come.
            why = f"no {self.split} metrics in this run" if groups.get(shown) and not metrics else "waiting for data"
            self.empty(" · ".join(part for part in (heading, why, self.choice_note()) if part))
            return
        self.begin()
        log = plotting.wants_log(values)
        banded = False
        layers = {name: li for li, name in enumerate(metrics)} if self.layer_group else {}
        places = slots(records)
        no_color = self.no_color()
        for vi in self.draw_order(len(records)):
            rec = records[vi]
            compared, index = places[vi]
            color: str | int = self.variant_color(vi)
            if compared and color != plotting.FAINT:
                color = plotting.dim_color(index)
            series = rec.get("series", {})
            steps = series.get("step", [])
            std = rec.get("series_std") or {}
            for name in metrics:
                mean = series.get(name)
                if not mean:
                    continue
                spread = std.get(name)
                if spread and any(finite(s) for s in spread):
                    banded = True
                    for sign in (1, -1):
                        band = [m + sign * s if finite(m) and finite(s) else None for m, s in zip(mean, spread)]
                        bx, by = plotting.finite_pairs(std.get("step", steps), band, positive=log)
                        if log:
                            by = plotting.log10s(by)
                        self.line(bx, by, marker=plotting.BAND_MARKER, color=color)
                xs, ys = plotting.finite_pairs(steps, mean, positive=log)
                if log:
                    ys = plotting.log10s(ys)
                if self.layer_group:
                    marker = plotting.layer_marker(layers[name], compared=compared)
                else:
                    marker = plotting.marker(index, plotting.metric_rank(name), compared=compared)
                # The legend (with each variant's final values) is the FinalsLine below. Another variant
                # than the focused one (v) is a faint thin line: the shapes are the focused one's.
                self.line(xs, ys, marker=marker, color=color, key=f"{rec['name']}/{name}", variant=vi)
        grouped = len(groups) > 1
        parts = [heading]
        if grouped:  # the group and the key first: a long title is cut at its end
            later = self.groups[self.groups.index(shown) + 1 :] + self.groups[: self.groups.index(shown)]
            parts[0] += f" ({GROUP_KEY}: {later[0]}{', …' if len(later) > 1 else ''})"
        key = ""
        if self.layer_group:
            key = "shape per layer (legend below), colour per variant"
            if no_color:
                key += " (no colour: v shows one variant's shapes)"
            self.legend_items = [
                (plotting.layer_marker(li), "default", plotting.layer_of(name)) for name, li in layers.items()
            ]
            if any(c for c, _ in places):
                self.legend_items.append(("•◦⊕", "default", "the compared run (dim)"))
        elif len(metrics) > 1:
            key = "  ".join(f"{plotting.marker(0, plotting.metric_rank(m))} {short_label(m)}" for m in metrics)
            if self.focus_variant is None:  # else only the focused variant has shapes (the others are faint lines)
                key += " (shape per variant)"
        if key and grouped:
            parts.append(key)
        if log:
            parts.append("log y")
        if banded:
            parts.append("mean ± std over seeds")
        if key and not grouped:
            parts.append(key)
        if not self.layer_group and any(c for c, _ in places):
            parts.append(f"{plotting.marker(0, 0, compared=True)} small, darker: the compared run")
        self.finish(self.with_choices(" · ".join(parts)), ylog=log)
