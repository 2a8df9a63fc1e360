"""The README stays in step with the code: every parameter, scenario and CI command is documented."""

from pathlib import Path

from regtui import registry
from regtui import scenario as sc

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_parameter_is_documented_with_its_range():
    for spec in (kind.spec for kind in registry.kinds()):
        for p in spec.params:
            assert f"| `{p.name}` |" in README, (spec.name, p.name)
            assert p.allowed() in README, (spec.name, p.name)


def test_every_bundled_scenario_is_listed():
    for name in sc.bundled_names():
        assert f"| `{name}` |" in README, name


def test_ci_runs_the_readme_test_command():
    test_command = next(line for line in README.splitlines() if "pytest" in line and line.startswith("pip install"))
    command = test_command.split("#")[0].strip()
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
