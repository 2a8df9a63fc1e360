"""`regtui attach [ID]` refuses in one line what it cannot follow (exit 2), before any dashboard opens."""

from __future__ import annotations

from click.testing import CliRunner

from regtui.cli import main


def attach(*args: str):
    return CliRunner().invoke(main, ["attach", *args])


def test_with_no_run_going_it_says_so():
    result = attach()
    assert result.exit_code == 2 and result.stderr.strip() == (
        "regtui: error: no run is running; 'regtui runs list' shows the runs"
    )


def test_a_run_that_ended_or_does_not_exist_is_refused():
    done = CliRunner().invoke(main, ["--scenario", "weight-decay", "--set", "iters=5", "--set", "hidden=4", "--json"])
    assert done.exit_code == 0
    result = attach("1")
    assert result.exit_code == 2 and "run 1 is not running: it is completed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = attach("7")
    assert result.exit_code == 2 and "run 7: no such run" in result.stderr
