"""What a newcomer waits for: the real ``regtui`` in tmux, timed from outside.

Starts the dashboard in a detached tmux session (120x40 and 80x24 by default),
polls ``tmux capture-pane -p`` and prints, per size and round:

- ``starting``: seconds from starting the process to anything on screen (the CLI's
  "starting the dashboard…" line, printed before Textual is imported);
- ``first``: to the dashboard's first frame (its top line with the device selector);
- ``complete``: to the frame with the form and the footer (the keys) as well;
- ``ready``: to the device selector showing a device (torch loaded, devices found);
- ``quit idle``: from sending ``q`` on a ready, idle dashboard to the process's exit;
- ``switch``: from sending ``tab`` during a run to the view's heading changing on screen;
- ``quit run``: from sending ``q`` during a run to the process's exit.

The run is a long ``weight-decay`` (a temporary scenario file with many
iterations), so it is surely still going when the keys arrive. Figures depend on
the machine's load: report it with them.

    python benchmarks/bench_newcomer.py [--rounds 3] [--sizes 120x40,80x24] [--regtui "python -m regtui"]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SESSION = "regtui-bench-newcomer"
EXIT_MARK = "__REGTUI_EXITED__"
LONG_TOML = """
experiment = "weight-decay"
title = "Long weight decay"
summary = "bench_newcomer: a run that lasts"
[params]
iters = 200000
[[variants]]
name = "no weight decay"
weight_decay = 0.0
[[variants]]
name = "weight decay"
weight_decay = 0.01
"""


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def pane() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


def wait_for(predicate, timeout: float = 60.0, step: float = 0.01) -> float | None:
    """Seconds until predicate(pane text) holds, or None after timeout."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if predicate(pane()):
            return time.perf_counter() - start
        time.sleep(step)
    return None


def start(command: str, size: tuple[int, int]) -> float:
    tmux("kill-session", "-t", SESSION)
    shell = f"{command}; echo {EXIT_MARK}; sleep 600"
    t0 = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", SESSION, "-x", str(size[0]), "-y", str(size[1]), shell], check=True
    )
    return t0


def first_line(text: str) -> str:
    return text.splitlines()[0] if text.strip() else ""


def first_frame(text: str) -> bool:
    """The dashboard's first frame: its top line, with the device selector."""
    return "device" in first_line(text)


def drawn(text: str) -> bool:
    """The dashboard complete: its footer (the keys) is on screen too."""
    return "Quit" in text and first_frame(text)


def ready(text: str) -> bool:
    head = first_line(text)
    return drawn(text) and "detecting" not in head and "loading" not in head


def heading(text: str) -> str:
    """The lines that name the visible view (the tab row and the line below it)."""
    return "\n".join(text.splitlines()[1:4])


def one_round(command: str, size: tuple[int, int], toml: Path) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    t0 = start(f"{command} {shlex.quote(str(toml))}", size)
    out["starting"] = None if wait_for(lambda t: bool(t.strip())) is None else time.perf_counter() - t0
    out["first"] = None if wait_for(first_frame) is None else time.perf_counter() - t0
    out["complete"] = None if wait_for(drawn) is None else time.perf_counter() - t0
    out["ready"] = None if wait_for(ready) is None else time.perf_counter() - t0
    time.sleep(0.5)
    tmux("send-keys", "-t", SESSION, "q")
    out["quit idle"] = wait_for(lambda t: EXIT_MARK in t, timeout=30)

    start(f"{command} {shlex.quote(str(toml))}", size)
    wait_for(ready)
    time.sleep(0.3)
    tmux("send-keys", "-t", SESSION, "r")
    wait_for(lambda t: "running" in t and "/" in t)
    time.sleep(1.5)
    before = heading(pane())
    tmux("send-keys", "-t", SESSION, "Tab")
    out["switch"] = wait_for(lambda t: heading(t) != before, timeout=15)
    time.sleep(1.0)
    tmux("send-keys", "-t", SESSION, "q")
    out["quit run"] = wait_for(lambda t: EXIT_MARK in t, timeout=30)
    tmux("kill-session", "-t", SESSION)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="120x40,80x24")
    parser.add_argument("--regtui", default=f"{shlex.quote(sys.executable)} -m regtui")
    args = parser.parse_args()
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load = f.read().split()[:3]
    print(f"# {platform.node()} {platform.machine()} cores={os.cpu_count()} load={' '.join(load)}")
    with tempfile.TemporaryDirectory() as folder:
        toml = Path(folder) / "long-weight-decay.toml"
        toml.write_text(LONG_TOML, encoding="utf-8")
        # The runs go to a temporary store, never the user's history.
        command = f"REGTUI_RUNS_DIR={shlex.quote(str(Path(folder) / 'runs'))} {args.regtui}"
        for text in args.sizes.split(","):
            w, h = (int(v) for v in text.lower().split("x"))
            rows = [one_round(command, (w, h), toml) for _ in range(args.rounds)]
            for key in rows[0]:
                values = [r[key] for r in rows]
                shown = " ".join("timeout" if v is None else f"{v:.2f}" for v in values)
                good = [v for v in values if v is not None]
                median = f"{statistics.median(good):.2f}" if good else "-"
                print(f"{w}x{h}  {key:10s} median {median} s   rounds: {shown}")


if __name__ == "__main__":
    main()
