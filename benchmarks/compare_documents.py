"""Compare the JSON documents of two regtui builds, scenario by scenario.

Used to show a refactor changes no number: run every bundled scenario at a
fixed seed before and after, then

    python benchmarks/compare_documents.py BEFORE_DIR AFTER_DIR [--rename old=new ...]

Each folder holds one ``NAME.json`` per scenario. ``elapsed_s`` is ignored;
``--rename`` maps parameter names renamed on purpose. Exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _renamed(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {renames.get(k, k): _renamed(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, renames) for v in value]
    return value


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}/{k}: only on one side" for k in sorted(set(a) ^ set(b))]
        for k in a.keys() & b.keys():
            out += differences(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rename", action="append", default=[], help="old=new parameter name")
    args = parser.parse_args()
    renames = dict(item.split("=", 1) for item in args.rename)
    bad = 0
    for old in sorted(args.before.glob("*.json")):
        new = args.after / old.name
        a = _renamed(json.loads(old.read_text()), renames)
        b = json.loads(new.read_text()) if new.exists() else None
        if b is None:
            print(f"{old.stem}: missing after")
            bad += 1
            continue
        a.pop("elapsed_s", None)
        b.pop("elapsed_s", None)
        diffs = differences(a, b)
        print(f"{old.stem}: {'identical' if not diffs else f'{len(diffs)} difference(s)'}")
        for d in diffs[:10]:
            print("   ", d)
        bad += bool(diffs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
