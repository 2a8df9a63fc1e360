"""The fitted function of each variant over the training and test points."""

from __future__ import annotations

from typing import Any

from regtui.aggregate import finite
from regtui.app import plotting
from regtui.app.widgets.chart import LiveChart


class FitChart(LiveChart):
    """Data points (x train, + test) and each variant's fitted curve (± std over seeds)."""

    def setup(self) -> None:
        self.set_xlabel("x")
        self.empty("fit · run the scenario to see it")

    def replot(self, data: dict[str, Any] | None, records: list[dict[str, Any]]) -> None:
        self.remember(data, records)
        self.set_variants([str(rec["name"]) for rec in records])
        curves = [(vi, records[vi], records[vi].get("curves", {}).get("fit")) for vi in self.draw_order(len(records))]
        curves = [c for c in curves if c[2]]
        if not data and not curves:
            self.empty("fit · waiting for data")
            return
        self.begin()
        for vi, rec, curve in curves:
            color = self.variant_color(vi)
            ys = curve.get("y", [])
            spread = curve.get("y_std")
            if spread and any(finite(s) for s in spread):
                for sign in (1, -1):
                    band = [m + sign * s if finite(m) and finite(s) else None for m, s in zip(ys, spread)]
                    bx, by = plotting.finite_pairs(curve.get("x", []), band)
                    self.line(bx, by, marker=plotting.BAND_MARKER, color=color)
            xs, ys = plotting.finite_pairs(curve.get("x", []), ys)
            self.line(
                xs,
                ys,
                marker=plotting.marker(vi, 0),
                color=color,
                label=str(rec["name"]),
                key=f"{rec['name']}/fit",
                variant=vi,
            )
        # The data last, over the curves: the points are what show a fit is overfitting.
        for part, color in (("train", "yellow"), ("test", "magenta")):
            points = (data or {}).get(part) or {}
            if not self.shows_metric(f"{part}_loss"):
                continue
            xs, ys = plotting.finite_pairs(points.get("x", []), points.get("y", []))
            self.line(
                xs,
                ys,
                marker=plotting.DATA_MARKERS[part],
                color=color,
                label=f"{part} data",
                key=f"data/{part}",
                scatter=True,
            )
        self.finish(self.with_choices("fitted function and data"))
