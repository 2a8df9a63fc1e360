"""Each pitfall check on a model that has the pitfall and on one that does not, and no false alarm
on the bundled ``train`` scenarios. A pitfall is a warning naming its lesson, kept in the document."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import regtui
from regtui import scenario as sc
from regtui.engine.custom import data as data_mod
from regtui.engine.custom import model as model_mod
from regtui.engine.custom.model_run import batch_order
from regtui.engine.decay_groups import param_groups
from regtui.store import open_store
from regtui.tracking import PitfallWarning

LOG_EVERY = 5


def train(model, opt, steps=6, batch=16, shape=(8,), classes=3, evaluate=None, poison=None, ignore=(), runs_dir=None):
    """A tracked loop on random data; returns the pitfalls it found (codes) and the run."""
    g = torch.Generator().manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with regtui.track(
            "pitfalls", model=model, optimizer=opt, log_every=LOG_EVERY, ignore=ignore, runs_dir=runs_dir
        ) as run:
            for step in range(steps):
                if poison is not None and step == poison[0]:
                    poison[1]()
                x, y = torch.randn(batch, *shape, generator=g), torch.randint(0, classes, (batch,), generator=g)
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                run.log(step, train_loss=loss.item())
                if evaluate is not None and step % LOG_EVERY == 0:
                    evaluate(run, step, model, x, y)
    told = [str(w.message) for w in caught if issubclass(w.category, PitfallWarning)]
    codes = [w["check"] for w in run.warnings]
    assert len(told) == len(codes)  # each pitfall is told once, as a warning
    return codes, run


def mlp(*layers):
    torch.manual_seed(0)
    return nn.Sequential(*layers)


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=0.01)


def test_adam_with_weight_decay_is_found_and_adamw_is_not():
    model = mlp(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    assert train(model, torch.optim.Adam(model.parameters(), weight_decay=1e-2))[0] == ["adam_weight_decay"]
    assert train(model, torch.optim.AdamW(param_groups(model, 1e-2, decay_all=False)))[0] == []
    assert train(model, torch.optim.Adam(model.parameters()))[0] == []


def test_decay_on_norm_and_bias_parameters_is_found_and_groups_without_it_are_not():
    model = mlp(nn.Linear(8, 16), nn.LayerNorm(16), nn.ReLU(), nn.Linear(16, 3))
    codes, run = train(model, torch.optim.AdamW(model.parameters(), weight_decay=1e-2))
    assert codes == ["decay_on_norm_and_bias"]
    assert "4 bias and normalization parameters (0.bias, 1.weight, 1.bias, …)" in run.warnings[0]["message"]
    assert run.warnings[0]["lesson"] == "regtui --scenario no-decay-groups"
    assert train(model, torch.optim.AdamW(param_groups(model, 1e-2, decay_all=False)))[0] == []


def test_dropout_right_before_batchnorm_is_found_and_after_it_is_not():
    bad = mlp(nn.Linear(8, 16), nn.Dropout(0.5), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    assert train(bad, sgd(bad))[0] == ["dropout_before_batchnorm"]
    good = mlp(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    assert train(good, sgd(good))[0] == []


def test_batchnorm_at_batch_2_is_found_and_at_16_or_on_8x8_images_is_not():
    model = mlp(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    codes, run = train(model, sgd(model), batch=2)
    assert codes == ["batchnorm_small_batch"] and run.warnings[0]["step"] == 0
    assert train(model, sgd(model), batch=16)[0] == []
    conv = mlp(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(256, 3))
    assert train(conv, sgd(conv), batch=2, shape=(1, 8, 8))[0] == []  # 2·8·8 values per channel


def evaluate_in(mode):
    def evaluate(run, step, model, x, y):
        model.train(mode == "train")
        run.evaluate(step, lambda: {"test_loss": F.cross_entropy(model(x), y).item()})
        model.train()

    return evaluate


def test_evaluating_in_train_mode_is_found_and_in_eval_mode_is_not(tmp_path):
    model = mlp(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    codes, run = train(model, sgd(model), evaluate=evaluate_in("train"), runs_dir=tmp_path)
    assert codes == ["eval_in_train_mode"]
    series = open_store(tmp_path).document(run.id)["variants"][0]["series"]
    assert series["test_loss"][0] is not None and series["test_loss_train_mode"][0] is not None
    assert train(model, sgd(model), evaluate=evaluate_in("eval"))[0] == []


def deep(init, depth=10, width=64):
    torch.manual_seed(0)
    layers = []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        init(linear.weight)
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(nn.Linear(8, width), *layers, nn.Linear(width, 3))


def test_activations_growing_a_thousandfold_are_found_and_kaiming_init_is_not():
    # N(0, 1) weights multiply a ReLU net's activation std by about sqrt(width / 2) = 5.7 per layer.
    exploding = deep(nn.init.normal_)
    codes, run = train(exploding, torch.optim.SGD(exploding.parameters(), lr=0.0), steps=1)
    assert codes == ["activation_scale"] and "grows" in run.warnings[0]["message"]
    stable = deep(lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"))
    assert train(stable, torch.optim.SGD(stable.parameters(), lr=0.0), steps=1)[0] == []


class Frozen:
    """An optimizer that changes nothing: the poisoned weight stays the one non-finite value (an SGD
    step, even at lr 0, would spread NaN gradients into every layer's weights: 0·NaN is NaN)."""

    param_groups: tuple = ()

    def zero_grad(self):
        pass

    def step(self):
        pass


def test_a_nonfinite_loss_is_found_with_the_first_layer_that_went_inf():
    model = mlp(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = Frozen()

    def poison():
        with torch.no_grad():
            model[2].weight[0, 0] = float("inf")

    codes, run = train(model, opt, steps=5, poison=(2, poison))
    assert codes == ["nonfinite_loss"]
    message = run.warnings[0]["message"]
    assert "at step 2" in message and "the first layer to go inf/NaN: 2 (step 3)" in message
    final = run.collector.variant_record("pitfalls")["final"]
    assert final["diverged"] is True and final["first_nonfinite_step"] == 2
    clean = mlp(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    assert train(clean, Frozen(), steps=5)[0] == []


def test_a_silenced_check_is_neither_told_nor_stored(tmp_path):
    model = mlp(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = torch.optim.Adam(model.parameters(), weight_decay=1e-2)
    codes, run = train(model, opt, ignore=("adam_weight_decay",), runs_dir=tmp_path)
    assert codes == []
    assert "warnings" not in open_store(tmp_path).document(run.id)["summary"]


def test_the_pitfalls_are_in_the_document_with_their_lesson(tmp_path):
    model = mlp(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    _, run = train(model, torch.optim.Adam(model.parameters(), weight_decay=1e-2), runs_dir=tmp_path)
    [warning] = open_store(tmp_path).document(run.id)["summary"]["warnings"]
    assert warning["check"] == "adam_weight_decay" and warning["lesson"] == "regtui --scenario adamw"


DIGITS = [(name, v) for name in ("digits-overfit", "digits-norms") for v in range(4)]


@pytest.mark.numerics
@pytest.mark.parametrize(("name", "variant"), DIGITS)
def test_no_false_alarm_on_the_bundled_train_scenarios(name, variant):
    """Each variant of the bundled digits scenarios, trained for 3 logging steps with its own model,
    optimizer, batch size and an evaluation in eval mode, as the train kind runs it: no pitfall."""
    scenario = sc.load(sc.find(name))
    runs = sc.plan(scenario).runs
    spec = runs[variant * len(runs) // 4]
    p = spec.params
    data = data_mod.load(scenario.tables, scenario.path.parent, p, spec.seed)
    torch.manual_seed(spec.seed)
    model, _ = model_mod.build(scenario.tables, scenario.path.parent, data.input_shape, data.outputs, p)
    opt = model_mod.optimizer(model, p)
    order = batch_order(spec.seed, len(data.x_train), p["batch"], True, torch.device("cpu"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with regtui.track(name, model=model, optimizer=opt, log_every=10) as run:
            for step in range(21):
                idx = next(order)
                loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                run.log(step, train_loss=loss.item())
                if step % 10 == 0:
                    model.eval()
                    with torch.no_grad():
                        run.evaluate(step, lambda: F.cross_entropy(model(data.x_test), data.y_test).item())
                    model.train()
    assert run.warnings == [], (spec.variant, run.warnings)
    assert not [w for w in caught if issubclass(w.category, regtui.TrackWarning)]
