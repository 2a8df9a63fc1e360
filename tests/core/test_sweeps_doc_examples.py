"""Every command in docs/sweeps.md plans (the scenario, --set, --sweep, --sample and --seeds as written)."""

import shlex
from pathlib import Path

import pytest

from regtui import scenario as sc
from regtui.sampling import points_count

DOC = (Path(__file__).resolve().parents[2] / "docs" / "sweeps.md").read_text(encoding="utf-8")
COMMANDS = [line[2:].split(" | ")[0] for line in DOC.splitlines() if line.startswith("$ regtui ")]
COMMANDS += [
    text.strip("`")
    for text in DOC.replace("\n", " ").split("`")
    if text.startswith("regtui --scenario") and "…" not in text
]


def _options(args):
    opts = {"set": [], "sweep": [], "sample": None, "seeds": None, "seed": 0}
    it = iter(args[1:])
    for a in it:
        if a in ("--set", "--sweep"):
            opts[a[2:]].append(next(it))
        elif a in ("--sample", "--seeds", "--seed"):
            opts[a[2:]] = next(it)
    return opts


@pytest.mark.parametrize("command", COMMANDS)
def test_the_command_plans(command):
    args = shlex.split(command)
    assert args[0] == "regtui" and args[1] == "--scenario"
    opts = _options(args[2:])
    scenario = sc.load(sc.find(args[2]))
    plan = sc.plan(
        scenario,
        sc.parse_sets(scenario.spec, opts["set"]),
        sc.parse_sweeps(scenario.spec, opts["sweep"]),
        int(opts["seed"]),
        None if opts["seeds"] is None else int(opts["seeds"]),
        None if opts["sample"] is None else points_count(opts["sample"]),
    )
    assert plan.runs and (plan.sweep or plan.sample)


def test_the_doc_has_its_examples():
    assert len(COMMANDS) >= 6
