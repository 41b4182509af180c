"""Regenerates the README screenshots (SVG exported by Textual) of Today, Trend and Sessions.

Run from the repository root: `python docs/screenshots/regenerate.py`. It builds the demo
database for a fixed date in a temporary directory (real detectors' events, real load and
warning maths) and saves `today.svg`, `trend.svg` and `sessions.svg` here, at 120×40.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from loadmon.demo import build_demo  # noqa: E402
from loadmon.tui.app import make_app  # noqa: E402
from loadmon.tui.messages import OpenDay  # noqa: E402

TODAY = date(2026, 11, 20)
SIZE = (120, 40)


async def shoot(db: Path) -> list[Path]:
    app = make_app(db, today=TODAY)
    out = []
    async with app.run_test(size=SIZE) as pilot:

        async def settle() -> None:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()

        await settle()
        out.append(Path(app.save_screenshot("today.svg", str(HERE))))
        await pilot.press("2")
        await settle()
        out.append(Path(app.save_screenshot("trend.svg", str(HERE))))
        # the physio's log on the tempo-lapse day, as if opened from its warning
        app.pending_open = OpenDay("2026-11-14")
        await pilot.press("3")
        await settle()
        await pilot.press("e")
        await settle()
        out.append(Path(app.save_screenshot("sessions.svg", str(HERE))))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "demo.db"
        build_demo(db, today=TODAY)
        for p in asyncio.run(shoot(db)):
            print(f"wrote {p.relative_to(HERE.parents[1])}")


if __name__ == "__main__":
    main()
