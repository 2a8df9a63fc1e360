"""The run document as strict JSON text, written as it goes.

Laid out as ``json.dumps(indent=2)`` lays it out, but a long series (a typed
array of a compact document, or a long list) goes out in chunks through json's
C encoder, so a document of millions of steps is never held as one string or
as a list of Python floats. A NaN or infinity becomes null.
"""

from __future__ import annotations

import io
import json
from array import array
from collections.abc import Callable
from typing import Any, TextIO

from regtui.aggregate import strict_dumps


def to_json(doc: dict[str, Any]) -> str:
    """Strict JSON: a NaN or Infinity token here is a bug, so json refuses it."""
    out = io.StringIO()
    write_json(doc, out)
    return out.getvalue()


_CHUNK = 8192  # values per write of a long array


def write_json(doc: Any, stream: TextIO) -> None:
    """Write ``doc`` as strict JSON, laid out as ``json.dumps(indent=2)`` lays it out.

    Typed arrays (a compact document's series) and long lists go out in chunks
    through json's C encoder, so writing never holds the whole text or a list
    of Python floats per step; NaN and infinities become null.
    """
    _write(doc, stream.write, 0)


def _write(value: Any, write: Callable[[str], Any], level: int) -> None:
    pad = "\n" + "  " * (level + 1)
    if isinstance(value, dict):
        if not value:
            write("{}")
            return
        for i, (key, item) in enumerate(value.items()):
            write(("{" if i == 0 else ",") + pad + json.dumps(str(key)) + ": ")
            _write(item, write, level + 1)
        write("\n" + "  " * level + "}")
    elif isinstance(value, array) or (isinstance(value, (list, tuple)) and _scalars(value)):
        if not value:
            write("[]")
            return
        for start in range(0, len(value), _CHUNK):
            body = strict_dumps(list(value[start : start + _CHUNK]))[1:-1].replace(", ", "," + pad)
            write(("[" if start == 0 else ",") + pad + body)
        write("\n" + "  " * level + "]")
    elif isinstance(value, (list, tuple)):
        if not value:
            write("[]")
            return
        for i, item in enumerate(value):
            write(("[" if i == 0 else ",") + pad)
            _write(item, write, level + 1)
        write("\n" + "  " * level + "]")
    else:
        write(strict_dumps(value))


def _scalars(values: list[Any] | tuple[Any, ...]) -> bool:
    """Numbers, booleans and null only (a string may hold ', ' and must not be split)."""
    return all(v is None or isinstance(v, (int, float)) for v in values)
