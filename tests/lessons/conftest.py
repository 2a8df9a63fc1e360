"""Helpers for the lesson-claim tests: run a bundled scenario through the engine and the collector.

Every claim a bundled scenario's explanation makes is either a formula that holds exactly or a
measured statement over named seeds; the tests in this folder check each one against what the
engine itself emits (``run_plan`` + ``Collector``), over the seeds the text names.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from regtui import scenario
from regtui.engine import run_plan
from regtui.report import Collector
from regtui.store.document_shape import document_problem


def lesson_text(name: str) -> str:
    """The explanation of the bundled scenario ``name``, with line breaks folded to spaces."""
    return " ".join(scenario.load(scenario.find(name)).explanation.split())


def run_lesson(
    name: str,
    sets: dict[str, Any] | None = None,
    seed: int = 0,
    seeds: int | None = None,
    path: pathlib.Path | None = None,
    sweep: dict[str, tuple[Any, ...]] | None = None,
    device: str = "cpu",
) -> tuple[dict[str, Any], list[Any]]:
    """Run a bundled scenario (or the scenario file ``path``); returns (document, events)."""
    sc = scenario.load(path or scenario.find(name))
    plan = scenario.plan(sc, sets=sets or {}, sweep=sweep, seed=seed, seeds=seeds)
    events: list[Any] = []
    collector = Collector()

    def emit(event: Any) -> None:
        events.append(event)
        collector(event)

    finished = run_plan(plan, device, emit=emit)
    assert finished.status == "completed", finished.error
    doc = collector.document()
    # every lesson's document, on every seed a claim names, is one the run store's readers accept
    assert document_problem(json.loads(json.dumps(doc))) is None, document_problem(json.loads(json.dumps(doc)))
    return doc, events


def variant(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(v for v in doc["variants"] if v["name"] == name)


def per_seed(doc: dict[str, Any], name: str) -> dict[int, dict[str, Any]]:
    """seed -> {"final": ..., "series": ...} of variant ``name`` (a single-seed run has no per_seed)."""
    v = variant(doc, name)
    if "per_seed" in v:
        return {p["seed"]: p for p in v["per_seed"]}
    return {v["seeds"][0] if "seeds" in v else doc["seed"]: v}


class Lessons:
    """The helpers above, handed to tests as the ``lessons`` fixture (tests import nothing from here).

    ``run`` trains on the device named by ``--lesson-device`` (cpu unless told)."""

    text = staticmethod(lesson_text)
    variant = staticmethod(variant)
    per_seed = staticmethod(per_seed)

    def __init__(self, device: str) -> None:
        self.device = device

    def run(self, name: str, **kwargs: Any) -> tuple[dict[str, Any], list[Any]]:
        return run_lesson(name, device=self.device, **kwargs)


@pytest.fixture(scope="session")
def lessons(lesson_device: str) -> Lessons:
    return Lessons(lesson_device)
