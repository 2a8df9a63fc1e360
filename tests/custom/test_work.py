"""The rough compute of a train run (regtui.custom_specs.work): it only orders Ray tasks, so what is
checked is its formula on a small model and the rankings the ordering relies on."""

from regtui.custom_specs.work import DROPOUT_DRAW, run_work

DIGITS = {"source": "digits"}


def tables(*layers):
    return {"data": DIGITS, "model": {"layers": [dict(layer) for layer in layers]}}


def test_a_linear_model_counts_its_multiply_adds_outputs_and_updates():
    t = tables({"type": "flatten"}, {"type": "linear", "out": 10})
    params = 64 * 10 + 10
    per_sample = 64 + params + 10  # flatten's 64 outputs, the layer's multiply-adds (and bias), its 10 outputs
    p = {"steps": 7, "batch": 5, "momentum": 0.9, "weight_decay": 0.0}
    assert run_work(p, t) == 7 * (5 * per_sample + 2 * params)
    assert run_work({**p, "weight_decay": 1e-3}, t) == 7 * (5 * per_sample + 3 * params)


def test_an_active_dropout_weighs_its_random_draws_and_p_zero_is_free():
    layers = ({"type": "flatten"}, {"type": "linear", "out": 32}, {"type": "dropout"}, {"type": "linear", "out": 10})
    p = {"steps": 1, "batch": 1, "momentum": 0.0}
    off, on = run_work({**p, "dropout": 0.0}, tables(*layers)), run_work({**p, "dropout": 0.5}, tables(*layers))
    assert on - off == 32 * (DROPOUT_DRAW - 1)


def test_a_conv_counts_its_kernel_at_every_position():
    t = tables({"type": "conv2d", "out": 4, "kernel": 3, "padding": 1})
    params = 1 * 4 * 9 + 4
    assert run_work({"steps": 1, "batch": 1}, t) == params * 64 + 4 * 64 + params


def test_a_factory_model_weighs_by_steps_and_batch():
    t = {"data": DIGITS, "model": {"factory": "my.py:make"}}
    assert run_work({"steps": 10, "batch": 4}, t) == 40.0
