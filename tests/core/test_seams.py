"""The seams between regtui's modules are public: no module imports another's private name (one
with a leading underscore), so that what a module keeps to itself can change without a ripple.
(Textual's private names are checked in tests/app/test_textual_public_api.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "regtui"
SOURCES = sorted(ROOT.rglob("*.py"))


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(source: str) -> list[str]:
    """``from regtui.x import _y`` (or a relative import of one) in ``source``, as "line: _y from x"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").split(".")[0] == "regtui"):
            found += [f"{node.lineno}: {a.name} from {node.module}" for a in node.names if private(a.name)]
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_of_a_regtui_module_is_imported(path):
    assert private_imports(path.read_text(encoding="utf-8")) == []


def test_the_check_finds_a_private_import():
    found = private_imports("from regtui.engine.custom.train import _Observer, Run\nfrom torch.nn import _x\n")
    assert found == ["1: _Observer from regtui.engine.custom.train"]
