import pytest


@pytest.fixture(autouse=True)
def _run_history_in_tmp(tmp_path, monkeypatch):
    """Runs the tests save go to a temporary store, never the user's (subprocesses inherit it)."""
    monkeypatch.setenv("REGTUI_RUNS_DIR", str(tmp_path / "runs"))


@pytest.fixture
def write_toml(tmp_path):
    """Write a scenario file and return its path."""

    def write(text: str, name: str = "mine.toml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def wd_file(write_toml):
    return write_toml(
        """
experiment = "weight-decay"
title = "WD"
summary = "two nets"
[params]
hidden = 8
iters = 5
[[variants]]
name = "no weight decay"
weight_decay = 0.0
[[variants]]
name = "weight decay"
weight_decay = 0.01
""",
        "wd.toml",
    )


# --- claims that must hold on any machine -------------------------------------------------------
# The lesson, pitfall and digits claims, and the README's printed examples, depend on float32
# training runs whose figures change with the CPU's kernels, the BLAS and the device. They are
# marked ``numerics``: .ci/run runs them a second time under other kernels and rounding
# (ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE), so a figure pinned to one machine fails here
# before it lands; ``--lesson-device cuda`` runs them on a GPU where one exists.
NUMERICS_PATHS = (
    "tests/lessons/",
    "tests/pitfalls/",
    "tests/custom/test_digits_scenarios.py",
    "tests/core/test_readme.py",
)


def pytest_addoption(parser):
    parser.addoption(
        "--lesson-device",
        default="cpu",
        help="device the lesson, pitfall and digits claims train on (cpu, cuda, cuda:N, mps)",
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.relative_to(config.rootpath).as_posix().startswith(NUMERICS_PATHS):
            item.add_marker(pytest.mark.numerics)


@pytest.fixture(scope="session")
def lesson_device(request) -> str:
    """The device named by --lesson-device; the tests that take it are skipped where it does not exist."""
    device = request.config.getoption("--lesson-device")
    if device != "cpu":
        import torch

        kind = device.split(":")[0]
        available = torch.cuda.is_available() if kind == "cuda" else kind == "mps" and torch.backends.mps.is_available()
        if not available:
            pytest.skip(f"--lesson-device {device}: no such device here")
    return device
