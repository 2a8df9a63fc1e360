"""The bn-stats lesson's claims (scenarios/bn-stats.toml): formulas that hold exactly, checked
against the engine's tables and its Summary("worked")."""

from __future__ import annotations

import math

import pytest

NAMES = ("bn1d", "bn2d", "bn3d")


@pytest.fixture(scope="module")
def tutorial(lessons):
    return lessons.run("bn-stats")[0]


def test_text(lessons):
    text = lessons.text("bn-stats")
    for phrase in (
        "0.3 · k",
        "0.51 · k and 0.7 · 0.7 = 0.49",
        "--set batch=1",
        "1·2·2 = 4 and 1·2·2·3 = 12",
        "(1 − 0.3)·0.3 + 0.3·1 = 0.51",
        "s²·n/(n − 1)",
    ):
        assert phrase in text, phrase


def test_tutorial_numbers_worked_and_measured(tutorial):
    worked = tutorial["summary"]["worked"]
    for name in NAMES:
        ups = {(u["iteration"], u["feature"]): u for u in worked[name]["updates"]}
        assert set(ups) == {(i, k) for i in (1, 2) for k in (1, 2, 3)}
        for (it, k), u in ups.items():
            want_mean, want_var = (0.3 * k, 0.7) if it == 1 else (0.51 * k, 0.49)
            for key in ("running_mean", "running_var"):
                assert u[key]["predicted"] == pytest.approx(u[key]["measured"], abs=1e-12)
            assert u["running_mean"]["predicted"] == pytest.approx(want_mean, abs=1e-12)
            assert u["running_var"]["predicted"] == pytest.approx(want_var, abs=1e-12)
        assert ups[(2, 1)]["running_mean"]["formula"] == "(1 − 0.3)·0.3 + 0.3·1"
        for row in worked[name]["eval_output_first_sample"]:
            k = row["feature"]
            assert row["predicted"] == pytest.approx(row["measured"], abs=1e-12)
            assert row["predicted"] == pytest.approx((k - 0.51 * k) / math.sqrt(0.49 + 1e-5), abs=1e-12)
            assert row["predicted"] == pytest.approx(0.7 * k, rel=1e-4)


def test_running_var_follows_the_unbiased_variance(lessons):
    doc, _ = lessons.run("bn-stats", sets={"noise": 1.0, "iters": 3})
    for name in NAMES:
        for u in doc["summary"]["worked"][name]["updates"]:
            n = u["n"]
            assert u["batch_var_unbiased"]["predicted"] == pytest.approx(u["batch_var_biased"] * n / (n - 1))
            assert u["batch_var_biased"] > 0
            for key in ("running_mean", "running_var"):
                assert u[key]["predicted"] == pytest.approx(u[key]["measured"], rel=1e-12)
        for row in doc["summary"]["worked"][name]["eval_output_first_sample"]:
            assert row["predicted"] == pytest.approx(row["measured"], rel=1e-9)


def test_batch_of_one_runs_2d_and_3d_and_reports_pytorchs_refusal_of_1d(lessons):
    doc, _ = lessons.run("bn-stats", sets={"batch": 1, "noise": 0.5})
    assert doc["status"] == "completed"
    message = doc["variants"][0]["final"]["bn1d_refused"]
    assert message.startswith("Expected more than 1 value per channel when training")
    assert doc["summary"]["eval"]["bn1d"] == {"refused": message}
    assert "bn1d" not in doc["tables"] and {"bn2d", "bn3d"} <= set(doc["tables"])
    for name, n in (("bn2d", 4), ("bn3d", 12)):
        for u in doc["summary"]["worked"][name]["updates"]:
            assert u["n"] == n
            for key in ("running_mean", "running_var"):
                assert u[key]["predicted"] == pytest.approx(u[key]["measured"], rel=1e-12)
