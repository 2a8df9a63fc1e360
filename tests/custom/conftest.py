"""Fixtures of the train-kind tests; helpers live in custom_support.py."""

import sys
from pathlib import Path

import pytest

# With --import-mode=importlib the test folder is not on sys.path: put it there for custom_support.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def scenario_file(tmp_path):
    """Write a scenario file (and any extra files) into tmp_path; returns its path."""

    def write(text, name="mine.toml", **files):
        for fname, content in files.items():
            (tmp_path / fname.replace("__", ".")).write_text(content, encoding="utf-8")
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
