"""Benchmarks `loadmon status --json` for a patient with a year of daily data (target < 0.5 s).

Builds a temporary database: one year of daily recordings with detector events (bridge holds
every day; RDL reps with tempo, bridge reps and detector sets three times a week; hops from
phase 3; ~16 sitting bouts and posture events a day), daily pain, RPE on session days, logged
prone curls, weekly VISA-H and four phase changes. Then times `status.day_status` in-process
and `loadmon status NAME --json` as a subprocess (interpreter start-up and imports included).
Prints the figures; exits 1 if either median misses the target.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadmon import patients, status, storage
from loadmon.recording import Recording

TARGET_S = 0.5
DAYS = 365
NAME = "year"


class _Events:
    def __init__(self) -> None:
        self.t = 0.0
        self.events: list[dict[str, Any]] = []

    def add(self, typ: str, dur: float, **extra: Any) -> None:
        self.events.append({"type": typ, "start_s": self.t, "end_s": self.t + dur, **extra})
        self.t += dur + 5.0


def build(db_path: Path) -> tuple[str, int]:
    db = storage.open_db(db_path)
    end = date(2026, 11, 22)
    start = end - timedelta(days=DAYS - 1)
    patients.add_patient(db, NAME, "proximal-hamstring-tendinopathy", phase="1", start=start)
    for ph, wk in (("2", 5), ("3", 15), ("maintenance", 25)):
        patients.set_phase(db, NAME, ph, on=start + timedelta(weeks=wk))
    patients.set_prescription(db, NAME, "rdl", kg=20, on=start + timedelta(weeks=5))
    pid = int(storage.get_patient(db, NAME)["id"])
    rng = np.random.default_rng(1)
    n_events = 0
    for d in range(DAYS):
        day = start + timedelta(days=d)
        b = _Events()
        ev, add = b.events, b.add
        sets: list[dict[str, Any]] = []

        for _ in range(10):
            add("bridge_hold", 45.0, hold_s=float(rng.uniform(38, 46)))
        session = d % 7 in (0, 2, 4)
        if session and d >= 35:
            for _ in range(3):
                a = b.t
                for _ in range(12):
                    add("rdl_rep", 6.0, eccentric_s=float(rng.uniform(2.4, 3.4)),
                        concentric_s=float(rng.uniform(2.4, 3.4)))  # fmt: skip
                sets.append({"exercise": "rdl", "start_s": a, "end_s": b.t, "reps": 12})
            for _ in range(36):
                add("bridge_rep", 5.0)
            if d >= 105:
                for _ in range(60):
                    add("hop", 0.3, flight_s=0.3, contact_s=0.2)
        for _ in range(16):
            add("sitting", float(rng.uniform(5, 40)) * 60)
            add("standing", 300.0)
        add("walking", 3600.0)
        add("lying", 1800.0)
        add("nonwear", 600.0)
        rec = Recording(
            t=np.arange(10) / 52.0,
            acc=np.zeros((10, 3)),
            sample_rate_hz=52.0,
            start=datetime(day.year, day.month, day.day, 6, tzinfo=UTC),
        )
        rid = storage.save_recording(db, pid, rec)
        storage.save_analysis(db, rid, {"events": ev, "sets": sets}, version="bench",
                              parameters={})  # fmt: skip
        n_events += len(ev)
        patients.log_pain(db, NAME, during=2, next_morning=1, on=day)
        if session and d >= 35:
            patients.log_rpe(db, NAME, rpe=5, minutes=40, on=day)
            patients.log_set(db, NAME, exercise="prone_curl", reps=36, on=day)
        if d % 7 == 0:
            patients.log_visa_h(db, NAME, min(50 + d / 7, 100), on=day)
    db.close()
    return end.isoformat(), n_events


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        end, n_events = build(db_path)
        print(f"built {DAYS} days, {n_events} events in {time.perf_counter() - t0:.1f} s "
              f"({db_path.stat().st_size / 1e6:.1f} MB)")  # fmt: skip

        inproc = []
        for _ in range(7):
            t0 = time.perf_counter()
            db = storage.open_db(db_path, create=False)
            s = status.day_status(db, NAME, end)
            db.close()
            inproc.append(time.perf_counter() - t0)
        med = statistics.median(inproc)
        print(f"in-process day_status (open db + compute): median {med:.3f} s, "
              f"min {min(inproc):.3f} s; {len(s['warnings'])} warnings, phase {s['phase']}")

        t0 = time.perf_counter()
        hist = status.load_history(storage.open_db(db_path, create=False), NAME)
        print(f"in-process load_history (whole year): {time.perf_counter() - t0:.3f} s, "
              f"{len(hist.days)} days, {len(hist.warnings)} warnings")

        env = dict(os.environ, LOADMON_DB=str(db_path))
        cmd = [sys.executable, "-m", "loadmon", "status", NAME, "--date", end, "--json"]
        sub = []
        for _ in range(5):
            t0 = time.perf_counter()
            r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            sub.append(time.perf_counter() - t0)
            if r.returncode != 0:
                print(f"subprocess failed: {r.stderr.strip()}")
                return 1
        print(f"subprocess `loadmon status --json`: median {statistics.median(sub):.3f} s, "
              f"min {min(sub):.3f} s (target < {TARGET_S} s)")

        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import loadmon.cli"], env=env, check=True)
        print(f"  of which interpreter start-up + CLI imports: {time.perf_counter() - t0:.3f} s")
    ok = statistics.median(inproc) < TARGET_S and statistics.median(sub) < TARGET_S
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
