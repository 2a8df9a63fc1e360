"""The wheel ships every package: a subpackage missing from pyproject.toml installs a broken app."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "regtui").rglob("__init__.py")}
    assert on_disk - listed == set()
    assert "regtui.scenarios" in listed  # the bundled scenario files
