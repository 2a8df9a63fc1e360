"""The bn-eval lesson: eval and train mode against the BatchNorm formula, and the explanation's claims."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from regtui import scenario
from regtui.engine import run_plan
from regtui.engine.bn_eval import TEST_BATCHES, draw_batches, setup
from regtui.engine.loop import CHUNK
from regtui.events import TableRows
from regtui.specs import ConfigError


def _plan(sets: dict | None = None, seed: int = 0):
    return scenario.plan(scenario.load(scenario.find("bn-eval")), sets=sets or {}, sweep=None, seed=seed)


def _rows(sets: dict | None = None, seed: int = 0) -> dict[tuple[str, int], dict]:
    events: list = []
    finished = run_plan(_plan(sets, seed), "cpu", emit=events.append)
    assert finished.status == "completed", finished.error
    table = next(e for e in events if isinstance(e, TableRows) and e.name == "batch_eval")
    return {(r[1], r[2]): dict(zip(table.columns, r)) for r in table.rows}


def _trained(p: dict, seed: int):
    """The engine's model trained by a plain torch.optim.SGD loop (same batches, drawn per chunk)."""
    model, centers, x_test, y_test, g = setup(p, seed)
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"])
    model.train()
    done = 0
    while done < p["steps"]:
        n = min(CHUNK, p["steps"] - done)
        xs, labels = draw_batches(p, centers, n, g)
        for i in range(n):
            opt.zero_grad()
            F.cross_entropy(model(xs[i]), labels[i]).backward()
            opt.step()
        done += n
    return model, x_test, y_test


def _by_hand(model, x: torch.Tensor, batch_stats: bool) -> torch.Tensor:
    lin1, bn, _, lin2 = model
    with torch.no_grad():
        h = x @ lin1.weight.T + lin1.bias
        if batch_stats:
            mean, var = h.mean(0), h.var(0, unbiased=False)
        else:
            mean, var = bn.running_mean, bn.running_var
        z = (h - mean) / torch.sqrt(var + bn.eps) * bn.weight + bn.bias
        return torch.relu(z) @ lin2.weight.T + lin2.bias


def test_eval_and_train_mode_match_the_formula():
    plan = _plan({"steps": 40})
    rows = _rows({"steps": 40})
    model, x, y = _trained(plan.params, plan.seed)
    reference = _by_hand(model, x, batch_stats=False)  # (x − running_mean)/sqrt(running_var + eps)·γ + β
    model.eval()
    for b in TEST_BATCHES:
        with torch.no_grad():
            out = torch.cat([model(x[i : i + b]) for i in range(0, len(x), b)])
        assert torch.allclose(out, reference, atol=1e-5, rtol=0)
        assert rows[("eval", b)]["test_loss"] == pytest.approx(float(F.cross_entropy(reference, y)), rel=1e-5)
        assert rows[("eval", b)]["max_abs_diff"] < 1e-5
    for b in TEST_BATCHES[1:]:  # train mode: each chunk's own mean and biased variance
        out = torch.cat([_by_hand(model, x[i : i + b], batch_stats=True) for i in range(0, len(x), b)])
        assert rows[("train", b)]["test_loss"] == pytest.approx(float(F.cross_entropy(out, y)), rel=1e-4)
    refused = rows[("train", 1)]
    assert refused["test_loss"] is None and "Expected more than 1 value per channel" in refused["error"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_explanation_claims_hold(seed):
    rows = _rows(seed=seed)
    ev = rows[("eval", 64)]["test_loss"]
    assert all(rows[("eval", b)]["max_abs_diff"] <= 2e-6 for b in TEST_BATCHES)
    assert all(rows[("eval", b)]["test_loss"] == pytest.approx(ev, rel=1e-6) for b in TEST_BATCHES)
    assert 0.13 <= ev <= 0.17 and rows[("eval", 64)]["test_accuracy"] == pytest.approx(0.9375)
    b2, b8, b64 = (rows[("train", b)]["test_loss"] for b in (2, 8, 64))
    assert 1.1 <= b2 <= 1.33 and 0.26 <= b8 <= 0.48 and 0.13 <= b64 <= 0.22
    assert b2 > b8 > b64 >= ev - 0.002
    assert 0.62 <= rows[("train", 2)]["test_accuracy"] <= 0.74
    shifted = _rows({"shift": 2.0}, seed=seed)
    for b in TEST_BATCHES[1:]:
        assert shifted[("train", b)]["test_loss"] == pytest.approx(rows[("train", b)]["test_loss"], rel=1e-5)
    assert 0.4 <= shifted[("eval", 64)]["test_loss"] <= 0.85


def test_bad_values_are_one_line_errors():
    for sets, key in (({"batch": 1}, "batch"), ({"classes": 1}, "classes"), ({"bn_momentum": 2}, "bn_momentum")):
        with pytest.raises(ConfigError, match=key) as err:
            _plan(sets)
        assert "\n" not in str(err.value)


def test_a_batch_of_two_normalizes_to_plus_minus_one():
    bn = torch.nn.BatchNorm1d(3).train()
    x = torch.tensor([[0.3, -2.0, 5.0], [1.1, 4.0, 5.5]], dtype=torch.float64)
    bn = bn.double()
    d = (x[1] - x[0]) / 2
    expected = d / torch.sqrt(d**2 + bn.eps)
    with torch.no_grad():
        out = bn(x)
    assert torch.allclose(out[1], expected) and torch.allclose(out[0], -expected)
