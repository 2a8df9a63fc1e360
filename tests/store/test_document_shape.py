"""The document shape the run store's readers rely on (regtui.store.document_shape): what it refuses, and how."""

from regtui.store.document_shape import document_problem


def good() -> dict:
    return {
        "schema": "regtui.run/1",
        "scenario": "weight-decay",
        "experiment": "weight_decay",
        "title": "t",
        "status": "completed",
        "device": "cpu",
        "seed": 0,
        "seeds": 1,
        "torch_version": "2",
        "elapsed_s": 1.5,
        "params": {},
        "sweep": {},
        "variants": [
            {"name": "a", "final": {"test_loss": 0.5, "diverged": False}, "series": {"step": [1], "x": [None]}}
        ],
        "tables": {"t": {"columns": ["a"], "rows": [[1], [None]]}},
        "summary": {},
    }


def test_a_document_as_the_collector_writes_it_has_no_problem():
    assert document_problem(good()) is None


def test_each_problem_names_the_first_wrong_place():
    cases = [
        (lambda d: d.pop("scenario"), "scenario is missing"),
        (lambda d: d.update(seeds="x"), "seeds is a text, not a number or null"),
        (lambda d: d["variants"][0].pop("final"), "variants[0].final is missing"),
        (lambda d: d["variants"][0]["series"].update(step=[None]), "variants[0].series.step[0] is null, not a number"),
        (lambda d: d["tables"]["t"].update(rows=5), "tables.t.rows is not a list"),
        (lambda d: d["variants"].append(3), "variants[1] is a number, not an object"),
        (
            lambda d: d["variants"][0]["final"].update(x={"a": 1}),
            "variants[0].final.x is an object, not null, a flag, a number, a text or a list",
        ),
    ]
    for damage, message in cases:
        doc = good()
        damage(doc)
        assert document_problem(doc) == message


def test_keys_it_does_not_name_are_left_alone():
    doc = good()
    doc["something_new"] = {"any": [object]}
    doc["variants"][0]["histograms"] = "later"
    assert document_problem(doc) is None
