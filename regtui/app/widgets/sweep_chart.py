"""Final train/test loss against the swept value (log x where the values span decades)."""

from __future__ import annotations

from typing import Any

from regtui.aggregate import finite
from regtui.app import plotting
from regtui.app.widgets.chart import LiveChart
from regtui.numbers import fmt

METRICS = ("train_loss", "test_loss", "test_accuracy")


class SweepChart(LiveChart):
    """One point per grid value, joined per group (variant and any other swept keys)."""

    def setup(self) -> None:
        self.empty("sweep · run a sweep to see it")

    def replot(self, summary: dict[str, Any] | None) -> None:
        keys = (summary or {}).get("keys") or []
        points = [p for p in (summary or {}).get("points", []) if p.get("values")]
        if not keys or not points:
            self.empty("sweep · waiting for finished models")
            return
        key = keys[0]
        metrics = [m for m in METRICS if any(finite(p.get(m)) for p in points)]
        if "train_loss" in metrics or "test_loss" in metrics:
            metrics = [m for m in metrics if m != "test_accuracy"]
        if not metrics:
            self.empty("sweep · waiting for finished models")
            return
        self.begin()
        positions, xticks, xlabels, xlog = plotting.sweep_axis([p["values"][key] for p in points])
        values = [p.get(m) for p in points for m in metrics]
        ylog = plotting.wants_log(values)
        groups: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        for x, p in zip(positions, points):
            rest = [f"{k}={fmt(p['values'][k])}" for k in keys[1:]]
            base = str(p.get("variant", "")).split(" · ")[0] if " · " in str(p.get("variant", "")) else ""
            groups.setdefault(" · ".join([s for s in (base, *rest) if s]), []).append((x, p))
        all_y: list[float] = []
        for gi, (group, items) in enumerate(groups.items()):
            items.sort(key=lambda item: item[0])
            for metric in metrics:
                xs, ys = plotting.finite_pairs([x for x, _ in items], [p.get(metric) for _, p in items],
                                               positive=ylog)
                if ylog:
                    ys = plotting.log10s(ys)
                label = " · ".join(s for s in (group, plotting.metric_label(metric)) if s)
                self.line(xs, ys, marker=plotting.marker(gi, plotting.metric_rank(metric)), color=plotting.color(gi),
                          label=label, key=f"{group}/{metric}")
                all_y += ys
        self.set_title(f"final {' / '.join(plotting.metric_label(m) for m in metrics)} vs {key}"
                       + (" · log x" if xlog else "") + (" · log y" if ylog else ""))
        self.plt.xlabel(key)
        self.plt.xticks(xticks, xlabels)
        yt, yl = plotting.log_ticks(all_y) if ylog else plotting.linear_ticks(all_y)
        self.plt.yticks(yt, yl)
        self.refresh()
