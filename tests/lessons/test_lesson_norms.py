"""The norms lesson's claims (scenarios/norms.toml) against the engine (seeds 0–2) and torch."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from regtui import scenario

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def batch_two(lessons, tmp_path_factory):
    """The two batch-2 variants of the bundled scenario (same parameters; a run depends only on its
    parameters and seed, not on the other variants), seeds 0–2."""
    text = scenario.find("norms").read_text(encoding="utf-8")
    head = text.split("[[variants]]")[0]
    path = tmp_path_factory.mktemp("norms") / "norms-batch2.toml"
    path.write_text(
        head
        + """
[[variants]]
name = "BatchNorm · batch 2"
norm = "batch"
batch = 2

[[variants]]
name = "GroupNorm · batch 2"
norm = "group"
batch = 2
""",
        encoding="utf-8",
    )
    doc, _ = lessons.run("norms", seed=0, seeds=3, path=path)
    return doc


def test_text(lessons):
    text = lessons.text("norms")
    for phrase in (
        "GroupNorm(C, C)",
        "like InstanceNorm2d",
        "GroupNorm(1, C)",
        "like LayerNorm([C, H, W])",
        "3.5, 23.4 and 34.0 points (mean 20.3; BatchNorm 43–58 %, GroupNorm 59–81 %)",
        "on each of seeds 0–2",
        "below 1e-5 on seeds 0–2",
        "C = 6 statistics of N·H·W = 256",
        "N = 4 of C·H·W = 384",
        "N·C = 24 of H·W = 64",
        "N·G = 12 of (C/G)·H·W = 128",
    ):
        assert phrase in text, phrase
    assert "15–30" not in text


def test_batchnorm_vs_groupnorm_at_batch_2(batch_two, lessons):
    bn = lessons.per_seed(batch_two, "BatchNorm · batch 2")
    gn = lessons.per_seed(batch_two, "GroupNorm · batch 2")
    gaps = [100 * (gn[s]["final"]["test_accuracy"] - bn[s]["final"]["test_accuracy"]) for s in SEEDS]
    assert [round(g, 1) for g in gaps] == [3.5, 23.4, 34.0]
    assert round(sum(gaps) / 3, 1) == 20.3
    assert [round(100 * bn[s]["final"]["test_accuracy"]) for s in SEEDS] == [55, 58, 43]
    assert [round(100 * gn[s]["final"]["test_accuracy"]) for s in SEEDS] == [59, 81, 77]


def test_worked_counts_and_demo_diffs(lessons):
    for seed in SEEDS:
        doc, _ = lessons.run("norms", sets={"steps": 1, "norm": "group", "batch": 2}, seed=seed)
        assert all(row["max_abs_diff"] < 1e-5 for row in doc["summary"]["norms"])
        worked = doc["summary"]["worked"]
        expected = {"BatchNorm2d": (6, 256), "LayerNorm": (4, 384), "InstanceNorm2d": (24, 64), "GroupNorm": (12, 128)}
        for name, (count, per) in expected.items():
            w = worked["norms"][name]
            assert w["input_shape"] == [4, 6, 8, 8]
            assert w["statistics"]["predicted"] == count
            assert w["values_per_statistic"]["predicted"] == w["values_per_statistic"]["measured"] == per
            assert count * per == 4 * 6 * 8 * 8
        assert worked["norms"]["GroupNorm"]["reduces_over"] == "C/G (= 2 channels per group), H, W"
        assert all(e["max_abs_diff"] < 1e-12 for e in worked["equivalences"])


def test_one_channel_per_group_is_singular(lessons):
    doc, _ = lessons.run("norms", sets={"steps": 1, "norm": "group", "batch": 2, "groups": 6}, seed=0)
    row = next(r for r in doc["summary"]["norms"] if r["norm"] == "GroupNorm")
    assert row["reduces_over"] == "C/G (= 1 channel per group), H, W"


@pytest.mark.parametrize("shape", [(4, 6, 8, 8), (2, 3, 5, 7), (1, 4, 2, 2)])
def test_groupnorm_extremes_are_instance_and_layer_norm(shape):
    _, c, h, w = shape
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 4 - 2
    with torch.no_grad():
        assert torch.allclose(
            nn.GroupNorm(c, c, affine=False).double()(x), nn.InstanceNorm2d(c).double()(x), rtol=0, atol=1e-12
        )
        assert torch.allclose(
            nn.GroupNorm(1, c, affine=False).double()(x),
            nn.LayerNorm([c, h, w], elementwise_affine=False).double()(x),
            rtol=0,
            atol=1e-12,
        )


def test_instance_norm_removes_each_channels_mean_and_scale():
    x = torch.randn(4, 6, 8, 8, dtype=torch.float64) * torch.rand(4, 6, 1, 1, dtype=torch.float64) * 5 + 3
    y = nn.InstanceNorm2d(6).double()(x)
    assert torch.allclose(y.mean(dim=(2, 3)), torch.zeros(4, 6, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(y.var(dim=(2, 3), unbiased=False), torch.ones(4, 6, dtype=torch.float64), atol=1e-3)
