import json
import math
import statistics
from array import array

from regtui.aggregate import downsample, mean_std
from regtui.events import Final, Metrics, RunFinished, RunSpec, RunStarted, Summary, TableRows
from regtui.json_writer import to_json
from regtui.report import Collector
from regtui.text_report import text_report

NAN = float("nan")


def started(runs, sweep=None, seeds=1):
    return RunStarted("s", "weight-decay", "T", "cpu", 0, "2.x", {"lr": 0.1}, tuple(runs), seeds, sweep)


def run(variant, seed, **params):
    return RunSpec(variant, seed, {"lr": 0.1, **params})


def test_single_seed_series_and_strict_json():
    c = Collector()
    c(started([run("a", 0)]))
    c(Metrics("a", 0, (0, 1), {"train_loss": (1.0, 0.5)}))
    c(Metrics("a", 0, (2,), {"train_loss": (NAN,), "test_loss": (math.inf,)}))
    c(Final("a", 0, {"train_loss": NAN, "diverged": True}))
    c(TableRows("t", ("x", "y"), ((1, NAN),)))
    c(Summary("k", {"v": -math.inf}))
    c(RunFinished("completed", 1.23456))
    doc = json.loads(to_json(c.document()))
    (v,) = doc["variants"]
    assert v["series"] == {"step": [0, 1, 2], "train_loss": [1.0, 0.5, None], "test_loss": [None, None, None]}
    assert v["final"] == {"train_loss": None, "diverged": True}
    assert doc["tables"]["t"] == {"columns": ["x", "y"], "rows": [[1, None]]}
    assert doc["summary"]["k"] == {"v": None}
    assert doc["status"] == "completed" and doc["schema"] == "regtui.run/1" and doc["elapsed_s"] == 1.2346
    assert "NaN" not in to_json(c.document()) and "Infinity" not in to_json(c.document())


def test_unfinished_run_is_interrupted():
    c = Collector()
    c(started([run("a", 0)]))
    c(Metrics("a", 0, (0,), {"train_loss": (1.0,)}))
    doc = c.document()
    assert doc["status"] == "interrupted" and doc["variants"][0]["series"]["train_loss"] == [1.0]


def test_seeds_mean_std_and_diverged_seed_left_out():
    c = Collector()
    c(started([run("a", s) for s in range(4)], seeds=4))
    losses = {0: [3.0, 2.0], 1: [5.0, 1.0], 2: [4.0, 3.0], 3: [NAN, NAN]}
    for s, ys in losses.items():
        c(Metrics("a", s, (0, 1), {"train_loss": tuple(ys)}))
        c(Final("a", s, {"train_loss": ys[-1], "diverged": s == 3}))
    v = c.document()["variants"][0]
    assert v["seeds"] == [0, 1, 2, 3] and v["diverged_seeds"] == [3]
    assert v["series"]["train_loss"] == [4.0, 2.0]
    assert v["series_std"]["train_loss"] == [statistics.stdev([3, 5, 4]), statistics.stdev([2, 1, 3])]
    assert v["final"]["train_loss"] == 2.0 and v["final_std"]["train_loss"] == 1.0
    assert v["final"]["diverged"] is False
    assert [p["seed"] for p in v["per_seed"]] == [0, 1, 2, 3] and v["per_seed"][3]["final"]["diverged"] is True


def test_sweep_summary_names_best_test_loss():
    c = Collector()
    runs = [run(f"wd={wd}", 0, weight_decay=wd) for wd in (0.0, 0.01, 0.1)]
    c(started(runs, sweep={"weight_decay": (0.0, 0.01, 0.1)}))
    for r, (tr, te) in zip(runs, [(0.01, 0.5), (0.1, 0.2), (0.4, 0.45)]):
        c(Final(r.variant, 0, {"train_loss": tr, "test_loss": te}))
    sweep = c.document()["summary"]["sweep"]
    assert sweep["keys"] == ["weight_decay"]
    assert [p["values"]["weight_decay"] for p in sweep["points"]] == [0.0, 0.01, 0.1]
    assert [round(p["gap"], 10) for p in sweep["points"]] == [0.49, 0.1, 0.05]
    assert sweep["best"] == {
        "variant": "wd=0.01",
        "values": {"weight_decay": 0.01},
        "test_loss": 0.2,
        "chosen_on": "test",
    }


def test_helpers():
    assert mean_std([1.0, NAN, 3.0]) == (2.0, math.sqrt(2))
    assert mean_std([NAN]) == (None, None) and mean_std([2.0]) == (2.0, None)
    xs = list(range(1001))
    d = downsample(xs, 200)
    assert len(d) <= 202 and d[0] == 0 and d[-1] == 1000


def test_text_report_mentions_variants_and_tables():
    c = Collector()
    c(started([run("alpha", 0)]))
    c(Final("alpha", 0, {"train_loss": 0.125}))
    c(TableRows("bn1d", ("iteration", "running_mean"), ((1, 0.3),)))
    c(RunFinished("completed", 0.5))
    text = text_report(c.document())
    assert "alpha" in text and "0.125" in text and "table bn1d" in text and "status completed" in text


def test_text_report_points_to_where_histograms_are_seen_instead_of_printing_their_bins():
    c = Collector()
    c(started([run("alpha", 0)]))
    columns = ("variant", "seed", "step", "layer", "of", *(f"bin_{i}" for i in range(1, 21)))
    rows = tuple(("alpha", 0, step, "1.linear", "weights", *range(20)) for step in range(0, 1000, 20))
    c(TableRows("histograms", columns, rows))
    c(RunFinished("completed", 0.5))
    lines = text_report(c.document()).splitlines()
    (line,) = [line for line in lines if line.startswith("table histograms")]
    assert line.startswith("table histograms: 50 rows;") and "Histograms view" in line and "tensorboard" in line
    assert not any("bin_1" in line for line in lines)


def test_text_report_gives_each_final_as_mean_and_std_over_seeds():
    """Over seeds the text says what its numbers are: mean ± std of the seeds that did not diverge,
    and how many did; one seed is its numbers alone."""
    c = Collector()
    c(started([run("a", s) for s in range(4)], seeds=4))
    for s, loss in {0: 2.0, 1: 1.0, 2: 3.0, 3: NAN}.items():
        c(Final("a", s, {"train_loss": loss, "parameters": 85, "diverged": s == 3}))
    c(RunFinished("completed", 0.5))
    lines = text_report(c.document()).splitlines()
    assert (
        "mean ± std over 4 seeds (over the seeds that did not diverge, where some did; "
        "a value alone: the same on every seed)"
    ) in lines
    header, row = lines[lines.index("variant  train_loss  parameters  diverged")], lines[-1]
    assert header and row.split() == ["a", "2", "±", "1", "85", "1/4", "seeds"]  # no "± 0": the same on each seed
    single = Collector()
    single(started([run("a", 0)]))
    single(Final("a", 0, {"train_loss": 0.5, "diverged": False}))
    text = text_report(single.document())
    assert "±" not in text and "seeds" not in text and text.splitlines()[-1].split() == ["a", "0.5", "no"]


def test_write_json_matches_json_dumps_with_non_finite_values_as_null():
    """Streamed arrays (fast path without a per-value walk) agree with json.dumps(indent=2) of the sanitized doc."""
    import io
    import json
    import math

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from regtui.aggregate import sanitize
    from regtui.json_writer import write_json

    # No subnormals: run_plan flushes them to zero process-wide, and hypothesis then refuses to draw them.
    floats = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False)
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), floats)
    leaves = st.one_of(
        scalars,
        st.lists(scalars, max_size=20),
        st.lists(floats, max_size=20).map(lambda xs: array("d", xs)),
        st.text(alphabet="aNI, ", max_size=5),
    )
    docs = st.recursive(
        leaves, lambda inner: st.dictionaries(st.text("abNI", max_size=3), inner, max_size=4), max_leaves=12
    )

    @settings(max_examples=300, deadline=None)
    @given(docs)
    def check(doc):
        out = io.StringIO()
        write_json(doc, out)
        text = out.getvalue()
        expected = json.dumps(sanitize(_plain(doc)), indent=2)
        assert json.loads(text) == json.loads(expected)
        strict = json.loads(text, parse_constant=_refuse)  # NaN, Infinity, -Infinity tokens raise
        assert not any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(strict))

    check()


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, array)):
        return [_plain(v) for v in value]
    return value


def _refuse(token):
    raise AssertionError(f"non-strict JSON token {token}")


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def test_event_lines_are_strict_json_and_round_trip_non_finite_values():
    """encode() takes json's C path unless the text holds NaN/Infinity: then it falls back to null."""
    import math

    from regtui.event_log import decode, encode
    from regtui.events import Curve, Metrics

    m = Metrics("NaN · Infinity", 0, (1, 2, 3), {"train_loss": (0.5, math.nan, math.inf)})
    line = encode(m)
    strict = json.loads(line, parse_constant=_refuse)
    assert strict["values"]["train_loss"] == [0.5, None, None]
    assert strict["variant"] == "NaN · Infinity"  # a name is kept as it is
    back = decode(line)
    assert back.step == (1, 2, 3) and back.values["train_loss"][0] == 0.5
    assert all(math.isnan(v) for v in back.values["train_loss"][1:])
    c = Curve("plain", 0, "fit", (0.0, 1.0), (2.0, -math.inf))
    assert json.loads(encode(c), parse_constant=_refuse)["y"] == [2.0, None]
    fine = Metrics("plain", 0, (1,), {"train_loss": (0.25,)})
    assert json.loads(encode(fine)) == {
        "event": "Metrics",
        "variant": "plain",
        "seed": 0,
        "step": [1],
        "values": {"train_loss": [0.25]},
    }


def test_an_event_line_in_pieces_is_the_line_itself():
    """encode_parts (the store writer lets the GIL go between the pieces) joins to encode's line exactly."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from regtui.event_log import encode, encode_parts
    from regtui.events import Metrics, Progress

    # no subnormals: run_plan flushes them to zero process-wide, and hypothesis then refuses to draw them
    floats = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False)
    numbers = st.one_of(floats, st.integers(-(10**20), 10**20))
    names = st.text(max_size=6)  # quotes, backslashes, "NaN" and any unicode in a name or a metric

    @settings(max_examples=300, deadline=None)
    @given(names, st.integers(0, 9), st.dictionaries(names, st.lists(numbers, min_size=3, max_size=3), max_size=5))
    def check(variant, seed, values):
        m = Metrics(variant, seed, (0, 10, 20), {k: tuple(v) for k, v in values.items()})
        assert "".join(encode_parts(m)) == encode(m)

    check()
    p = Progress(3, 10)
    assert list(encode_parts(p)) == [encode(p)]


def test_text_report_turns_a_finals_table_too_wide_for_the_terminal():
    c = Collector()
    c(started([run("no dropout", 0), run("dropout 0.5", 0)]))
    keys = [f"metric_number_{i}" for i in range(12)]
    c(Final("no dropout", 0, dict.fromkeys(keys, 0.125)))
    c(Final("dropout 0.5", 0, dict.fromkeys(keys, 0.25)))
    c(RunFinished("completed", 0.5))
    doc = c.document()
    wide = text_report(doc).splitlines()  # a pipe or a file: a row per variant however wide
    assert any(line.startswith("variant") and "metric_number_11" in line for line in wide)
    narrow = text_report(doc, width=80).splitlines()
    header = next(line for line in narrow if line.startswith("final"))
    assert header.split() == ["final", "no", "dropout", "dropout", "0.5"]
    rows = {line.split()[0]: line.split()[1:] for line in narrow if line.startswith("metric_number_")}
    assert rows == {k: ["0.125", "0.25"] for k in keys}
    assert max(len(line) for line in narrow if not line.startswith("status")) <= 80
    assert text_report(doc, width=1000) == text_report(doc)  # it fits: unchanged
