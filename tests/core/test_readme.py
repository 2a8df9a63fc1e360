"""The README and docs/ stay in step with the code: every parameter, scenario and CI command is documented."""

import json
import re
from pathlib import Path

import pytest

from regtui import registry
from regtui import scenario as sc

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PARAMETERS = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
SWEEPS = (ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8")


def test_every_parameter_is_documented_with_its_range():
    for spec in (kind.spec for kind in registry.kinds()):
        for p in spec.params:
            assert f"| `{p.name}` |" in PARAMETERS, (spec.name, p.name)
            assert p.allowed() in PARAMETERS, (spec.name, p.name)


def test_every_bundled_scenario_is_listed():
    for name in sc.bundled_names():
        assert f"| `{name}` |" in README, name


def test_ci_runs_the_readme_test_command():
    test_command = next(line for line in README.splitlines() if "pytest" in line and line.startswith("pip install"))
    command = test_command.split("#")[0].strip()
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


SWEEP = "--scenario weight-decay --sweep weight_decay=0,1e-4,1e-3,1e-2,1e-1 --seeds 4"
MEAN_STD = re.compile(r"^(\S+) ± (\S+)$")
BEST = re.compile(r"^best test_loss (\S+) at weight_decay=(\S+)$")


def _sweep_table(text: str) -> tuple[list[str], list[dict[str, str]], tuple[str, str]]:
    """The sweep section of a text report: (columns, one dict of cells per row, (best value, best λ))."""
    lines = [line.strip() for line in text.split("sweep:\n", 1)[1].splitlines()]
    columns = lines[0].split()
    assert set(lines[1].replace(" ", "")) == {"-"}
    rows = []
    for line in lines[2:]:
        if line.startswith("best"):
            best = BEST.match(line)
            assert best, line
            return columns, rows, (best[1], best[2])
        cells = re.split(r"\s{2,}", line)
        assert len(cells) == len(columns), line
        rows.append(dict(zip(columns, cells)))
    raise AssertionError("no best line")


def _check_sweep_relations(text: str) -> None:
    """What the README says of the sweep table, on any machine: structure, then the trade-off."""
    columns, rows, (best_value, best_lam) = _sweep_table(text)
    assert columns == ["weight_decay", "train_loss", "test_loss", "gap", "diverged"]
    assert [r["weight_decay"] for r in rows] == ["0", "0.0001", "0.001", "0.01", "0.1"]
    mean = {}
    for r in rows:
        assert r["diverged"] == "0"
        for k in ("train_loss", "test_loss"):
            m = MEAN_STD.match(r[k])
            assert m, r[k]  # "mean ± std" over the 4 seeds
            mean[(r["weight_decay"], k)] = float(m[1])
        test, train = mean[(r["weight_decay"], "test_loss")], mean[(r["weight_decay"], "train_loss")]
        assert float(r["gap"]) == pytest.approx(test - train, rel=1e-3, abs=1e-4)
    train = [mean[(r["weight_decay"], "train_loss")] for r in rows]
    gap = [float(r["gap"]) for r in rows]
    # "up to λ = 1e-3 ... train loss below 1e-3 and the gap is large; at λ = 1e-2 and 1e-1
    # the train loss rises and the gap shrinks"
    assert max(train[:3]) < 1e-3 < train[3] < train[4]
    assert min(gap[:3]) > gap[3] > gap[4]
    # "the lowest mean test loss is at λ = 0.1", and the best line names it with its table value
    lowest = min(rows, key=lambda r: mean[(r["weight_decay"], "test_loss")])
    assert best_lam == lowest["weight_decay"] == "0.1"
    assert best_value == lowest["test_loss"].split(" ± ")[0]


def test_the_sweep_example_has_the_form_and_relations_of_the_command_s_output(tmp_path):
    """The "Sweeps and seeds" example: its digits come from one machine (the README says so), so the
    README's table and the command's real output are checked for the same form and the same relations."""
    from click.testing import CliRunner

    from regtui.cli import main

    block = SWEEPS.split(f"$ regtui {SWEEP}\n")[1]
    shown, jq = block.split("$ regtui")[0], block.split("```")[0].splitlines()
    assert f"$ regtui {SWEEP} --json | jq -c .summary.sweep.best" in block.split("```")[0]
    after = SWEEPS.split(f"$ regtui {SWEEP} --json")[1].split("```", 1)[1]
    assert "yours will print other digits" in " ".join(after.split()[:40])
    _check_sweep_relations(shown)

    out = tmp_path / "sweep.json"
    result = CliRunner().invoke(main, [*SWEEP.split(), "--device", "cpu", "--no-save", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    _check_sweep_relations(result.stdout)

    # The jq line: the document's best entry, with the same keys, variant and values as the README shows.
    doc = json.loads(out.read_text(encoding="utf-8"))
    best, shown_best = doc["summary"]["sweep"]["best"], json.loads(jq[-1])
    assert list(best) == list(shown_best) == ["variant", "values", "test_loss", "chosen_on"]
    assert best["chosen_on"] == "test"  # a lesson has no validation split: chosen on test, and says so
    assert (best["variant"], best["values"]) == (shown_best["variant"], shown_best["values"])
    assert best["test_loss"] == min(p["test_loss"] for p in doc["summary"]["sweep"]["points"])


def test_the_reproducibility_statement_and_the_lesson_spreads_it_quotes():
    """Identical on one machine and build; elsewhere the same conclusions within the stated spreads —
    and the spreads it quotes are real lesson claims (tested in tests/lessons)."""
    text = " ".join(README.split("## Reproducibility\n", 1)[1].split("\n## ", 1)[0].split())
    assert "identical figures, digit for digit, on one machine and build" in text
    assert "the same *conclusions*, not the same digits" in text
    assert "ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE" in text
    assert "the same seed on the CPU gives identical results" not in README
    lesson = " ".join(sc.load(sc.find("weight-decay")).explanation.split())
    for quoted in re.findall(r'"([^"]*(?:seeds|–)[^"]*)"', text):
        assert quoted in lesson, quoted
    assert len(re.findall(r'"([^"]*(?:seeds|–)[^"]*)"', text)) == 2
