"""The engine's shared modules against PyTorch's own layers and formulas: init, data, measures, decay groups."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from regtui.engine.data import line_data, line_x, line_y, teacher_data
from regtui.engine.decay_groups import param_groups, skips_decay
from regtui.engine.init import default_init, init_layers
from regtui.engine.measures import param_norm, stacked_norm
from regtui.engine.small_nets import mlp


def test_init_layers_is_reset_parameters_after_manual_seed():
    """Drawn from a generator, the same numbers nn.Linear/nn.Conv2d draw from the global RNG at that seed."""

    def build() -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(2, 3, 3), nn.GroupNorm(1, 3), nn.Flatten(), nn.Linear(12, 5), nn.Linear(5, 1))

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        reference = build()
    model = build()
    init_layers(model, torch.Generator().manual_seed(11))
    for (name, a), (_, b) in zip(reference.named_parameters(), model.named_parameters()):
        assert torch.equal(a, b), name


def test_default_init_bounds_follow_fan_in_and_leave_no_bias_alone():
    w = torch.empty(7, 4, 3, 3)  # conv weight: fan_in = 4·3·3
    b = torch.empty(7)
    default_init(w, b, torch.Generator().manual_seed(0))
    bound = 1 / math.sqrt(36)
    assert w.abs().max() <= bound and b.abs().max() <= bound and b.abs().max() > bound / 2
    w2 = torch.empty(3, 5)
    default_init(w2, None, torch.Generator().manual_seed(0))
    assert w2.abs().max() <= 1 / math.sqrt(5)


def test_line_data_is_the_tutorials_line_with_fresh_test_noise():
    g = torch.Generator().manual_seed(3)
    x, y_train, y_test = line_data(10, 1.5, 0.5, 0.3, g)
    ref = torch.Generator().manual_seed(3)
    eps_train, eps_test = torch.randn(10, generator=ref), torch.randn(10, generator=ref)
    assert torch.equal(x.view(-1), torch.linspace(-1, 1, 10)) and x.shape == (10, 1)
    assert torch.allclose(y_train.view(-1), 1.5 * x.view(-1) + 0.5 * eps_train)
    assert torch.allclose(y_test.view(-1), 1.5 * x.view(-1) + 0.3 * eps_test)
    # One draw per point: line_y alone leaves the generator where the training targets end.
    g2 = torch.Generator().manual_seed(3)
    assert torch.equal(line_y(line_x(10), 1.5, 0.5, g2), y_train)
    assert torch.equal(torch.randn(10, generator=g2), eps_test)


def test_teacher_data_shapes_and_noise_level():
    x_train, y_train, x_test, y_test = teacher_data(6, 500, 50, torch.Generator().manual_seed(0))
    assert (
        x_train.shape == (500, 6) and y_train.shape == (500, 1) and x_test.shape == (50, 6) and y_test.shape == (50, 1)
    )
    assert 0.02 < float(y_train.std()) < 1.0


def test_param_norm_and_stacked_norm_are_l2_norms():
    tensors = [torch.randn(3, 4), torch.randn(3, 1, 2)]
    flat = torch.cat([t.flatten() for t in tensors])
    assert float(param_norm(tensors)) == pytest.approx(float(flat.norm()), rel=1e-6)
    assert math.isnan(float(param_norm([])))
    per_model = stacked_norm(tensors)
    for m in range(3):
        expected = torch.cat([tensors[0][m].flatten(), tensors[1][m].flatten()]).norm()
        assert torch.allclose(per_model[m], expected)


def test_decay_groups_of_the_lesson_net_are_the_ndim_idiom():
    """The no-decay-groups lesson shows `p.ndim >= 2` for the decayed group: the one rule gives exactly that there."""
    for norm in ("layer", "batch"):
        model = mlp(5, 8, 2, 1, torch.Generator().manual_seed(0), norm=norm)
        decayed, skipped = param_groups(model, 0.1, decay_all=False)
        assert [id(q) for q in decayed["params"]] == [id(q) for q in model.parameters() if q.ndim >= 2]
        assert [id(q) for q in skipped["params"]] == [id(q) for q in model.parameters() if q.ndim < 2]
        assert (decayed["weight_decay"], skipped["weight_decay"]) == (0.1, 0.0)
        (everything,) = param_groups(model, 0.1, decay_all=True)
        assert len(everything["params"]) == len(list(model.parameters()))


def test_decay_groups_skip_every_norm_parameter_and_bias_whatever_its_shape():
    ln = nn.LayerNorm([3, 4, 4])  # γ and β of shape (3, 4, 4): not decayed although ndim 3
    conv = nn.Conv2d(1, 3, 3, padding=1)
    model = nn.Sequential(conv, ln)
    decayed, skipped = param_groups(model, 0.1, decay_all=False)
    assert [id(q) for q in decayed["params"]] == [id(conv.weight)]
    assert {id(q) for q in skipped["params"]} == {id(conv.bias), id(ln.weight), id(ln.bias)}
    assert skips_decay(nn.Linear(2, 2), "bias") and not skips_decay(nn.Linear(2, 2), "weight")
    assert skips_decay(nn.BatchNorm1d(2), "weight")
