"""Final train/test loss against the swept value (log x where the values span decades; a choice or
a flag swept: one column of points per category, not joined by lines)."""

from __future__ import annotations

from typing import Any

from regtui.aggregate import finite
from regtui.app import plotting
from regtui.app.widgets.chart import LiveChart
from regtui.variant_labels import values_label

METRICS = ("train_loss", "val_loss", "test_loss", "test_accuracy")


class SweepChart(LiveChart):
    """One point per grid value, joined per group (variant and any other swept keys)."""

    def setup(self) -> None:
        self.empty("sweep · run a sweep to see it")

    def replot(self, summary: dict[str, Any] | None) -> None:
        self.remember(summary)
        keys = (summary or {}).get("keys") or []
        points = [p for p in (summary or {}).get("points", []) if p.get("values")]
        if not keys or not points:
            self.empty("sweep · waiting for finished models")
            return
        key = keys[0]
        metrics = [m for m in METRICS if any(finite(p.get(m)) for p in points) and self.shows_metric(m)]
        if {"train_loss", "val_loss", "test_loss"} & set(metrics):
            metrics = [m for m in metrics if m != "test_accuracy"]
        if not metrics:
            self.empty("sweep · waiting for finished models")
            return
        self.begin()
        swept = [p["values"][key] for p in points]
        by_category = plotting.categorical(swept)  # points per category, not a line over a number axis
        if by_category:
            positions, xticks, xlabels = plotting.category_axis(swept)
            xlog = False
        else:
            positions, xticks, xlabels, xlog = plotting.sweep_axis(swept)
        values = [p.get(m) for p in points for m in metrics]
        ylog = plotting.wants_log(values)
        groups: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        for x, p in zip(positions, points):
            rest = values_label({k: p["values"][k] for k in keys[1:]})
            groups.setdefault(" · ".join(s for s in (str(p.get("group") or ""), rest) if s), []).append((x, p))
        names = list(groups)
        self.set_variants(names)
        banded = False
        for gi in self.draw_order(len(names)):
            group, items = names[gi], groups[names[gi]]
            color = self.variant_color(gi)
            items.sort(key=lambda item: item[0])
            for metric in metrics:
                spread = [p.get(f"{metric}_std") for _, p in items]
                if any(finite(s) and s > 0 for s in spread) and not by_category:
                    banded = True  # ± std over the seeds: thin lines above and below
                    for sign in (1, -1):
                        bx, by = plotting.finite_pairs(
                            [x for x, _ in items],
                            [
                                m + sign * s if finite(m := p.get(metric)) and finite(s) else None
                                for (_, p), s in zip(items, spread)
                            ],
                            positive=ylog,
                        )
                        if ylog:
                            by = plotting.log10s(by)
                        self.line(bx, by, marker=plotting.BAND_MARKER, color=color)
                xs, ys = plotting.finite_pairs([x for x, _ in items], [p.get(metric) for _, p in items], positive=ylog)
                if ylog:
                    ys = plotting.log10s(ys)
                label = " · ".join(s for s in (group, plotting.metric_label(metric)) if s)
                self.line(
                    xs,
                    ys,
                    marker=plotting.marker(gi, plotting.metric_rank(metric)),
                    color=color,
                    label=label,
                    key=f"{group}/{metric}",
                    scatter=by_category,
                    variant=gi,
                )
        self.set_xlabel(key)
        self.finish(
            self.with_choices(
                f"final {' / '.join(plotting.metric_label(m) for m in metrics)} vs {key}"
                + (" · log x" if xlog else "")
                + (" · by category" if by_category else "")
                + (" · log y" if ylog else "")
                + (" · ± std over seeds" if banded else "")
            ),
            ylog=ylog,
            xticks=(xticks, xlabels),
        )
