"""The Histograms view in the dashboard: a train run with histograms = true shows heat strips of its layers,
l, k and v cycle layer, kind and variant/seed (one at a time and in a burst), at 80x24 and 120x40; a run
without histograms has no such tab."""

from __future__ import annotations

import pytest

from .conftest import app_for
from .driver import Dashboard

TOML = """
experiment = "train"
title = "Histogram strips"
[params]
steps = {steps}
batch = 16
log_every = 2
lr = 0.1
histograms = {histograms}
[model]
layers = [{{type = "linear", out = 8}}, {{type = "relu"}}, {{type = "linear"}}]
[data]
source = "moons"
n = 100
[[variants]]
name = "plain"
[[variants]]
name = "decayed"
weight_decay = 0.01
"""


def scenario(tmp_path, histograms: bool = True, steps: int = 40) -> str:
    path = tmp_path / "strips.toml"
    path.write_text(TOML.format(histograms=str(histograms).lower(), steps=steps), encoding="utf-8")
    return str(path)


async def ran(pilot) -> Dashboard:
    dash = Dashboard(pilot)
    await pilot.pause()
    await pilot.press("r")
    await dash.wait_for_end()
    await dash.settled()
    return dash


def strip_rows(text: str) -> list[str]:
    """The strip rows of a view's text: the lines with a bin row between ▕ and ▏."""
    return [line for line in text.splitlines() if "▕" in line and "▏" in line]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_tab_to_the_strips_and_cycle_layer_and_kind(tmp_path, size):
    app = app_for(file=scenario(tmp_path))
    async with app.run_test(size=size) as pilot:
        dash = await ran(pilot)
        assert "histograms" in dash.visible_views()
        await dash.open_view("histograms")
        await dash.settled()
        text = dash.view_text("histograms")
        assert "layer 0.linear (1/3, l)" in text and "weights (1/3, k)" in text and "plain seed 0 (1/2, v)" in text
        rows = strip_rows(text)
        assert rows, text
        assert rows[-1].split()[0] == "40"  # newest at the bottom
        await pilot.press("l")
        await dash.settled()
        assert "layer 1.relu (2/3, l)" in dash.view_text("histograms")
        assert "activations (1/1, k)" in dash.view_text("histograms")  # a ReLU has no weights
        await pilot.press("l", "k")
        await dash.settled()
        text = dash.view_text("histograms")
        assert "layer 2.linear (3/3, l)" in text and "gradients (2/3, k)" in text
        await pilot.press("v")
        await dash.settled()
        assert "decayed seed 0 (2/2, v)" in dash.view_text("histograms")
        footer = "\n".join(dash.lines()[-2:])
        assert "l Layer" in footer.replace("  ", " ") or "Layer" in footer
