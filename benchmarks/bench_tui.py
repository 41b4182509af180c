"""Times the dashboard: first screen on a year of history (< 1 s) and live rep latency (< 1 s).

1. Builds a 365-day demo database (about 1000 recordings, 7500 events, 700 log entries), then
starts the app headless (Textual's test driver, 120×40) and measures from creating the app
until the Today screen shows the day's loads, sets and warnings; repeated, median reported.
Also prints the cost of each data call behind the first screen.

2. Runs the Live screen on virtual sensors (the real bleak API on the virtual radio) replaying
guided sets at real time, and reports for each rep the wall time from the sensor measuring the
rep's last sample (the emulator's replay clock is the reference) to the rep appearing on
screen, per scenario, and its max:

- RDLs (loadmon/demo_data/rdl_set.csv) and bridges (bridge_set.csv) on a Movesense, which
  notifies every 6 samples (0.12 s at 52 Hz): the latency of the app itself;
- the same on a Polar Verity Sense at 52 Hz, which sends a frame only once it is full
  (232 bytes: ≈ 1.2 s of ACC, ≈ 1.5 s of GYRO samples): the sensor's own wait comes on top.

Reps shown live and withdrawn when the stream ended (the offline analysis of the whole set does
not confirm them) are listed too.

A Verity asked for 208 Hz (SDK mode) fills its frames four times sooner; that is run too.

For guided RDL and bridge sets the Live screen feeds the rep counter accelerometer samples as
soon as their ACC frame is in, without waiting for the GYRO frame they are paired with
(`sensor_chunks(..., paired=…)`; those detectors need only the accelerometer). The complete
acc + gyro chunks, which a save stores, are kept separately; the benchmark checks them.

`--help` prints this text. `--no-live` skips part 2, `--live-only` skips part 1, `--only=TEXT`
runs the live scenarios whose "profile@rate:file" contains TEXT; `--strict` fails the run
when a live target is missed (by default only the first-screen target sets the exit status;
the Verity at its default 52 Hz is reported but not held to it).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadmon.demo import build_demo
from loadmon.tui.app import make_app
from loadmon.tui.data import DashboardData, SampleChunk
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


DEMO = Path(__file__).resolve().parents[1] / "loadmon" / "demo_data"
#: (virtual sensor profile, sample rate asked for (None: default), replay file, guided exercise)
SCENARIOS: list[tuple[str, int | None, Path, str]] = [
    ("movesense", None, DEMO / "rdl_set.csv", "rdl"),
    ("movesense", None, DEMO / "bridge_set.csv", "bridge"),
    ("polar-verity-sense", None, DEMO / "rdl_set.csv", "rdl"),
    ("polar-verity-sense", None, DEMO / "bridge_set.csv", "bridge"),
    ("polar-verity-sense", 208, DEMO / "rdl_set.csv", "rdl"),
    ("polar-verity-sense", 208, DEMO / "bridge_set.csv", "bridge"),
]


@dataclass
class LiveRun:
    profile: str
    rate: int | None
    replay: Path
    exercise: str
    #: (event type, rep end s, latency s) of each rep shown, in order.
    shown: list[tuple[str, float, float]] = field(default_factory=list)
    #: Seconds from the frame holding the rep's end reaching the host to the rep being shown.
    tui: list[float] = field(default_factory=list)
    withdrawn: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    #: what the Live screen's recorder stored (one chunk: the recording).
    paired: list[SampleChunk] | None = None


async def live_latency(
    db: Path, profile: str, rate: int | None, replay: Path, exercise: str
) -> LiveRun:
    """The Live screen on one virtual sensor replaying one guided set at real time."""
    run = LiveRun(profile, rate, replay, exercise)
    await _live(db, run)
    return run


async def _live(db: Path, run: LiveRun) -> None:
    from textual.widgets import Select, Static

    profile, rate, replay, exercise = run.profile, run.rate, run.replay, run.exercise
    app = make_app(db, source=str(replay), today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await pilot.pause(0.3)
        live = app.screen
        assert isinstance(live, LiveScreen)
        live.speed = 1.0
        live.rate_request = rate
        live.query_one("#live-source", Select).value = f"virtual:{profile}"
        live.query_one("#live-exercise", Select).value = exercise
        t0 = time.perf_counter()
        await pilot.press("s")
        while time.perf_counter() - t0 < 240:
            await pilot.pause(0.1)
            if "stopped" in str(live.query_one("#live-signal", Static).render()):
                break
        await pilot.pause(0.3)
        run.wall_s = time.perf_counter() - t0
        run.shown = list(live.latency_log)
        run.tui = list(live.tui_latencies)
        run.withdrawn = [float(e.get("end_s", 0.0)) for e in live.withdrawn]
        if live.recorder is not None and live.recorder.recording_id is not None:
            from loadmon import storage

            stored = storage.load_recording(storage.open_db(db), live.recorder.recording_id)
            run.paired = [SampleChunk(stored.t, stored.acc, stored.gyro, stored.sample_rate_hz)]


def report(run: LiveRun) -> bool:
    lats = [x for _, _, x in run.shown]
    ok = bool(lats) and max(lats) <= TARGET_S
    each = ", ".join(f"{lat:.2f}" for _, _, lat in run.shown)
    print(
        f"live, virtual {run.profile} at {run.rate or 'its default'} Hz, {run.replay.name} "
        f"guided as {run.exercise}, real time "
        f"({run.wall_s:.0f} s): {len(lats)} reps shown, latency after each rep's end [{each}] s; "
        f"max {max(lats) if lats else float('nan'):.2f} s; target ≤ {TARGET_S:.1f} s: "
        f"{'met' if ok else 'NOT met'}"
    )
    print(
        "  of which after the frame holding the rep's end reached the host (the 0.3 s settle, "
        "later frames, detectors, display): " + ", ".join(f"{x:.2f}" for x in run.tui) + " s"
    )
    if run.withdrawn:
        print(
            "  withdrawn when the stream ended (not confirmed by the offline analysis): reps "
            "ending at " + ", ".join(f"{x:.1f}" for x in run.withdrawn) + " s"
        )
    if run.paired is not None:
        chunks = [c for c in run.paired if c.t.size]
        n = sum(c.t.size for c in chunks)
        with_gyro = sum(c.t.size for c in chunks if c.gyro is not None)
        print(f"  the recording stored holds {n} samples, {with_gyro} with gyro")
        ok = ok and bool(n) and with_gyro in (0, n)  # all paired, or an acc-only sensor
    return ok


def first_screen(db: Path) -> float:
    t0 = time.perf_counter()
    summary = build_demo(db, today=TODAY, days=365)
    print(
        f"built a year of history in {time.perf_counter() - t0:.2f} s: "
        f"{summary.recordings} recordings, {summary.sets} sets, {summary.events} events, "
        f"{summary.log_entries} log entries"
    )
    data = DashboardData(db, None, TODAY)
    calls: list[tuple[str, Callable[[], object]]] = [
        ("day_status", lambda: data.day_status(TODAY)),
        ("day_sets", lambda: data.day_sets(TODAY)),
        ("whole Today fetch", lambda: fetch_today(data, TODAY)),
        ("8-week history (Trend)", lambda: data.history(date(2026, 9, 26), TODAY)),
    ]
    for name, fn in calls:
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
    return med


def main() -> int:
    if "--help" in sys.argv or "-h" in sys.argv:
        print(__doc__)
        return 0
    med = 0.0
    ok_live = True
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "year.db"
        if "--live-only" in sys.argv:
            build_demo(db, today=TODAY)
        else:
            med = first_screen(db)
        if "--no-live" not in sys.argv:
            only = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--only=")]
            for profile, rate, replay, exercise in SCENARIOS:
                label = f"{profile}@{rate or 'default'}:{replay.name}"
                if only and not any(o in label for o in only):
                    continue
                run = asyncio.run(live_latency(db, profile, rate, replay, exercise))
                ok = report(run)
                # At its default 52 Hz the Verity's frames alone hold samples for 1.2–1.5 s
                # (see the docstring): that run is reported, not held to the target.
                if not (profile == "polar-verity-sense" and rate is None):
                    ok_live = ok_live and ok
    if med >= TARGET_S:
        return 1
    return 1 if "--strict" in sys.argv and not ok_live else 0


if __name__ == "__main__":
    sys.exit(main())
