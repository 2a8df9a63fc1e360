"""Another stored run drawn over the shown one (the History view's compare)."""

from __future__ import annotations

import dataclasses
from typing import Any

from regtui.report import Collector, Snapshot


@dataclasses.dataclass(frozen=True)
class Overlay:
    """Another run's records drawn over the shown run's in some views (the History view's compare).

    Both runs' variants are named ``run #N · variant``, so a legend names both
    runs; the chart tells them apart as it tells variants apart (marker shape
    and colour). It applies only while ``base`` is the shown run's collector:
    a new run or another opened run leaves it inert.
    """

    base: Collector
    label: str  # "run #N", the shown run
    other_label: str  # "run #M", the compared run
    other_records: tuple[dict[str, Any], ...]  # unprefixed, as a snapshot holds them
    views: frozenset[str] = frozenset({"loss"})

    def __call__(self, view: str, collector: Collector, snapshot: Snapshot) -> Snapshot:
        if view not in self.views or collector is not self.base:
            return snapshot
        return dataclasses.replace(
            snapshot,
            records=[
                *(named(r, self.label) for r in snapshot.records),
                *(named(r, self.other_label) for r in self.other_records),
            ],
        )


def named(record: dict[str, Any], label: str) -> dict[str, Any]:
    return {**record, "name": f"{label} · {record.get('name')}"}
