"""The parameter form's labels: each name stays apart from its value, at every size."""

from __future__ import annotations

import pytest
from textual.widgets import Label

from .conftest import app_for
from .driver import Dashboard


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_form_labels_keep_a_gap_before_their_values(size):
    app = app_for(file="digits-norms")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        dash = Dashboard(pilot)
        form = dash.form
        names = [p.name for p in form.spec.params]
        assert "decay_norm_and_bias" in names and "label_smoothing" in names
        for name in names:
            label = dash.field(name).parent.query_one(Label)
            form.scroll_to_widget(label, animate=False)
            await pilot.pause()
            region = label.region
            assert region.height == 1 and region.width > 0, name
            line = dash.lines()[region.y]
            shown = line[region.x : region.right].rstrip()
            value = dash.field(name).region.x
            assert shown == name or (shown.endswith("…") and name.startswith(shown[:-1])), (name, line)
            assert line[region.x + len(shown)] == " " and region.x + len(shown) < value, (name, line)
