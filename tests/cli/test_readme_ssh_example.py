"""The README's SSH example, run for real: detach, follow (then Ctrl-C), stop; each output as the README shows it."""

import os
import re
import signal
from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("\n## Over SSH: runs that outlive the terminal\n", 1)[1].split("\n## ", 1)[0]
BLOCK = SECTION.split("```console\n", 1)[1].split("```", 1)[0].splitlines()

STARTED = re.compile(
    r"^regtui: run (\d+) goes on in the background \(process \d+, output in .*/runs/\1/detached\.log\); "
    r"regtui runs follow \1 · regtui runs stop \1$"
)
PROGRESS = re.compile(
    r"^run (\d+) · \d+/\d+ model-steps train · \d+ model-steps/s · \d+:\d\d · ETA \d+:\d\d(:\d\d)? · "
    r"no weight decay: train_loss \S+ test_loss \S+ · weight decay: train_loss \S+ test_loss \S+$"
)


def shown(command):
    """The README's lines after ``$ COMMAND`` up to the next prompt: what it says the command prints."""
    start = next(i for i, line in enumerate(BLOCK) if line.startswith(f"$ {command}"))
    rest = BLOCK[start + 1 :]
    return rest[: next((i for i, line in enumerate(rest) if line.startswith("$ ")), len(rest))]


def command_args(prefix):
    line = next(line for line in BLOCK if line.startswith(f"$ {prefix}"))
    return line.split("#")[0].split()[2:]  # after "$ regtui"


def test_the_readme_ssh_example_does_what_it_shows(regtui, spawn, wait_until):
    readme_id = shown("regtui --scenario")[0]
    assert readme_id.isdigit()
    code, out, err = regtui(*command_args("regtui --scenario"))
    assert code == 0, err
    run_id = out.strip()
    assert run_id.isdigit() and out == f"{run_id}\n"
    assert STARTED.match(shown("regtui --scenario")[1]).group(1) == readme_id  # the README's line has the form
    assert STARTED.match(err.rstrip("\n")).group(1) == run_id  # … that the command prints

    follow_args = command_args("regtui runs follow")
    assert follow_args == ["runs", "follow", readme_id]
    follow = spawn("runs", "follow", run_id)
    lines = shown("regtui runs follow")
    assert PROGRESS.match(lines[0]).group(1) == readme_id and lines[1] == "^C"
    wait_until(lambda: any(PROGRESS.match(line) for line in follow.out().splitlines()), "a progress line")
    os.kill(follow.pid, signal.SIGINT)
    assert follow.wait() == 130
    assert follow.err().rstrip("\n") == lines[2].replace(readme_id, run_id)

    assert command_args("regtui runs stop") == ["runs", "stop", readme_id]
    code, _, err = regtui("runs", "stop", run_id)
    assert code == 0
    assert err.rstrip("\n") == shown("regtui runs stop")[0].replace(readme_id, run_id)
