"""The README and docs/ stay in step with the code: every parameter, scenario and CI command is documented."""

from pathlib import Path

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


def test_the_sweep_example_output_is_what_the_command_prints():
    """The "Sweeps and seeds" example is real output: CPU runs are deterministic, so it must match exactly."""
    import json

    from click.testing import CliRunner

    from regtui.cli import main

    block = SWEEPS.split("$ regtui --scenario weight-decay --sweep weight_decay=0,1e-4,1e-3,1e-2,1e-1 --seeds 4\n")[1]
    shown = block.split("$ regtui")[0].split("sweep:\n", 1)[1]
    args = ["--scenario", "weight-decay", "--sweep", "weight_decay=0,1e-4,1e-3,1e-2,1e-1", "--seeds", "4"]
    result = CliRunner().invoke(main, [*args, "--device", "cpu", "--no-save"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split("sweep:\n", 1)[1].startswith(shown)
    doc = json.loads(CliRunner().invoke(main, [*args, "--json", "--device", "cpu", "--no-save"]).stdout)
    best = json.dumps(doc["summary"]["sweep"]["best"], separators=(",", ":"))
    assert best in block
