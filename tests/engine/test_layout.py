"""Engine layout: experiment modules share code only through non-experiment modules.

An experiment that imports another couples them (a change to one silently
changes the other's numbers), so shared code lives in modules such as
``stacked``, ``mlp_training``, ``loop`` and ``sgd``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import regtui.engine
from regtui import registry

ENGINE = Path(regtui.engine.__file__).parent
BUNDLED = {f"regtui.engine.{m}" for m in ("weight_decay", "dropout", "bn", "bn_stats", "norms")}


def experiment_modules() -> set[str]:
    return {kind.engine for kind in registry.kinds()}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports statically, as dotted names (``from a import b`` counts a and a.b)."""
    package = f"regtui.engine.{path.stem}".rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            out.add(module)
            out.update(f"{module}.{alias.name}" for alias in node.names)
    return out


def test_imported_modules_resolves_every_import_form(tmp_path):
    src = tmp_path / "probe.py"
    src.write_text(
        "import regtui.engine.bn\nfrom regtui.engine import norms\nfrom . import dropout\n"
        "from .bn_stats import run\nfrom regtui.engine.weight_decay import run as wd\n"
    )
    found = imported_modules(src)
    assert BUNDLED <= found


def test_bundled_experiments_are_registered():
    assert BUNDLED <= experiment_modules()


def test_no_engine_module_imports_an_experiment_module():
    experiments = experiment_modules()
    offenders = {
        path.name: sorted(imported_modules(path) & experiments)
        for path in sorted(ENGINE.glob("*.py"))
        if imported_modules(path) & experiments
    }
    assert offenders == {}
