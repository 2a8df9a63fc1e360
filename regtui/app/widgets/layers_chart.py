"""Activation std after every layer of the deep net (log y), with the first inf/NaN layer marked.

Two lines per variant where the run has both: the measuring pass before training
(``layers``, the variant's filled shape) and the latest training step's mini-batch
(``layers_training``, its hollow shape), so the chart moves while the net trains.
"""

from __future__ import annotations

from typing import Any

from regtui.app import plotting
from regtui.app.widgets.chart import LiveChart


class LayersChart(LiveChart):
    """One line per variant: std of the activations after layer 1…depth."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cycle_split":
            return False  # activations have no train/test split: no t in the footer here
        return super().check_action(action, parameters)

    def setup(self) -> None:
        self.set_xlabel("layer")
        self.empty("activation std per layer · run the scenario to see it")

    def replot(self, records: list[dict[str, Any]]) -> None:
        self.remember(records)
        self.set_variants([str(rec["name"]) for rec in records])
        shown = self.draw_order(len(records))
        profiles = [
            (vi, slot, records[vi], records[vi][key])
            for vi in shown
            for slot, key in ((0, "layers"), (1, "layers_training"))
            if records[vi].get(key)
        ]
        if not profiles and not any(rec.get("layers") or rec.get("layers_training") for rec in records):
            self.empty("activation std per layer · waiting for data")
            return
        self.begin()
        values = [v for *_, layers in profiles for v in layers.get("std", [])]
        log = plotting.wants_log(values, 10.0)
        both = any(slot == 1 for _, slot, _, _ in profiles) and any(slot == 0 for _, slot, _, _ in profiles)
        marks: list[tuple[int, int]] = []
        for vi, slot, rec, layers in profiles:
            std = layers.get("std", [])
            xs, ys = plotting.finite_pairs(list(range(1, len(std) + 1)), std, positive=log)
            if log:
                ys = plotting.log10s(ys)
            name = str(rec["name"])
            label = name + (_when(layers) if slot == 1 else "")  # the title says filled: init
            bad = layers.get("first_nonfinite_layer")
            if bad is not None:
                label += f" · inf/NaN at layer {bad}"
                if slot == 0:
                    marks.append((vi, int(bad)))
            self.line(
                xs,
                ys,
                marker=plotting.marker(vi, slot),
                color=self.variant_color(vi),
                label=label,
                key=name if slot == 0 else f"{name} · training",
                variant=vi,
                listed_when_empty=bad is not None,  # "inf/NaN at layer 1": no line, and the legend says why
            )
        for vi, layer in marks:
            self.vline(layer, color=self.variant_color(vi))
        what = "activation std after each layer" + (" · filled: init, hollow: training" if both else "")
        self.finish(self.with_choices(what + (" · log y" if log else "")), ylog=log)


def _when(layers: dict[str, Any]) -> str:
    """Which training step a profile is from (and which seed, while the seeds are at different steps)."""
    step = layers.get("step")
    seed = layers.get("seed")
    return f" · step {step}" + (f" (seed {seed})" if seed is not None else "")
