"""Import hygiene: the engine never loads Textual/Rich; --help/--list/--version never load torch."""

import subprocess
import sys

import pytest

ENGINE_MODULES = [
    "regtui.engine", "regtui.engine.runner", "regtui.report", "regtui.scenario", "regtui.devices",
    "regtui.engine.weight_decay", "regtui.engine.dropout", "regtui.engine.bn",
    "regtui.engine.bn_stats", "regtui.engine.norms", "regtui.engine.sgd", "regtui.engine.stacked",
]


def loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('MODULES', *sorted(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()[-1].split()
    assert out[0] == "MODULES"
    return {name.split(".")[0] for name in out[1:]}


def test_engine_imports_no_ui():
    code = "import importlib\n" + "\n".join(f"importlib.import_module({m!r})" for m in ENGINE_MODULES)
    top = loaded_after(code)
    assert "torch" in top  # the probe works: the engine really was imported
    assert not {"textual", "rich", "textual_plotext", "plotext"} & top


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
