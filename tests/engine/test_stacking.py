"""Stacking: one planner and one update for both stacking paths, against hand-worked plans and torch.optim."""

from __future__ import annotations

import pytest
import torch

from regtui.engine.stack_optim import StackedOptimizer, update_groups
from regtui.engine.stacking import CPU_LIMIT, cut, group_runs, stack_limit


def test_groups_keep_the_order_of_their_first_run_and_none_trains_alone():
    keys = ["a", "b", "a", None, "b", "a"]
    assert group_runs(keys) == [[0, 2, 5], [1, 4], [3]]
    assert group_runs([]) == []


def test_cut_fills_in_order_or_balances():
    group = list(range(20))
    assert cut(group, 8, balanced=False) == [group[0:8], group[8:16], group[16:20]]
    assert cut(group, 8, balanced=True) == [group[0:7], group[7:14], group[14:20]]
    assert cut(list(range(9)), 8, balanced=True) == [list(range(5)), list(range(5, 9))]  # never 8 + 1
    assert cut([3, 4], 8, balanced=False) == cut([3, 4], 8, balanced=True) == [[3, 4]]
    assert cut([], 8, balanced=True) == []


def test_one_limit_per_device():
    assert stack_limit(torch.device("cpu")) == CPU_LIMIT == 8
    assert stack_limit(torch.device("meta")) >= 1 << 20  # any other device: a group is one stack


def test_update_groups_gather_consecutive_models_sharing_a_key():
    a, b = (0.1, 0.9, 0.0), (0.1, 0.9, 0.01)
    keys = [[a, a, b, a], [b, b, b, a]]  # tensor 0 and tensor 1 (say, a weight and a bias)
    assert update_groups(keys) == [(a, [(0, 0, 2), (0, 3, 4), (1, 3, 4)]), (b, [(0, 2, 3), (1, 0, 3)])]


def _models(m: int, seed: int = 0) -> list[list[torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [
        [torch.randn(3, 2, generator=g, dtype=torch.float64), torch.randn(2, generator=g, dtype=torch.float64)]
        for _ in range(m)
    ]


@pytest.mark.parametrize("kind", ["sgd", "adam", "adamw"])
def test_the_stacked_update_is_torch_optim_per_model(kind):
    """Models with their own lr, momentum or betas and weight decay (none on the bias of two of them)."""
    m = 4
    lr = [0.1, 0.05, 0.1, 0.02]
    beta = [0.9, 0.0, 0.9, 0.5]  # SGD momentum, or Adam's beta1
    wd = [0.0, 0.01, 0.1, 0.1]
    bias_wd = [0.0, 0.01, 0.0, 0.1]
    inits = _models(m)
    refs = []
    for i, (w, b) in enumerate(inits):
        pw, pb = torch.nn.Parameter(w.clone()), torch.nn.Parameter(b.clone())
        groups = [{"params": [pw], "weight_decay": wd[i]}, {"params": [pb], "weight_decay": bias_wd[i]}]
        if kind == "sgd":
            opt = torch.optim.SGD(groups, lr=lr[i], momentum=beta[i])
        else:
            cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
            opt = cls(groups, lr=lr[i], betas=(beta[i], 0.99))
        refs.append((pw, pb, opt))
    params = [torch.stack([w for w, _ in inits]), torch.stack([b for _, b in inits])]

    def key(i: int, decay: float) -> tuple[float, ...]:
        return (lr[i], beta[i], decay) if kind == "sgd" else (lr[i], beta[i], 0.99, decay)

    keys = [[key(i, wd[i]) for i in range(m)], [key(i, bias_wd[i]) for i in range(m)]]
    opt = StackedOptimizer(kind, params, keys)
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        grads = [torch.randn(p.shape, generator=g, dtype=torch.float64) for p in params]
        for i, (pw, pb, ref) in enumerate(refs):
            pw.grad, pb.grad = grads[0][i].clone(), grads[1][i].clone()
            ref.step()
        opt.step([t.clone() for t in grads])
    for i, (pw, pb, _) in enumerate(refs):
        assert torch.allclose(params[0][i], pw, rtol=0, atol=1e-12)
        assert torch.allclose(params[1][i], pb, rtol=0, atol=1e-12)
    assert opt.steps == 5


def test_an_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="sgd, adam, adamw"):
        StackedOptimizer("rmsprop", [torch.zeros(2, 1)], [[(0.1, 0.0, 0.0)] * 2])
