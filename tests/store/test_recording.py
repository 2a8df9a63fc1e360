"""The Recording's writer thread: what it leaves out changes no rebuilt document."""

import json

from regtui.event_log import read
from regtui.report import Collector
from regtui.store.recording import _latest


def test_dropping_superseded_curves_and_progress_rebuilds_the_same_document(cli, tmp_path):
    events_file = tmp_path / "ev.jsonl"
    code, out, err = cli(
        "--scenario",
        "dropout",
        "--json",
        "--device",
        "cpu",
        "--set",
        "iters=60",
        "--set",
        "hidden=8",
        "--set",
        "scaling_n=100",
        "--events",
        events_file,
        "--no-save",
    )
    assert code == 0, err
    events = list(read(events_file))
    kept = _latest(events)
    assert len(kept) < len(events)  # the fit curve is sent again and again
    for batch in (events, kept):
        collector = Collector()
        for event in batch:
            collector(event)
        assert collector.document() == json.loads(out)


def test_fit_curves_are_streamed_at_most_once_a_second_each(monkeypatch):
    """A Curve replaces the last one whole: the stream holds back one sent less than CURVE_S ago."""
    from regtui.events import Curve, Metrics
    from regtui.store import recording

    clock = [100.0]
    monkeypatch.setattr(recording.time, "monotonic", lambda: clock[0])
    throttle = recording._CurveThrottle()
    c = [Curve("plain", 0, "fit", (0.0,), (float(i),)) for i in range(4)]
    m = Metrics("plain", 0, (1,), {"train_loss": (0.5,)})
    assert throttle.due([c[0], m]) == [m, c[0]]  # the first goes out at once
    clock[0] += 0.3
    assert throttle.due([c[1], m]) == [m]  # held
    clock[0] += 0.3
    assert throttle.due([c[2]]) == []  # replaces the held one
    clock[0] += 0.5
    assert throttle.due([]) == [c[2]]  # a second after the last one sent: the newest goes out
    other = Curve("decay", 0, "fit", (0.0,), (9.0,))
    assert throttle.due([c[3], other]) == [other]  # per model and name
