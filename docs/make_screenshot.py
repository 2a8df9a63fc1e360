"""Regenerate docs/screenshot.svg: the dashboard at 120x40 after a weight-decay run.

python docs/make_screenshot.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from regtui.app.app import make_app

OUT = Path(__file__).with_name("screenshot.svg")


async def main() -> None:
    app = make_app(file="weight-decay", devices=["cpu"])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        while app.run_state.status in ("running", "stopping"):
            await asyncio.sleep(0.05)
        await pilot.pause(0.5)
        app.save_screenshot(filename=OUT.name, path=str(OUT.parent))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
