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


def engine_imports() -> dict[str, set[str]]:
    """Every engine module (custom/ included) and the engine modules it imports, at any depth of its code."""
    modules = {}
    for path in sorted(ENGINE.rglob("*.py")):
        rel = path.relative_to(ENGINE.parent.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                module = ".".join(p for p in (base, node.module or "") if p)
                # `from package import submodule` imports the submodule; anything else, the module itself
                subs = {f"{module}.{alias.name}" for alias in node.names} & modules.keys()
                found.update(subs or {module})
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_private_name_is_imported_across_engine_modules():
    offenders = []
    for path in sorted(ENGINE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("regtui")):
                offenders += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []


def test_engine_modules_import_each_other_without_a_cycle():
    graph = engine_imports()
    assert "regtui.engine.custom.batched" in graph["regtui.engine.custom.train"]  # function-level imports count
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for dep in sorted(graph[module]):
            visit(dep, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_every_engine_trains_through_the_one_loop():
    """The chunked loop is written once: every module that trains steps calls regtui.engine.loop."""
    graph = engine_imports()
    names = ("bn", "norms", "bn_eval", "adamw", "no_decay_groups", "dropout_before_bn", "mlp_training")
    trainers = {f"regtui.engine.{m}" for m in names} | {f"regtui.engine.custom.{m}" for m in ("model_run", "batched")}
    assert trainers <= graph.keys()
    assert sorted(m for m in trainers if "regtui.engine.loop" not in graph[m]) == []
