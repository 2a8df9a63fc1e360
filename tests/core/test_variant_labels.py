"""A variant's label never states a value its run does not use (issue 18, item 4).

The bundled files name their variants for the values they give them ("BatchNorm · batch 2");
after --set, a per-variant value or a sweep the label must follow the values the run uses,
and an unedited run keeps the file's names exactly. Torch-free: plans only.
"""

from __future__ import annotations

import re

import pytest

from regtui import scenario as sc
from regtui.specs import ConfigError


def labels(name: str, sets: tuple[str, ...] = (), sweeps: tuple[str, ...] = ()) -> list[tuple[str, dict]]:
    s = sc.load(sc.find(name))
    plan = sc.plan(s, sc.parse_sets(s.spec, sets), sc.parse_sweeps(s.spec, sweeps))
    return list(dict.fromkeys((r.variant, tuple(sorted(r.params.items()))) for r in plan.runs))


def stated_batches(label: str) -> list[int]:
    """Every batch size a label states ("batch 8", "batch=8")."""
    return [int(n) for n in re.findall(r"\bbatch[ =](\d+)", label)]


@pytest.mark.parametrize("name", sc.bundled_names())
def test_an_unedited_plan_keeps_the_files_names(name):
    s = sc.load(sc.find(name))
    plan = sc.plan(s)
    if not s.sweep:
        assert plan.variant_names == ([v.name for v in s.variants] or ["default"])
    else:  # every variant at every grid point, its name first
        names = [v.name for v in s.variants]
        for label in plan.variant_names:
            assert not names or label.split(" · ")[0] in names


NORMS_EDITS = [
    ("batch=8",),
    ("batch=8,8,16,16,2,2,4,4",),
    ("batch=4,64,4,64,4,64,4,64",),
    ("batch=3", "norm=group"),
    ("steps=5",),
]


@pytest.mark.parametrize("sets", NORMS_EDITS, ids=[" ".join(s) for s in NORMS_EDITS])
def test_norms_labels_state_the_batch_each_model_trains_with(sets):
    runs = labels("norms", sets)
    for label, params in runs:
        assert stated_batches(label) == [dict(params)["batch"]], (label, dict(params)["batch"])
    assert len({label for label, _ in runs}) == len(runs)  # still one label per model


def test_norms_batch_8_renames_the_variants():
    assert [label for label, _ in labels("norms", ("batch=8",))] == [
        "BatchNorm · batch 8",
        "LayerNorm · batch 8",
        "InstanceNorm · batch 8",
        "GroupNorm · batch 8",
    ]


def test_sweeping_a_key_the_name_states_rewrites_it_once():
    assert [label for label, _ in labels("norms", (), ("batch=4,8",))][:2] == [
        "BatchNorm · batch 4",
        "BatchNorm · batch 8",
    ]


def test_a_changed_choice_labels_the_variant_by_its_parameters():
    assert [label for label, _ in labels("norms", ("norm=group",))] == ["norm=group, batch=2", "norm=group, batch=64"]
    assert [label for label, _ in labels("adamw", ("optimizer=sgd,sgd,adam",))] == ["SGD", "optimizer=adam"]


def test_names_that_speak_of_a_value_without_a_number():
    # "no weight decay" would be wrong for 0.01; "weight decay" was named for 0.01
    assert [label for label, _ in labels("weight-decay", ("weight_decay=0.01,0.05",))] == [
        "weight_decay=0.01",
        "weight_decay=0.05",
    ]
    assert [label for label, _ in labels("weight-decay", ("weight_decay=0.0,0.05",))] == [
        "no weight decay",
        "weight_decay=0.05",
    ]
    assert [label for label, _ in labels("dropout", ("dropout=0.0,0.9",))] == ["no dropout", "dropout=0.9"]


def test_a_name_that_does_not_speak_of_the_key_gets_its_value(write_toml):
    path = write_toml(
        'experiment = "dropout"\n[params]\niters = 5\n'
        '[[variants]]\nname = "plain"\ndropout = 0.0\nweight_decay = 0.0\n'
        '[[variants]]\nname = "dropout 0.5"\ndropout = 0.5\nweight_decay = 0.0\n'
        '[[variants]]\nname = "both"\ndropout = 0.5\nweight_decay = 0.01\n'
    )
    s = sc.load(path)
    per_variant = sc.plan(s, sc.parse_sets(s.spec, ["dropout=0.0,0.3,0.3"]))
    assert per_variant.variant_names == ["plain", "dropout 0.3", "both · dropout=0.3"]
    one = sc.plan(s, sc.parse_sets(s.spec, ["dropout=0.2"]))  # "dropout 0.5" merges into "plain"
    assert one.variant_names == ["plain · dropout=0.2", "both · dropout=0.2"]


def test_setting_a_key_the_file_sweeps_replaces_its_sweep():
    s = sc.load(sc.find("dropout-sweep"))
    plan = sc.plan(s, sc.parse_sets(s.spec, ["dropout=0.3"]))
    assert [(r.variant, r.params["dropout"]) for r in plan.runs] == [("dropout=0.3", 0.3)]
    assert plan.sweep == {}
    command = sc.replay_command(plan)
    assert "--set dropout=0.3" in command and "--sweep" not in command
    with pytest.raises(ConfigError, match="set it or sweep it"):  # both on the command line: refused
        sc.plan(s, sc.parse_sets(s.spec, ["dropout=0.3"]), sc.parse_sweeps(s.spec, ["dropout=0.1,0.2"]))


def test_a_number_the_name_states_for_a_key_of_the_whole_file(write_toml):
    path = write_toml(
        'experiment = "norms"\n[params]\nbatch = 4\nsteps = 2\n'
        '[[variants]]\nname = "BN · batch 4"\nnorm = "batch"\n'
        '[[variants]]\nname = "GN · batch 4"\nnorm = "group"\n'
    )
    s = sc.load(path)
    assert sc.plan(s).variant_names == ["BN · batch 4", "GN · batch 4"]
    assert sc.plan(s, {"batch": 16}).variant_names == ["BN · batch 16", "GN · batch 16"]
    assert sc.plan(s, {"steps": 3}).variant_names == ["BN · batch 4", "GN · batch 4"]  # not a key it states


@pytest.mark.parametrize("name", sc.bundled_names())
def test_each_file_variant_is_named_as_the_model_it_runs_as(name):
    """Plan.file_variants (the form's per-variant hints): unedited, the file's names; after a value
    that merges variants, each file variant carries the name of the model it merged into."""
    s = sc.load(sc.find(name))
    assert sc.plan(s).file_variants == tuple(v.name for v in s.variants)


def test_merged_variants_share_the_name_of_their_model():
    s = sc.load(sc.find("norms"))
    plan = sc.plan(s, sc.parse_sets(s.spec, ("batch=8",)))
    models = plan.variant_names
    assert len(plan.file_variants) == 8 and len(models) == 4
    assert set(plan.file_variants) == set(models) and all(stated_batches(n) == [8] for n in plan.file_variants)
    assert plan.file_variants[0] == plan.file_variants[1] == "BatchNorm · batch 8"
