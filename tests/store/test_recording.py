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
