"""Activation std after every layer of the deep net (log y), with the first inf/NaN layer marked."""

from __future__ import annotations

from typing import Any

from regtui.app import plotting
from regtui.app.widgets.chart import LiveChart


class LayersChart(LiveChart):
    """One line per variant: std of the activations after layer 1…depth."""

    def setup(self) -> None:
        self.set_xlabel("layer")
        self.empty("activation std per layer · run the scenario to see it")

    def replot(self, records: list[dict[str, Any]]) -> None:
        self.remember(records)
        self.set_variants([str(rec["name"]) for rec in records])
        shown = self.draw_order(len(records))
        layered = [(vi, records[vi], records[vi]["layers"]) for vi in shown if records[vi].get("layers")]
        if not layered and not any(rec.get("layers") for rec in records):
            self.empty("activation std per layer · waiting for data")
            return
        self.begin()
        values = [v for _, _, layers in layered for v in layers.get("std", [])]
        log = plotting.wants_log(values, 10.0)
        marks: list[tuple[int, int]] = []
        for vi, rec, layers in layered:
            std = layers.get("std", [])
            xs, ys = plotting.finite_pairs(list(range(1, len(std) + 1)), std, positive=log)
            if log:
                ys = plotting.log10s(ys)
            label = str(rec["name"])
            bad = layers.get("first_nonfinite_layer")
            if bad is not None:
                label += f" · inf/NaN at layer {bad}"
                marks.append((vi, int(bad)))
            self.line(
                xs,
                ys,
                marker=plotting.marker(vi, 0),
                color=self.variant_color(vi),
                label=label,
                key=str(rec["name"]),
                variant=vi,
            )
        for vi, layer in marks:
            self.vline(layer, color=self.variant_color(vi))
        note = self.choice_note()
        self.finish(
            "activation std after each layer" + (" · log y" if log else "") + (f" · {note}" if note else ""), ylog=log
        )
