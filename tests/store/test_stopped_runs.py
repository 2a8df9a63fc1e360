"""A run stopped before its finals shows its last logged values in `runs list`, `runs show` and the text report."""

import math

from regtui.aggregate import last_logged
from regtui.store.record import headline, scalar_finals
from regtui.text_report import text_report


def stopped_doc(status="interrupted", final=None):
    series = {"step": [100, 200, 300], "train_loss": [0.5, 0.4, 0.3], "test_loss": [0.7, None, math.nan]}
    return {
        "title": "Weight decay",
        "scenario": "weight-decay",
        "experiment": "weight_decay",
        "status": status,
        "device": "cpu",
        "seed": 0,
        "seeds": 1,
        "elapsed_s": 2.0,
        "torch_version": "2",
        "params": {},
        "variants": [{"name": "a", "final": final or {}, "series": series}],
        "tables": {},
        "summary": {},
    }


def test_the_last_logged_value_of_each_metric_is_its_last_number():
    assert last_logged(stopped_doc()["variants"][0]) == {"step": 300, "train_loss": 0.3, "test_loss": 0.7}
    assert last_logged({"series": {"step": [1, 2]}}) == {}


def test_runs_list_shows_a_stopped_runs_last_logged_values_and_a_completed_runs_finals_only():
    assert headline(scalar_finals(stopped_doc())) == "test_loss 0.7"
    assert scalar_finals(stopped_doc(status="completed")) == {"a": {}}
    assert scalar_finals(stopped_doc(final={"test_loss": 0.1})) == {"a": {"test_loss": 0.1}}


def test_the_text_report_says_the_values_are_the_last_logged_ones():
    text = text_report(stopped_doc())
    assert "last logged values (the run stopped before its finals):" in text
    row = next(line for line in text.splitlines() if line.startswith("a "))
    assert row.split() == ["a", "300", "0.3", "0.7"]
    assert "last logged" not in text_report(stopped_doc(final={"test_loss": 0.1}))


def test_runs_compare_puts_a_stopped_runs_last_logged_values_beside_a_completed_runs_finals():
    from regtui.store.compare import compare
    from regtui.store.record import RunInfo

    done = stopped_doc(status="completed", final={"test_loss": 0.1, "train_loss": 0.05})
    infos = [
        RunInfo(i, "2026-12-04T00:00:00", "weight-decay", "weight_decay", st, "cpu", 0, 1)
        for i, st in ((1, "completed"), (2, "interrupted"))
    ]
    result = compare([(infos[0], done), (infos[1], stopped_doc())])
    values = {row["metric"]: row["values"] for row in result["finals"]}
    assert values["test_loss"] == [0.1, 0.7] and values["train_loss"] == [0.05, 0.3]
