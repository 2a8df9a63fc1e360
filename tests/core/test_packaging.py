"""The wheel ships every package: a subpackage missing from pyproject.toml installs a broken app."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "regtui").rglob("__init__.py")}
    assert on_disk - listed == set()
    assert "regtui.scenarios" in listed  # the bundled scenario files


def test_every_data_file_of_a_package_is_listed_in_pyproject():
    """A file beside the code that is not listed in package-data is left out of the wheel (the digits:
    the digits scenarios would fail after pip install)."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    data = ROOT / "regtui" / "data"
    shipped = {f.name for f in data.iterdir() if f.is_file() and f.suffix != ".py"}
    assert shipped == set(package_data["regtui.data"]) and "digits.csv.gz" in shipped
