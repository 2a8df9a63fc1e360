"""Import hygiene: the engine never loads Textual/Rich; --help/--list/--version never load torch."""

import pkgutil
import subprocess
import sys

import pytest

import regtui.engine
from regtui import registry

# Every engine module (found on disk, so a new one is covered), every kind's engine, and the headless path.
ENGINE_MODULES = sorted(
    {f"regtui.engine.{m.name}" for m in pkgutil.iter_modules(regtui.engine.__path__)}
    | {kind.engine for kind in registry.kinds()}
    | {
        "regtui.engine",
        "regtui.report",
        "regtui.variant_record",
        "regtui.json_writer",
        "regtui.text_report",
        "regtui.scenario",
        "regtui.devices",
        "regtui.headless",
        "regtui.event_log",
        "regtui.output",
        "regtui.memory",
    }
)
TORCH_FREE = [
    "regtui.registry",
    "regtui.specs",
    "regtui.scenario",
    "regtui.scenario_values",
    "regtui.variant_labels",
    "regtui.memory",
    "regtui.events",
    "regtui.report",
    "regtui.variant_record",
    "regtui.json_writer",
    "regtui.text_report",
    "regtui.output",
    "regtui.event_log",
]


def loaded_after(code: str) -> set[str]:
    out = (
        subprocess.run(
            [sys.executable, "-c", code + "\nimport sys; print('MODULES', *sorted(sys.modules))"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.splitlines()[-1]
        .split()
    )
    assert out[0] == "MODULES"
    return {name.split(".")[0] for name in out[1:]}


def test_engine_imports_no_ui():
    code = "import importlib\n" + "\n".join(f"importlib.import_module({m!r})" for m in ENGINE_MODULES)
    top = loaded_after(code)
    assert "torch" in top  # the probe works: the engine really was imported
    assert not {"textual", "rich", "textual_plotext", "plotext"} & top


def test_planning_and_reporting_import_no_torch():
    top = loaded_after("import importlib\n" + "\n".join(f"importlib.import_module({m!r})" for m in TORCH_FREE))
    assert "regtui" in top
    assert "torch" not in top


@pytest.mark.parametrize("args", [["--help"], ["--list"], ["--version"]])
def test_cli_info_commands_do_not_import_torch(args):
    code = (
        "import sys\nfrom regtui.cli import main\n"
        f"sys.argv = ['regtui', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
    )
    top = loaded_after(code)
    assert "regtui" in top and "click" in top
    assert "torch" not in top and "textual" not in top
