"""The lines of `regtui runs follow` (regtui.cli.following): what each part of a line says."""

import math

from regtui.cli.following import EXIT_CODES, Latest, clock_text
from regtui.events import Metrics, RunStarted


def test_clock_text():
    assert [clock_text(s) for s in (0, 7.9, 65, 3725)] == ["0:00", "0:07", "1:05", "1:02:05"]
    assert clock_text(None) == clock_text(math.inf) == "?"


def test_latest_metrics_are_each_variants_last_values_mean_over_its_seeds():
    latest = Latest()
    latest.add(
        [
            Metrics("a", 0, (1, 2), {"train_loss": (4.0, 2.0), "test_loss": (5.0, 3.0), "norm": (1.0, 1.0)}),
            Metrics("a", 1, (1, 2), {"train_loss": (8.0, 4.0), "test_loss": (9.0, math.nan), "norm": (1.0, 1.0)}),
            Metrics("b", 0, (1,), {"train_loss": (0.5,), "test_loss": (0.25,), "norm": (2.0,)}),
        ]
    )
    # the first two metrics the run logs; a diverged seed's NaN is left out of the mean
    assert latest.text() == "a: train_loss 3 test_loss 3 · b: train_loss 0.5 test_loss 0.25"
    latest.add([Metrics(v, 0, (1,), {"train_loss": (1.0,)}) for v in ("c", "d", "e")])
    assert latest.text().endswith(" · c: train_loss 1 · +2 more")


def test_exit_codes_are_the_headless_runs_own():
    assert EXIT_CODES == {"completed": 0, "failed": 1, "stopped": 130, "interrupted": 130}


def started(experiment):
    return RunStarted("s", experiment, "t", "cpu", 0, "2", {}, ())


def test_a_tracked_runs_metric_logged_now_and_then_shows_its_last_logged_value():
    """regtui.track fills the steps where a metric was not logged with NaN: those are no values."""
    latest = Latest()
    latest.add(
        [started("track"), Metrics("run", 0, (100, 200), {"train_loss": (0.5, 0.4), "test_loss": (0.7, math.nan)})]
    )
    latest.add([Metrics("run", 0, (300,), {"train_loss": (0.3,), "test_loss": (math.nan,)})])
    assert latest.text() == "run: train_loss 0.3 test_loss 0.7"


def test_in_regtuis_own_runs_a_nan_is_a_diverged_value_not_a_gap():
    latest = Latest()
    latest.add([started("weight-decay"), Metrics("a", 0, (1, 2), {"train_loss": (0.5, math.nan)})])
    assert latest.text() == "a: train_loss nan"
