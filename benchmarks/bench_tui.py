"""Times the dashboard: first screen on a year of history (< 1 s) and live rep latency (< 1 s).

1. Builds a 365-day demo database (about 1000 recordings, 7500 events, 700 log entries), then
starts the app headless (Textual's test driver, 120×40) and measures from creating the app
until the Today screen shows the day's loads, sets and warnings; repeated, median reported.
Also prints the cost of each data call behind the first screen.

2. Runs the Live screen on the virtual Polar Verity Sense (the real bleak API on the virtual
radio) replaying loadmon/demo_data/rdl_set.csv at real time, with the set guided as RDLs,
and reports for each rep the wall time from the sensor measuring the rep's last sample to
the rep appearing on screen (the emulator's replay clock is the reference).

`--no-live` skips part 2; `--strict` fails the run when the live target is missed (by
default only the first-screen target sets the exit status).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadmon.demo import build_demo
from loadmon.tui.app import make_app
from loadmon.tui.data import DashboardData
from loadmon.tui.screens.live import LiveScreen
from loadmon.tui.screens.today import fetch_today
from loadmon.tui.widgets.load_gauge import LoadGauges

TODAY = date(2026, 11, 20)
TARGET_S = 1.0
RUNS = 5


async def open_once(db: Path) -> float:
    t0 = time.perf_counter()
    app = make_app(db, today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            await pilot.pause(0.005)
            screen = app.screen
            gauges = screen.query(LoadGauges)
            if gauges and gauges.first().loads:
                break
            if time.perf_counter() - t0 > 30:
                raise RuntimeError("the Today screen never filled in")
        elapsed = time.perf_counter() - t0
    return elapsed


REPLAY = Path(__file__).resolve().parents[1] / "loadmon" / "demo_data" / "rdl_set.csv"


async def live_latency(db: Path) -> tuple[list[float], list[float], float]:
    """Latencies (s) of every rep shown, and the wall time the replay took."""
    from textual.widgets import Select, Static

    app = make_app(db, source=str(REPLAY), today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await pilot.pause(0.3)
        live = app.screen
        assert isinstance(live, LiveScreen)
        live.speed = 1.0
        live.query_one("#live-exercise", Select).value = "rdl"
        t0 = time.perf_counter()
        await pilot.press("s")
        while time.perf_counter() - t0 < 180:
            await pilot.pause(0.1)
            if "stopped" in str(live.query_one("#live-signal", Static).render()):
                break
        return list(live.latencies), list(live.tui_latencies), time.perf_counter() - t0


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "year.db"
        t0 = time.perf_counter()
        summary = build_demo(db, today=TODAY, days=365)
        print(
            f"built a year of history in {time.perf_counter() - t0:.2f} s: "
            f"{summary.recordings} recordings, {summary.sets} sets, {summary.events} events, "
            f"{summary.log_entries} log entries"
        )
        data = DashboardData(db, None, TODAY)
        for name, fn in [
            ("day_status", lambda: data.day_status(TODAY)),
            ("day_sets", lambda: data.day_sets(TODAY)),
            ("whole Today fetch", lambda: fetch_today(data, TODAY)),
            ("8-week history (Trend)", lambda: data.history(date(2026, 9, 26), TODAY)),
        ]:
            ts = []
            for _ in range(3):
                t = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t)
            print(f"  {name:<24} {min(ts) * 1000:7.1f} ms")
        times = [asyncio.run(open_once(db)) for _ in range(RUNS)]
        med = statistics.median(times)
        print(
            f"first screen (Today, year of history): median {med:.3f} s over {RUNS} runs "
            f"(min {min(times):.3f}, max {max(times):.3f}); target < {TARGET_S:.1f} s: "
            f"{'met' if med < TARGET_S else 'NOT met'}"
        )
        if "--no-live" in sys.argv:
            return 0 if med < TARGET_S else 1
        lats, tui_lats, wall = asyncio.run(live_latency(db))
    ok_live = bool(lats) and max(lats) < TARGET_S
    shown = ", ".join(f"{x:.2f}" for x in lats)
    print(
        f"live (virtual sensor, {REPLAY.name} at real time, {wall:.0f} s): {len(lats)} reps "
        f"shown, latency after each rep's end [{shown}] s; max "
        f"{max(lats) if lats else float('nan'):.2f} s; target < {TARGET_S:.1f} s: "
        f"{'met' if ok_live else 'NOT met'}"
    )
    print(
        "  of which after the samples reached the host (streaming detectors + display): "
        + ", ".join(f"{x:.2f}" for x in tui_lats)
        + " s; before that, the samples wait in the sensor's frames (filled to the MTU: "
        "up to 1.5 s of samples at 52 Hz)"
    )
    # The live figure is dominated by the sensor layer (see above), so it fails the run only
    # with --strict; the first-screen target always does.
    if med >= TARGET_S:
        return 1
    return 1 if "--strict" in sys.argv and not ok_live else 0


if __name__ == "__main__":
    sys.exit(main())
