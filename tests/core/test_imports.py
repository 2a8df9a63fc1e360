"""Import hygiene: the engine never loads Textual/Rich; --help/--list/--version never load torch;
a headless run loads no UI and freezes torch's objects out of the garbage collector's reach."""

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


@pytest.fixture(scope="module")
def headless_run_end(tmp_path_factory):
    """What a headless run on the command line's own path (saving its run) has loaded, and frozen, at its end."""
    runs = tmp_path_factory.mktemp("runs")
    code = (
        "import gc, sys\nfrom regtui.cli import main\n"
        "sys.argv = ['regtui', '--scenario', 'weight-decay', '--set', 'iters=5', '--json', '--device', 'cpu', "
        f"'--runs-dir', {str(runs)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('GC', gc.get_freeze_count(), gc.isenabled(), file=sys.stderr)\n"
        "print('MODULES', *sorted(sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line.split()[1:] for line in done.stderr.splitlines() if line[:1].isupper()}
    assert '"status": "completed"' in done.stdout and list(runs.iterdir())  # the probe ran a whole run, saved
    return lines["GC"], set(lines["MODULES"])


def test_headless_run_loads_no_ui_and_no_dynamo(headless_run_end):
    _, modules = headless_run_end
    top = {name.split(".")[0] for name in modules}
    assert "torch" in top and "click" in top
    assert not {"textual", "rich", "textual_plotext", "plotext"} & top
    assert "torch._dynamo" not in modules  # weight decay needs no torch.optim (its import costs about 1 s)


def test_headless_run_freezes_torchs_objects_and_collects_again(headless_run_end):
    """headless.import_torch: no collector passes over torch's import, nor at the interpreter's shutdown
    (together about 0.45 s of the process); the collector runs again for what the run makes."""
    (frozen, enabled), _ = headless_run_end
    assert int(frozen) > 100_000
    assert enabled == "True"
