"""What a newcomer does with the keyboard and mouse: scroll the lesson, type in bursts,
press Enter in a field, press r during a run (tests of the behaviour, never of timings)."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from tests.app.conftest import app_for, key, wait_until
from tests.app.driver import Dashboard
from tests.app.test_flows import start_long_run

WIDE = (120, 40)
NARROW = (80, 24)


async def _open_explain(pilot) -> None:
    await Dashboard(pilot).open_view("explain", presses=8)


async def test_explain_scrolls_with_keys_and_wheel():
    from regtui.app.widgets.explanation import Explanation

    for size in (WIDE, NARROW):
        app = app_for(file="weight-decay")
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await pilot.press("escape")
            await _open_explain(pilot)
            await pilot.pause()
            box = app.main.query_one(Explanation)
            assert app.focused is box, "tab to the Explain view focuses the text"
            assert box.max_scroll_y > 0
            await pilot.press("down")
            await pilot.pause()
            assert box.scroll_y == 1
            await pilot.press("pagedown")
            await pilot.pause()
            assert box.scroll_y > 5
            await pilot.press("end")
            await pilot.pause()
            assert box.scroll_y == box.max_scroll_y
            await pilot.press("home")
            await pilot.pause()
            assert box.scroll_y == 0
            await pilot.press("space")
            await pilot.pause()
            assert box.scroll_y > 5
            await pilot.press("home")
            await pilot.pause()
            region = box.region  # the mouse wheel over the text, as the terminal sends it
            x, y = region.x + region.width // 2, region.y + region.height // 2
            for _ in range(3):
                app.post_message(
                    events.MouseScrollDown(None, x, y, 0, 1, 0, False, False, False, screen_x=x, screen_y=y)
                )
            await pilot.pause()
            assert box.scroll_y > 0


def burst(app, *keys: str) -> None:
    """Keys that arrive in one read (a paste, SSH): handed to the app back to back, as the
    terminal driver does, with no pause for the app to act on one before the next."""
    for name in keys:
        char = name if len(name) == 1 else None
        event = events.Key(name, char)
        event.set_sender(app)
        app._driver.send_message(event)


def field(app, name: str) -> Input:
    dash = Dashboard.of(app)
    return dash.field(name)


async def into_field(app, pilot, name: str, value: str) -> Input:
    """Give a field a value and the focus, as a user who clicked into it."""
    field(app, name).value = value
    await pilot.pause()
    app.main.set_focus(field(app, name))
    await pilot.pause()
    return field(app, name)


async def test_burst_keys_land_where_they_were_aimed():
    for size in (WIDE, NARROW):
        app = app_for(file="weight-decay")
        async with app.run_test(size=size) as pilot:
            dash = Dashboard(pilot)
            await pilot.pause()
            await pilot.press("escape")
            names = [p.name for p in dash.form.spec.params]
            at = names.index("dropout")
            # p, then Down to dropout, then Down and 7: all in one burst
            burst(app, "p", *(["down"] * at), "down", "7")
            await pilot.pause()
            await pilot.pause()
            after = names[at + 1]
            assert field(app, "dropout").value == "0.0"
            assert app.focused is field(app, after)
            assert "7" in field(app, after).value and field(app, after).value != "7"
            # and pilot.press with no waits in between does the same
            await pilot.press("up", "up", "9")
            await pilot.pause()
            assert app.focused is field(app, names[at - 1])
            assert field(app, "dropout").value == "0.0"
            assert field(app, names[at - 1]).value.endswith("9")


async def test_enter_runs_and_leaves_the_field():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await into_field(app, pilot, "iters", "30")
        burst(app, "enter", "s")  # Enter then s at once: s must stop, not type into the field
        await pilot.pause()
        assert not isinstance(app.focused, Input)
        assert field(app, "iters").value == "30"
        assert dash.run is not None
        await wait_until(lambda: dash.run.status not in ("running", "stopping"))


async def test_enter_with_a_bad_value_keeps_the_field():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await into_field(app, pilot, "lr", "-1")
        await pilot.press("enter")
        assert app.focused is field(app, "lr")
        assert dash.run is None


async def test_r_during_a_run_does_not_restart_it():
    app = app_for(file="weight-decay")
    async with app.run_test(size=NARROW) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        state = await start_long_run(pilot)
        key(app, "r", "r")
        await pilot.pause()
        assert dash.run is state and state.status == "running" and not state.cancel.is_set()
        assert any("s to stop it first" in notice for notice in dash.notices())
        key(app, "s", "s")
        await wait_until(lambda: state.status == "stopped", timeout=10)
        key(app, "r", "r")
        await wait_until(lambda: dash.run is not state)
        dash.cancel()


async def test_letters_type_into_a_field():
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        key_field = dash.field("sweep_key")
        app.main.set_focus(key_field)
        await pilot.pause()
        await pilot.press("d", "r", "o", "p", "s")
        await pilot.pause()
        assert key_field.value == "drops"
        assert dash.run is None and app.focused is key_field


async def test_r_in_a_burst_after_picking_runs_the_scenario_on_screen():
    """/ Down Down Enter r sent at once (the trial's keys): the run is the newly picked scenario's,
    never the one picked before whose plan the screen still held."""
    app = app_for(file="weight-decay")
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        screen = app.main
        names = [e.scenario.name if e.scenario else "" for e in screen.entries]
        screen.select_entry(names.index("dropout"))  # what Enter on the picker does
        burst(app, "r")  # before the new form has sent its plan
        await wait_until(lambda: screen.run_state is not None)
        assert screen.entry.scenario.name == "dropout"
        assert screen.run_state.plan.scenario.name == "dropout"


async def test_enter_in_a_burst_runs_the_value_just_typed():
    """Trial: `p Down Down 7 Enter` in one burst showed train_noise 0.57 but ran 0.5 (the form's plan had
    not reached the screen yet). The run and its replay line must use what the field shows."""
    for size in (NARROW, WIDE):
        app = app_for(file="weight-decay")
        async with app.run_test(size=size) as pilot:
            dash = Dashboard(pilot)
            await pilot.pause()
            await pilot.press("escape")
            field(app, "iters").value = "30"
            await pilot.pause()
            await pilot.press("escape")
            names = [p.name for p in dash.form.spec.params]
            burst(app, "p", *(["down"] * names.index("train_noise")), "end", "7", "enter")
            await wait_until(lambda dash=dash: dash.run is not None)
            assert field(app, "train_noise").value == "0.57"
            assert dash.run.plan.params["train_noise"] == 0.57
            await wait_until(lambda dash=dash: dash.run.status not in ("running", "stopping"))
            await pilot.pause()
            assert "--set train_noise=0.57" in str(app.main.query_one("#replay").render())


async def test_after_enter_runs_a_letter_is_a_key_not_text():
    """Trial: Enter ran from a field, then the next `r` typed into the first field (`n_points 10r`)."""
    app = app_for(file="weight-decay")
    async with app.run_test(size=NARROW) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await into_field(app, pilot, "iters", "30")
        await pilot.press("enter")
        await wait_until(lambda: dash.run is not None)
        await wait_until(lambda: dash.run.status not in ("running", "stopping"))
        await pilot.pause()
        assert not isinstance(app.focused, Input)
        first = dash.run
        await pilot.press("r")
        await pilot.pause()
        assert all(not f.value.endswith("r") for f in dash.form.query(Input))
        assert dash.run is not first  # r ran again


async def test_burst_editing_keeps_every_key():
    """Trial: `End BSpace×6 1 2 3 4` in one burst on iters 50000 gave 500."""
    app = app_for(file="weight-decay")
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        await into_field(app, pilot, "iters", "50000")
        burst(app, "end", *(["backspace"] * 6), "1", "2", "3", "4")
        for _ in range(5):
            await pilot.pause()
        assert field(app, "iters").value == "1234"
        assert app.focused is field(app, "iters")


async def test_a_burst_of_tabs_lands_where_it_was_aimed():
    """Three tabs in one read (a paste, SSH): each view's focus used to come late and take the
    screen back to the first view the burst passed through."""
    app = app_for(file="bn")
    async with app.run_test(size=(120, 40)) as pilot:
        dash = Dashboard(pilot)
        await pilot.pause()
        await dash.set_fields(depth="6", width="16", train_steps="10")
        await pilot.press("escape")
        await dash.run_to_end()
        dash.show_view("loss")
        await pilot.pause()
        views = dash.visible_views()
        start = views.index("loss")
        for _ in range(3):
            key(app, "tab", "\t")
        await pilot.pause(0.3)
        assert dash.active_view == views[start + 3]
        for _ in range(2):
            key(app, "shift+tab")
        await pilot.pause(0.3)
        assert dash.active_view == views[start + 1]
        assert app.focused is not None and dash.view(dash.active_view) in app.focused.ancestors_with_self
