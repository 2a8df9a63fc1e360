"""Loss curves: every per-step metric of every variant (train, test, …), mean ± std over seeds."""

from __future__ import annotations

from typing import Any

from regtui.aggregate import finite
from regtui.app import plotting
from regtui.app.widgets.chart import LiveChart


def metric_names(records: list[dict[str, Any]]) -> list[str]:
    """Every per-step metric, train first, then test, then the rest."""
    return plotting.order_metrics(name for rec in records for name in rec.get("series", {}) if name != "step")


class LossChart(LiveChart):
    """Train/test loss per variant (train filled, test hollow markers). Log y when the losses span decades."""

    def setup(self) -> None:
        self.set_xlabel("step")
        self.empty("loss · run the scenario to see it")

    def replot(self, records: list[dict[str, Any]]) -> None:
        self.remember(records)
        self.set_variants([str(rec["name"]) for rec in records])
        metrics = [m for m in metric_names(records) if self.shows_metric(m)]
        values = [v for rec in records for name in metrics for v in rec["series"].get(name, ())]
        if not any(finite(v) for v in values):
            self.empty("loss · waiting for data")
            return
        self.begin()
        log = plotting.wants_log(values)
        banded = False
        for vi in self.draw_order(len(records)):
            rec = records[vi]
            color = self.variant_color(vi)
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
                # The legend (with each variant's final values) is the FinalsLine below.
                self.line(
                    xs,
                    ys,
                    marker=plotting.marker(vi, plotting.metric_rank(name)),
                    color=color,
                    key=f"{rec['name']}/{name}",
                )
        title = "loss" + (" · log y" if log else "")
        if banded:
            title += " · mean ± std over seeds"
        if len(metrics) > 1:
            key = "  ".join(
                f"{plotting.marker(0, plotting.metric_rank(m))} {plotting.metric_label(m)}" for m in metrics
            )
            title += f" · {key} (shape per variant)"
        note = self.choice_note()
        self.finish(title + (f" · {note}" if note else ""), ylog=log)
