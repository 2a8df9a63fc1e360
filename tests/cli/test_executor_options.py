"""--executor and --ray-address: bad combinations are one line and exit 2, before anything runs."""

import pytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "bn-stats", "--ray-address", "10.0.0.1:6379"], "--ray-address needs --executor ray"),
        (["--executor", "ray"], "--executor and --ray-address need --scenario NAME"),
        (["--scenario", "bn-stats", "--executor", "dask"], "'dask' is not one of 'local', 'ray'"),
        (["--scenario", "bn-stats", "--executor", "ray", "--device", "mps"], "the tasks train on cpu or cuda"),
    ],
)
def test_bad_executor_options_are_one_line(regtui, args, message):
    code, out, err = regtui(*args)
    assert code == 2 and out == ""
    assert err.startswith("regtui: error: ") and message in err and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("127.0.0.1:1", "--ray-address: no Ray cluster answers at 127.0.0.1:1 ("),
        ("nonsense", "--ray-address: 'nonsense' is not HOST:PORT (or auto, or ray://HOST:PORT)"),
    ],
)
def test_an_address_without_a_cluster_is_one_line_at_once(regtui, address, message):
    pytest.importorskip("ray")
    code, out, err = regtui("--scenario", "bn-stats", "--executor", "ray", "--ray-address", address, "--no-save")
    assert code == 2 and out == ""
    assert err.startswith("regtui: error: " + message) and err.count("\n") == 1, err


@pytest.mark.parametrize("sets", [["checkpoint=final"], ["checkpoint=best"]])
def test_checkpoints_on_ray_are_one_line_before_anything_runs(regtui, sets):
    """Ray tasks keep no files in the run's folder: a checkpoint there is refused, not lost."""
    pytest.importorskip("ray")
    code, out, err = regtui(
        "--scenario", "digits-overfit", "--executor", "ray", *(x for s in sets for x in ("--set", s))
    )
    assert code == 2 and out == ""
    assert err.startswith("regtui: error: checkpoint: Ray tasks keep no files") and err.count("\n") == 1, err


def test_an_address_from_ray_address_is_named_as_such(regtui, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    code, out, err = regtui("--scenario", "bn-stats", "--executor", "ray", "--no-save")
    assert (
        code == 2 and out == "" and err.startswith("regtui: error: RAY_ADDRESS: no Ray cluster answers at 127.0.0.1:1")
    ), err
