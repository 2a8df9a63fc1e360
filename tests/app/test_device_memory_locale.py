"""The dashboard says what is wrong instead of swapping or hanging: an unavailable device, a plan too
big for memory, a terminal that cannot show Unicode."""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess
import sys
import time

from regtui import memory
from regtui.app.app import make_app

from .driver import Dashboard


def test_an_unavailable_device_is_a_visible_notice_not_a_silent_swap(monkeypatch):
    notices: list[str] = []

    async def scenario() -> None:
        app = make_app(file="bn-stats", device="cuda:7")  # no such device on any test machine
        monkeypatch.setattr(app, "notify", lambda message, **kw: notices.append(str(message)))
        async with app.run_test(size=(120, 40)) as pilot:
            start = time.perf_counter()
            while app.device is None:  # detection imports torch in a thread
                assert time.perf_counter() - start < 120, "devices were never found"
                await asyncio.sleep(0.05)
            await pilot.pause()
            from regtui import devices

            best = devices.best()  # cpu here; cuda:0 on a GPU machine
            assert app.device == best
            assert any("cuda:7" in n and "not available" in n and f"using {best}" in n for n in notices), notices

    asyncio.run(scenario())


def test_a_plan_too_big_for_memory_is_refused_with_its_estimate(monkeypatch):
    notices: list[str] = []
    monkeypatch.setattr(memory, "available_bytes", lambda: 1024)  # 1 KB free: nothing fits

    async def scenario() -> None:
        app = make_app(file="bn-stats", devices=["cpu"])
        async with app.run_test(size=(120, 40)) as pilot:
            dash = Dashboard(pilot)
            await pilot.pause()
            monkeypatch.setattr(app.main, "notify", lambda message, **kw: notices.append(str(message)))
            await pilot.press("r")
            await pilot.pause()
            assert dash.run is None  # no run started
            assert any(n.startswith("memory: this plan needs about") for n in notices), notices

    asyncio.run(scenario())


def test_a_latin1_terminal_is_refused_in_one_line():
    main, child = pty.openpty()
    env = {**os.environ, "PYTHONIOENCODING": "latin-1", "TERM": "xterm-256color"}
    proc = subprocess.run(
        [sys.executable, "-m", "regtui"], stdin=child, stdout=child, stderr=subprocess.PIPE, env=env, timeout=60
    )
    os.close(main)
    os.close(child)
    err = proc.stderr.decode("latin-1").strip().splitlines()
    assert proc.returncode == 2
    assert len(err) == 1 and "UTF-8" in err[0] and "--scenario" in err[0], err
