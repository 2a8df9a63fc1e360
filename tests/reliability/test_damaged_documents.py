"""A hand-edited or damaged run.json never crashes a reader (issue 24, item 5), found by hypothesis.

A real run's document is damaged at a random place — any value in its tree replaced by another JSON
value, or a key removed — and every command that reads documents (``runs show`` in text and JSON,
``runs compare``, ``runs export`` as CSV, JSON lines and TensorBoard) either works or says one line
and exits 2. An exception escaping a command fails the test (the runner does not catch it).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import one_error_line

from regtui.store import open_store

COMMANDS = (
    ("runs", "show", "1"),
    ("runs", "show", "1", "--json"),
    ("runs", "compare", "1", "2"),
    ("runs", "export", "1", "--format", "csv", "--out", "{out}/csv"),
    ("runs", "export", "1", "--format", "jsonl", "--out", "{out}/runs.jsonl"),
    ("runs", "export", "1", "--format", "tensorboard", "--out", "{out}/tb"),
)

JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False)  # the engine flushes them (runner.py)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON tree, the root's children and below (the root itself stays an object)."""
    found = [at] if at else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:3]):  # a long series: its first items stand for the rest
            found += paths(value, (*at, i))
    return found


def damaged(doc: dict[str, Any], where: tuple[Any, ...], junk: Any, remove: bool) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    parent = out
    for step in where[:-1]:
        parent = parent[step]
    if remove and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = junk
    return out


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A two-variant run's document (weight-decay, a few iterations), read once for every example."""
    from click.testing import CliRunner

    from regtui.cli import main

    root = tmp_path_factory.mktemp("doc-runs")
    done = CliRunner().invoke(
        main, ["--scenario", "weight-decay", "--set", "iters=30", "--json", "--runs-dir", str(root)]
    )
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def two_runs(cli, document):
    """Runs 1 and 2 in this test's store; run 1's document is the one each example damages."""
    for _ in range(2):
        assert cli("--scenario", "weight-decay", "--set", "iters=30", "--json").exit_code == 0
    return open_store().root


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), junk=JUNK, remove=st.booleans())
def test_every_reader_survives_a_damaged_document(cli, document, two_runs, tmp_path, data, junk, remove):
    where = data.draw(st.sampled_from(paths(document)), label="where")
    doc = damaged(document, where, junk, remove)
    (Path(two_runs) / "1" / "run.json").write_text(json.dumps(doc))
    for command in COMMANDS:
        args = [part.format(out=tmp_path) for part in command]
        done = cli(*args)
        assert done.exit_code in (0, 2), (where, junk, args, done.stderr)
        if done.exit_code == 2:
            assert "run 1" in one_error_line(done.stderr), (where, args)


def test_the_paths_reach_the_variants_finals_and_series(document):
    """The damage can land where readers walk: not only the top level."""
    found = paths(document)
    assert ("variants", 0, "final") in found
    assert any(p[:3] == ("variants", 0, "series") and len(p) >= 4 for p in found)
    assert ("params",) in found or any(p[0] == "params" for p in found)


@pytest.fixture(scope="module")
def events_lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The event file of a two-variant run, line by line."""
    from click.testing import CliRunner

    from regtui.cli import main

    log = tmp_path_factory.mktemp("event-log") / "events.jsonl"
    done = CliRunner().invoke(
        main, ["--scenario", "weight-decay", "--set", "iters=30", "--json", "--no-save", "--events", str(log)]
    )
    assert done.exit_code == 0, done.stderr
    return log.read_text(encoding="utf-8").splitlines(keepends=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), junk=JUNK, remove=st.booleans(), cut=st.integers(0, 200))
def test_every_reader_survives_a_damaged_event_file(cli, events_lines, two_runs, tmp_path, data, junk, remove, cut):
    """A run without its document is rebuilt from its events: one event damaged anywhere in its fields, and
    the file cut short after it, still gives a document or one line."""
    i = data.draw(st.integers(0, len(events_lines) - 1), label="line")
    event = json.loads(events_lines[i])
    where = data.draw(st.sampled_from(paths(event) or [("event",)]), label="where")
    line = json.dumps(damaged(event, where, junk, remove)) + "\n"
    rest = "".join(events_lines[i + 1 :])
    folder = Path(two_runs) / "1"
    (folder / "run.json").unlink(missing_ok=True)
    (folder / "events.jsonl").write_text("".join(events_lines[:i]) + line + rest[: len(rest) - cut], encoding="utf-8")
    for command in COMMANDS:
        args = [part.format(out=tmp_path) for part in command]
        done = cli(*args)
        assert done.exit_code in (0, 2), (where, junk, args, done.stderr)
        if done.exit_code == 2:
            assert "run 1" in one_error_line(done.stderr), (where, args)


@pytest.mark.parametrize(("event", "field"), [("RunStarted", "params"), ("Metrics", "values"), ("RunStarted", "runs")])
def test_a_null_where_an_event_has_a_table_is_one_line_or_the_run_as_far_as_readable(
    cli, events_lines, two_runs, event, field
):
    """Found by the test above: a null in a RunStarted's params or a Metrics' values once crashed `runs show`."""
    i = next(i for i, line in enumerate(events_lines) if json.loads(line)["event"] == event)
    damaged_line = json.dumps({**json.loads(events_lines[i]), field: None}) + "\n"
    folder = Path(two_runs) / "1"
    (folder / "run.json").unlink(missing_ok=True)
    (folder / "events.jsonl").write_text("".join(events_lines[:i]) + damaged_line + "".join(events_lines[i + 1 :]))
    done = cli("runs", "show", "1")
    assert done.exit_code in (0, 2)
    if done.exit_code == 2:
        assert "run 1" in one_error_line(done.stderr)
