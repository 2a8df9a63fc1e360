"""Readable output on a terminal that cannot show Unicode.

Lesson texts use λ, σ, ×, … on purpose; on a non-UTF-8 locale printing them
would die with UnicodeEncodeError. Instead every such character is written as
an ASCII stand-in (any other character: '?').
"""

from __future__ import annotations

import codecs
import io
import sys

# What a terminal that cannot show Unicode gets instead (any other character: '?').
ASCII = {
    "λ": "lambda",
    "μ": "mu",
    "σ": "sigma",
    "·": "*",
    "−": "-",
    "–": "-",
    "—": "--",
    "×": "x",
    "±": "+/-",
    "→": "->",
    "≥": ">=",
    "≤": "<=",
    "≈": "~",
    "‖": "||",
    "…": "...",
    "√": "sqrt",
    "²": "^2",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "⚠": "!",
    "█": "#",
    "░": ".",
}


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(ASCII.get(ch, "?") for ch in text), exc.end


codecs.register_error("regtui-ascii", _ascii_fallback)


class _AsciiEncoder(codecs.IncrementalEncoder):
    def encode(self, text: str, final: bool = False) -> bytes:
        return codecs.ascii_encode(text, "regtui-ascii")[0]


def _find_codec(name: str) -> codecs.CodecInfo | None:
    """ASCII with stand-ins under a name of its own: click re-wraps a stream it sees as plain
    ASCII in UTF-8 (mojibake on an ASCII terminal), but leaves this one alone."""
    if name != "regtui_ascii":
        return None
    return codecs.CodecInfo(
        name="regtui-ascii",
        encode=lambda text, errors="strict": codecs.ascii_encode(text, "regtui-ascii"),
        decode=codecs.ascii_decode,
        incrementalencoder=_AsciiEncoder,
    )


codecs.register(_find_codec)


def readable_streams() -> None:
    """On a non-UTF-8 locale, print ASCII stand-ins instead of dying with UnicodeEncodeError."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # closed when the process started (``>&-``): nothing to print on
            continue
        try:
            encoding = codecs.lookup(stream.encoding or "utf-8").name
        except LookupError:
            continue
        if encoding in ("utf-8", "regtui-ascii") or not hasattr(stream, "reconfigure"):
            continue
        if encoding == "ascii" and hasattr(stream, "buffer"):
            stream.flush()
            setattr(
                sys,
                name,
                io.TextIOWrapper(stream.buffer, encoding="regtui_ascii", line_buffering=stream.line_buffering),
            )
        else:
            stream.reconfigure(errors="regtui-ascii")
