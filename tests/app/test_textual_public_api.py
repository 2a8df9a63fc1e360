"""The dashboard's widgets and views use Textual through its public API only (issue 19): no name of
Textual's with a leading underscore is read, called or overridden there, so that a new Textual cannot
break them silently. Read from the source: a widget's own private names must not be names its Textual
base classes use (``super()._on_key``), and no other object's private Textual name is reached
(``screen._compositor``)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import textual
from textual.dom import DOMNode

import regtui.app.screens
import regtui.app.views
import regtui.app.widgets

PACKAGES = (regtui.app.widgets, regtui.app.views, regtui.app.screens)
PRIVATE = re.compile(r"_[a-z]\w*")  # _name, not __dunder__
# A class's own private names: the methods it defines, the attributes it reaches on itself.
OWN = re.compile(r"(?:\bdef |\b(?:self|cls|super\(\))\.)(_[a-z]\w*)\b")
ANY = re.compile(r"(?:\bdef |\.)(_[a-z]\w*)\b")  # any private name, on any object


def private_names(source: str, pattern: re.Pattern[str] = OWN) -> set[str]:
    return set(pattern.findall(source))


def textual_source(cls: type) -> bool:
    return cls.__module__ == "textual" or cls.__module__.startswith("textual.")


def modules() -> list[ModuleType]:
    found = []
    for package in PACKAGES:
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            found.append(importlib.import_module(info.name))
    return found


def test_no_widget_uses_or_overrides_a_private_name_of_its_textual_bases():
    clashes = {}
    for module in modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not issubclass(cls, DOMNode):
                continue
            mro = cls.__mro__
            ours = set().union(*(private_names(inspect.getsource(c)) for c in mro if c.__module__.startswith("regtui")))
            theirs = set().union(*(private_names(inspect.getsource(c)) for c in mro if textual_source(c)))
            if ours & theirs:
                clashes[cls.__qualname__] = sorted(ours & theirs)
    assert clashes == {}, "private names of Textual's base classes used or overridden"


def test_no_private_textual_name_of_another_object_is_reached():
    root = Path(textual.__file__).parent
    textual_names = set().union(*(private_names(path.read_text(), ANY) for path in root.rglob("*.py")))
    reached = []
    for module in modules():
        path = Path(inspect.getfile(module))
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Attribute) and PRIVATE.fullmatch(node.attr)):
                continue
            value = node.value
            own = isinstance(value, ast.Name) and value.id in ("self", "cls")
            through_super = isinstance(value, ast.Call) and getattr(value.func, "id", "") == "super"
            if not (own or through_super) and node.attr in textual_names:  # self and super(): the test above
                reached.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    assert reached == []
