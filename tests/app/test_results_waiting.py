"""Results' finals while a run goes on (issue 18, item 9c): a variant that has not started or not
finished has no "diverged" value yet: "—", not "no"."""

from __future__ import annotations

from regtui.app.widgets.live_table import cell_text
from regtui.app.widgets.results_view import finals_table

DONE = {"name": "done", "seeds": [0], "final": {"test_loss": 0.25, "diverged": False}}
BAD = {"name": "bad", "seeds": [0], "final": {"test_loss": float("nan"), "diverged": True}}
WAITING = {"name": "waiting", "seeds": [0], "final": {}, "series": {}}
TRAINING = {"name": "training", "seeds": [0], "final": {}, "series": {"step": [10], "train_loss": [0.5]}}
HALF = {"name": "half", "seeds": [0, 1], "final": {}, "diverged_seeds": [1], "series": {"step": [10]}}


def cells(records):
    columns, rows = finals_table(records)
    return {key: dict(zip(columns, (cell_text(v) for v in values))) for key, values in rows}


def test_waiting_and_training_variants_have_no_diverged_value_yet():
    table = cells([DONE, BAD, WAITING, TRAINING, HALF])
    assert table["done"]["diverged"] == "no" and table["bad"]["diverged"] == "yes"
    assert table["waiting"]["progress"] == "waiting" and table["waiting"]["diverged"] == "—"
    assert table["training"]["progress"].startswith("step 10") and table["training"]["diverged"] == "—"
    assert table["half"]["diverged"] == "1/2 seeds"  # a seed that diverged already says so


def test_after_the_run_every_variant_says_yes_or_no():
    table = cells([DONE, BAD])
    assert [row["diverged"] for row in table.values()] == ["no", "yes"]
