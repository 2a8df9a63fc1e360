"""The stacked MLP kernel against independent references: nn.Sequential + torch.optim.SGD, autograd."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from regtui.engine.mlp_training import make_data
from regtui.engine.stacked import StackedMLP, linear_init

H = 16  # small hidden width keeps these tests fast


@pytest.fixture(autouse=True)
def one_thread():
    """Like the engine: tiny ops on 2 busy cores are several times slower with 2 intra-op threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def reference_net(layers: list[tuple[torch.Tensor, torch.Tensor]], dropout: float = 0.0) -> nn.Sequential:
    """The tutorial's MLP as a user writes it, with the given initial weights copied in (float64)."""
    modules: list[nn.Module] = []
    for i, (w, b) in enumerate(layers):
        lin = nn.Linear(w.shape[1], w.shape[0]).double()
        with torch.no_grad():
            lin.weight.copy_(w)
            lin.bias.copy_(b)
        modules.append(lin)
        if i < len(layers) - 1:
            modules.append(nn.ReLU())
            if dropout:
                modules.append(nn.Dropout(dropout))
    return nn.Sequential(*modules)


def linears(net: nn.Sequential) -> list[nn.Linear]:
    return [m for m in net if isinstance(m, nn.Linear)]


def test_init_is_nn_linear_default_after_manual_seed():
    sizes = [1, H, H, H, 1]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        net = nn.Sequential(
            nn.Linear(1, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(), nn.Linear(H, 1)
        )
    for lin, (w, b) in zip(linears(net), linear_init(7, sizes)):
        assert torch.equal(lin.weight, w)
        assert torch.equal(lin.bias, b)
        bound = 1 / math.sqrt(lin.in_features)
        assert w.abs().max() <= bound and b.abs().max() <= bound


def test_init_of_a_seed_does_not_depend_on_the_other_models():
    alone = StackedMLP.from_seeds([5], H, 2, lr=0.01)
    among = StackedMLP.from_seeds([3, 5, 9], H, 2, lr=0.01)
    for (w1, b1), (w2, b2) in zip(alone.model(0), among.model(1)):
        assert torch.equal(w1, w2) and torch.equal(b1, b2)
    assert not torch.equal(among.model(0)[1][0], among.model(1)[1][0])


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "foreach"])
def test_matches_per_model_nn_and_torch_optim_sgd_float64(fused):
    seeds = [0, 1, 2, 0]
    lr = [0.01, 0.05, 0.02, 0.03]
    momentum = [0.9, 0.0, 0.5, 0.9]
    weight_decay = [0.0, 1e-2, 0.1, 1e-3]
    stack = StackedMLP.from_seeds(
        seeds, H, 3, lr=lr, momentum=momentum, weight_decay=weight_decay, dtype=torch.float64, fused=fused
    )
    data = make_data(0, 10, 1.5, 0.5, 0.3, dtype=torch.float64)
    x = stack.inputs(data.x)
    y = data.train_y.view(1, 10, 1).expand(4, 10, 1).contiguous()
    refs = []
    for i in range(4):
        net = reference_net(stack.model(i))
        opt = torch.optim.SGD(net.parameters(), lr=lr[i], momentum=momentum[i], weight_decay=weight_decay[i])
        refs.append((net, opt))
    loss_fn = nn.MSELoss()
    for _ in range(300):
        losses = stack.train_step(x, y).tolist()
        for i, (net, opt) in enumerate(refs):
            opt.zero_grad()
            loss = loss_fn(net(data.x.view(10, 1)), data.train_y.view(10, 1))
            loss.backward()
            opt.step()
            assert losses[i] == pytest.approx(loss.item(), rel=0, abs=1e-10)
    for i, (net, _) in enumerate(refs):
        for lin, (w, b) in zip(linears(net), stack.model(i)):
            assert torch.allclose(lin.weight, w, rtol=0, atol=1e-10)
            assert torch.allclose(lin.bias, b, rtol=0, atol=1e-10)
    assert stack.steps == 300
    norms = stack.weight_norm()
    for i, (net, _) in enumerate(refs):
        expected = torch.cat([p.flatten() for p in net.parameters()]).norm()
        assert norms[i].item() == pytest.approx(expected.item(), rel=1e-12)


def test_dropout_training_matches_autograd_with_the_same_masks():
    """Gradients through Dropout: a reference with autograd that multiplies by the stack's masks."""
    p = [0.0, 0.3, 0.5]
    stack = StackedMLP.from_seeds([1, 1, 1], H, 3, lr=0.05, momentum=0.9, dropout=p, dtype=torch.float64)
    data = make_data(1, 10, 1.5, 0.5, 0.3, dtype=torch.float64)
    x = stack.inputs(data.x)
    y = data.train_y.view(1, 10, 1).expand(3, 10, 1).contiguous()
    refs = []
    for i in range(3):
        params = [t.clone().requires_grad_(True) for pair in stack.model(i) for t in pair]
        refs.append((params, torch.optim.SGD(params, lr=0.05, momentum=0.9)))
    for _ in range(30):
        losses = stack.train_step(x, y).tolist()
        masks = stack.masks
        for i, (params, opt) in enumerate(refs):
            a = data.x.view(10, 1)
            for k in range(3):
                a = torch.relu(a @ params[2 * k].t() + params[2 * k + 1]) * masks[k][i]
            out = a @ params[6].t() + params[7]
            loss = ((out - data.train_y.view(10, 1)) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            assert losses[i] == pytest.approx(loss.item(), rel=0, abs=1e-10)
    for i, (params, _) in enumerate(refs):
        for ref, mine in zip(params, [t for pair in stack.model(i) for t in pair]):
            assert torch.allclose(ref, mine, rtol=0, atol=1e-10)
    # Mask values: 0 or 1/(1-p); p = 0 keeps everything.
    for mask in stack.masks:
        assert torch.equal(mask[0], torch.ones_like(mask[0]))
        for i in (1, 2):
            values = set(mask[i].unique().tolist())
            assert values <= {0.0, 1 / (1 - p[i])} and len(values) == 2


def test_dropout_keeps_about_1_minus_p():
    stack = StackedMLP.from_seeds([0, 0], 400, 1, lr=0.01, dropout=[0.2, 0.7], dropout_seed=3)
    x = stack.inputs(torch.linspace(-1, 1, 50))
    stack.forward_train(x)
    (mask,) = stack.masks
    n = mask[0].numel()  # 20,000 Bernoulli draws per model
    for i, p in enumerate((0.2, 0.7)):
        kept = int((mask[i] > 0).sum())
        sigma = math.sqrt(n * p * (1 - p))
        assert abs(kept - n * (1 - p)) < 6 * sigma


def test_eval_forward_has_no_dropout():
    stack = StackedMLP.from_seeds([4, 4], H, 2, lr=0.01, dropout=[0.0, 0.5])
    x = stack.inputs(torch.linspace(-1, 1, 10))
    out = stack.forward(x)
    assert torch.equal(out[0], out[1])  # same seed, same weights: eval mode ignores p


def test_weight_decay_step_is_shrink_then_gradient():
    """Momentum 0: one SGD step gives w·(1 − lr·λ) − lr·grad, grad from autograd on the plain loss."""
    lr, lam = 0.1, 0.5
    stack = StackedMLP.from_seeds([2], H, 2, lr=lr, momentum=0.0, weight_decay=lam, dtype=torch.float64)
    before = stack.model(0)
    data = make_data(2, 10, 1.5, 0.5, 0.3, dtype=torch.float64)
    net = reference_net(before)
    nn.MSELoss()(net(data.x.view(10, 1)), data.train_y.view(10, 1)).backward()
    stack.train_step(stack.inputs(data.x), data.train_y.view(1, 10, 1))
    for lin, (w0, b0), (w1, b1) in zip(linears(net), before, stack.model(0)):
        assert torch.allclose(w1, w0 * (1 - lr * lam) - lr * lin.weight.grad, rtol=0, atol=1e-14)
        assert torch.allclose(b1, b0 * (1 - lr * lam) - lr * lin.bias.grad, rtol=0, atol=1e-14)


def test_a_diverging_model_does_not_touch_its_neighbours():
    data = make_data(0, 10, 1.5, 0.5, 0.3, dtype=torch.float64)
    both = StackedMLP.from_seeds([0, 0, 0], H, 3, lr=[0.01, 1e4, 0.02], momentum=0.9, dtype=torch.float64)
    alone = StackedMLP.from_seeds([0, 0], H, 3, lr=[0.01, 0.02], momentum=0.9, dtype=torch.float64)
    y3 = data.train_y.view(1, 10, 1).expand(3, 10, 1).contiguous()
    y2 = y3[:2].contiguous()
    for _ in range(60):
        l3 = both.train_step(both.inputs(data.x), y3)
        l2 = alone.train_step(alone.inputs(data.x), y2)
        assert torch.allclose(l3[[0, 2]], l2, rtol=0, atol=1e-12)
    assert not math.isfinite(l3[1].item())
    assert not math.isfinite(both.weight_norm()[1].item())
    for i, j in ((0, 0), (2, 1)):
        for (w1, b1), (w2, b2) in zip(both.model(i), alone.model(j)):
            assert torch.isfinite(w1).all()
            assert torch.allclose(w1, w2, rtol=0, atol=1e-12) and torch.allclose(b1, b2, rtol=0, atol=1e-12)


def test_rejects_bad_dropout_and_mismatched_hyperparameters():
    with pytest.raises(ValueError, match="dropout"):
        StackedMLP.from_seeds([0], H, 1, lr=0.01, dropout=1.0)
    with pytest.raises(ValueError, match="lr"):
        StackedMLP.from_seeds([0, 1], H, 1, lr=[0.01])


def test_other_input_and_output_widths():
    """n_in, n_out > 1 take the general batched-matmul paths; checked against nn + torch.optim.SGD."""
    stack = StackedMLP.from_seeds(
        [0, 1], 8, 2, n_in=3, n_out=2, lr=0.05, momentum=0.5, weight_decay=0.01, dtype=torch.float64
    )
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    y = torch.randn(7, 2, generator=gen, dtype=torch.float64)
    refs = []
    for i in range(2):
        net = reference_net(stack.model(i))
        refs.append((net, torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.5, weight_decay=0.01)))
    for _ in range(20):
        losses = stack.train_step(stack.inputs(x), y.expand(2, 7, 2)).tolist()
        for i, (net, opt) in enumerate(refs):
            opt.zero_grad()
            loss = nn.MSELoss()(net(x), y)
            loss.backward()
            opt.step()
            assert losses[i] == pytest.approx(loss.item(), rel=0, abs=1e-12)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "foreach"])
def test_cuda_matches_cpu_float64(fused):
    kw = {
        "lr": [0.01, 0.05, 0.02],
        "momentum": [0.9, 0.0, 0.5],
        "weight_decay": [0.0, 1e-2, 0.1],
        "dtype": torch.float64,
    }
    cpu = StackedMLP.from_seeds([0, 1, 2], H, 3, **kw)
    gpu = StackedMLP.from_seeds([0, 1, 2], H, 3, device="cuda", fused=fused, **kw)
    for i in range(3):  # the same init on both devices
        for (w1, b1), (w2, b2) in zip(cpu.model(i), gpu.model(i)):
            assert torch.equal(w1, w2.cpu()) and torch.equal(b1, b2.cpu())
    data = make_data(0, 10, 1.5, 0.5, 0.3, dtype=torch.float64)
    y = data.train_y.view(1, 10, 1).expand(3, 10, 1).contiguous()
    for _ in range(100):
        l_cpu = cpu.train_step(cpu.inputs(data.x), y)
        l_gpu = gpu.train_step(gpu.inputs(data.x), y.cuda())
    assert torch.allclose(l_cpu, l_gpu.cpu(), rtol=0, atol=1e-9)
    assert torch.allclose(cpu.weight_norm(), gpu.weight_norm().cpu(), rtol=1e-9)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_dropout_masks_and_divergence():
    stack = StackedMLP.from_seeds(
        [0, 0, 0], H, 3, lr=[0.01, 1e4, 0.01], momentum=0.9, dropout=[0.0, 0.0, 0.5], device="cuda"
    )
    data = make_data(0, 10, 1.5, 0.5, 0.3)
    y = data.train_y.view(1, 10, 1).expand(3, 10, 1).contiguous().cuda()
    for _ in range(50):
        losses = stack.train_step(stack.inputs(data.x), y)
    assert torch.isfinite(losses[[0, 2]]).all() and not torch.isfinite(losses[1])
    for mask in stack.masks:
        assert torch.equal(mask[0], torch.ones_like(mask[0]))
        assert set(mask[2].unique().tolist()) == {0.0, 2.0}
