"""What regtui measures of a tracked model, checked against plain-PyTorch references computed here.

Every figure is a formula over the very tensors the loop used (recomputed on a copy of the model),
never the code's own output; hooks exist only around logging steps.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import regtui

LOG_EVERY = 5


def mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(step)
    return torch.randn(12, 8, generator=g), torch.randint(0, 3, (12,), generator=g)


def train(run, model, opt, steps, reference=None):
    """The loop: at each logging step, ``reference(step, copy of the model before the step, x)`` first."""
    for step in range(steps):
        x, y = batch(step)
        if reference is not None and step % LOG_EVERY == 0:
            reference(step, copy.deepcopy(model), x)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        run.log(step, train_loss=loss.item())


def test_layer_statistics_are_each_layers_output_mean_and_std_at_the_logging_step(tmp_path):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    expected = {}

    def reference(step, twin, x):
        outs, h = [], x
        for layer in twin:
            h = layer(h)
            outs.append(h.detach().double())
        expected[step] = ([o.mean().item() for o in outs], [o.std().item() for o in outs])

    with regtui.track("stats", model=model, optimizer=opt, log_every=LOG_EVERY, runs_dir=tmp_path) as run:
        train(run, model, opt, 11, reference)
    layers = run.collector.variant_record("stats")["layers_training"]
    assert layers["step"] == 10
    assert layers["mean"] == pytest.approx(expected[10][0], rel=1e-9, abs=1e-12)
    assert layers["std"] == pytest.approx(expected[10][1], rel=1e-9)
    assert layers["first_nonfinite_layer"] is None
    assert run.collector.version("layers") == 3  # steps 0, 5 and 10 only


def test_running_statistics_sit_beside_the_batch_statistics_of_the_batchnorm_input(tmp_path):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batch_stats = {}

    def reference(step, twin, x):
        h = twin[0](x).detach().double()  # the BatchNorm's input
        batch_stats[step] = (h.mean(0)[:4].tolist(), h.var(0, unbiased=True)[:4].tolist())

    with regtui.track("bn", model=model, optimizer=opt, log_every=LOG_EVERY, runs_dir=tmp_path) as run:
        train(run, model, opt, 6, reference)
    table = run.collector.document()["tables"]["running_stats"]
    rows = [dict(zip(table["columns"], r)) for r in table["rows"]]
    assert [r["step"] for r in rows] == [0] * 4 + [5] * 4
    assert {r["layer"] for r in rows} == {"1"}
    last = rows[4:]
    bn = model[1]
    assert [r["running_mean"] for r in last] == pytest.approx(bn.running_mean[:4].tolist(), rel=1e-6)
    assert [r["running_var"] for r in last] == pytest.approx(bn.running_var[:4].tolist(), rel=1e-6)
    assert [r["batch_mean"] for r in last] == pytest.approx(batch_stats[5][0], rel=1e-9, abs=1e-12)
    assert [r["batch_var"] for r in last] == pytest.approx(batch_stats[5][1], rel=1e-9)


def test_weight_and_gradient_norms_per_layer_are_the_l2_norms_after_the_step(tmp_path):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with regtui.track("norms", model=model, optimizer=opt, log_every=LOG_EVERY, runs_dir=tmp_path) as run:
        train(run, model, opt, 6)
    series = run.collector.variant_record("norms")["series"]
    assert series["step"][5] == 5
    for name, layer in (("0", model[0]), ("1", model[1]), ("3", model[3])):
        weights = math.sqrt(sum((q.double() ** 2).sum().item() for q in layer.parameters()))
        grads = math.sqrt(sum((q.grad.double() ** 2).sum().item() for q in layer.parameters()))
        assert series[f"weight_norm/{name}"][5] == pytest.approx(weights, rel=1e-6)
        assert series[f"grad_norm/{name}"][5] == pytest.approx(grads, rel=1e-6)
        assert math.isnan(series[f"weight_norm/{name}"][4])  # only logging steps are measured
    assert "weight_norm/2" not in series  # a ReLU has no parameters


def test_the_share_of_dead_relu_units_counts_units_zero_for_every_sample(tmp_path):
    torch.manual_seed(0)
    first = nn.Linear(8, 16)
    with torch.no_grad():
        first.bias[:4] = -100.0  # 4 of 16 units can never be positive on these inputs: dead
    model = nn.Sequential(first, nn.ReLU(), nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the step's forward is the reference's
    x, _ = batch(0)
    expected = (torch.relu(first(x)) == 0).all(0).double().mean().item()
    with regtui.track("dead", model=model, optimizer=opt, log_every=LOG_EVERY, runs_dir=tmp_path) as run:
        train(run, model, opt, 1)
    assert expected >= 0.25
    assert run.collector.variant_record("dead")["series"]["dead_relu/1"] == [expected]


def test_hooks_exist_only_from_the_log_before_a_logging_step_to_its_log(tmp_path):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    armed_after = []
    with regtui.track("hooks", model=model, optimizer=opt, log_every=LOG_EVERY, runs_dir=tmp_path) as run:
        for step in range(16):
            x, y = batch(step)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.log(step, train_loss=loss.item())
            if run.watch.hooks.armed:
                armed_after.append(step)
    assert armed_after == [4, 9, 14]  # the steps right before 5, 10 and 15
    assert not run.watch.hooks.armed  # closing removes them


def test_a_loop_that_logs_every_k_steps_is_measured_at_the_multiples_of_log_every(tmp_path):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    measured = []
    with regtui.track("stride", model=model, optimizer=opt, log_every=10, runs_dir=tmp_path) as run:
        for step in range(41):
            x, y = batch(step)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 5 == 0:
                before = run.collector.version("layers")
                run.log(step, train_loss=loss.item())
                run._flush()
                if run.collector.version("layers") > before:
                    measured.append(step)
    assert measured == [0, 10, 20, 30, 40]


def test_evaluate_logs_the_eval_and_train_mode_results_and_changes_nothing(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    x, y = batch(1)

    def loss_now():
        with torch.no_grad():
            return {"test_loss": F.cross_entropy(model(x), y).item()}

    model.eval()
    eval_loss = loss_now()["test_loss"]
    model.train()
    with torch.random.fork_rng():
        state = copy.deepcopy(model.state_dict())
        train_loss = loss_now()["test_loss"]
        model.load_state_dict(state)
    rng, buffers = torch.get_rng_state(), [b.clone() for b in model.buffers()]
    with regtui.track("gap", model=model, runs_dir=tmp_path) as run:
        model.eval()
        assert run.evaluate(3, loss_now) == {"test_loss": eval_loss}
        model.train()
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(a, b) for a, b in zip(model.buffers(), buffers))
    assert model.training and model[3].training
    series = run.collector.variant_record("gap")["series"]
    assert series["test_loss"] == [eval_loss]
    assert series["test_loss_train_mode"] == [pytest.approx(train_loss, rel=1e-6)]


def test_step_rows_gather_merged_rows_with_nan_where_a_step_lacks_a_key():
    """The columns equal rows built the plain way: one dict per step, calls for one step merged."""
    from regtui.tracking.scalars import StepRows

    calls = [(0, {"a": 1.0}), (0, {"b": 2.0}), (1, {"a": 3.0}), (3, {"b": 4.0}), (3, {"b": 5.0, "c": 6.0}), (4, {})]
    rows = StepRows()
    plain: dict[int, dict[str, float]] = {}
    for step, values in calls:
        rows.add(step, values)
        plain.setdefault(step, {}).update(values)
    assert rows.latest() == {"a": 3.0, "b": 5.0, "c": 6.0}
    event = rows.take("v")
    assert event.step == (0, 1, 3, 4) and len(rows) == 0 and rows.take("v") is None
    for key, column in event.values.items():
        expected = [plain[s].get(key, math.nan) for s in event.step]
        assert column == pytest.approx(expected, nan_ok=True)
    assert set(event.values) == {"a", "b", "c"}
