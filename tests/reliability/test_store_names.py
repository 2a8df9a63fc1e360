"""The run store tolerates its own folder, and run ids are what `runs list` shows (issue 24, items 3 and 4).

Folders that are not run ids ('²', '١', '007', a number beyond the id range) are ignored by every
command (``runs reindex`` says so once each); a claimed folder without its record breaks nothing;
an id given by the user is ASCII digits in range, anything else one line, exit 2.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import one_error_line

from regtui.specs import ConfigError
from regtui.store import open_store
from regtui.store.runs import MAX_ID, id_of, parse_id

STRANGERS = ["²", "١", "007", "0", str(2**63), "9" * 5000, "12a", " 3"]


@pytest.fixture
def one_run(cli):
    done = cli("--scenario", "bn-stats", "--set", "iters=20", "--json")
    assert done.exit_code == 0, done.stderr
    return open_store()


def test_folders_that_are_no_run_ids_are_ignored_by_every_command(cli, one_run):
    root = one_run.root
    made = 0
    for name in STRANGERS:
        try:
            (root / name).mkdir()
        except OSError:  # a name this file system refuses (too long): nothing to ignore
            continue
        made += 1
    listed = cli("runs", "list")
    assert listed.exit_code == 0 and "Traceback" not in listed.stderr
    assert [r.id for r in open_store().listing().runs] == [1]
    again = cli("--scenario", "bn-stats", "--set", "iters=20", "--json")  # the next id is 2, and it saves
    assert again.exit_code == 0 and "Exception" not in again.stderr
    assert [r.id for r in open_store().listing().runs] == [1, 2]
    reindexed = cli("runs", "reindex")
    assert reindexed.exit_code == 0
    warned = [line for line in reindexed.stderr.splitlines() if "is not a run's folder" in line]
    assert len(warned) == made
    assert all(len(line) < 300 for line in warned)  # a 5,000-digit name is shown cut


def test_a_claimed_folder_without_its_record_breaks_nothing(cli, one_run):
    (one_run.root / "7").mkdir()  # what a crash between the claim and the record leaves
    listed = cli("runs", "list")
    assert listed.exit_code == 0 and listed.stderr == ""
    assert cli("--scenario", "bn-stats", "--set", "iters=20", "--json").exit_code == 0
    assert [r.id for r in open_store().listing().runs] == [1, 8]
    assert cli("runs", "rm", "7").exit_code == 0 and not (one_run.root / "7").exists()


@pytest.mark.parametrize("text", ["²", "١", " 1 ", "1 ", "9" * 5000, "0", "1e3", "", str(MAX_ID + 1)])
def test_an_id_that_is_not_one_is_one_line_exit_2_for_every_command(cli, one_run, text):
    for command in (["show"], ["rm"], ["rerun"], ["export", "--format", "csv", "--out", os.devnull], ["compare", "1"]):
        done = cli("runs", *command, text)
        assert done.exit_code == 2, (command, done.stderr)
        assert "is not a run id" in one_error_line(done.stderr)
        assert len(done.stderr) < 300
    assert [r.id for r in open_store().listing().runs] == [1]  # `runs rm ١` deleted nothing


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_parse_id_takes_exactly_ascii_decimal_ids_in_range(text):
    canonical = text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ID
    try:
        value = parse_id(text)
    except ConfigError as exc:
        assert not canonical and "is not a run id" in str(exc)
    else:
        assert canonical and value == int(text)


@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_folder_names_are_ids_only_written_as_runs_list_writes_them(number):
    name = str(number)
    assert id_of(name) == (number if 1 <= number <= MAX_ID else None)
    assert id_of("0" + name) is None and id_of(name + " ") is None


def test_a_read_only_store_is_listed_from_its_folders_without_an_error(cli, one_run, monkeypatch):
    """SQLite cannot open a WAL index in a folder it may not write (another user's store, a read-only
    mount): the runs are listed from their folders, and that is no error. (Emulated: root may write
    anywhere, so the folder's access check and SQLite's refusal are stood in for.)"""
    from regtui.store.db import Index

    def refuse(self, scenario=None):
        raise ConfigError(f"the run index {self.path}: unable to open database file")

    monkeypatch.setattr(Index, "rows", refuse)
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False)
    listing = open_store().listing()
    assert [r.id for r in listing.runs] == [1] and listing.problems == []
    monkeypatch.undo()
    monkeypatch.setattr(Index, "rows", refuse)  # the same refusal in a writable store is said
    assert open_store().listing().problems
