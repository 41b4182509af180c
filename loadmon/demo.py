"""Provides the demo database: eight weeks of a PHT patient's rehab, built in a few seconds.

The story (day 0 is eight weeks before `today`): phase 1 isometrics (bridge holds twice a
day), a move to phase 2 heavy slow resistance on day 21 (slow bridges and RDLs three times
a week, holds on the other days), a sitting-heavy week (days 35–41, long office bouts),
a load spike (days 45–46, far more RDL volume than the weeks before, and a pain flare the
next morning), a tempo lapse (day 49, RDL reps much faster than 3 s each way), and today
with a morning session but no pain or RPE reported yet. The patient logs pain daily, VISA-H
and a clear red-flag check-in weekly; on the other days the warnings stay quiet (everyday
sitting bouts are under the limits).

The past sessions are stored as analyses (events and sets in the DESIGN.md shape, written
with `storage.save_analysis`) of events-only recordings (`status = "events-only"`, no samples
kept), so the story's numbers are exact and the build takes well under a second. Today's
session is real: the bundled simulated recordings in `loadmon/demo_data/` (see its
regenerate.py) of a bridge set and an RDL set are imported as guided sets, samples kept, and
counted by the detectors, like a session recorded on the Live screen. The same files feed the
Live screen's virtual sensor. Loads and warnings are then computed by loadmon.status from the
events and the log, like for any patient.
"""

from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from loadmon import patients, storage
from loadmon.errors import InputError

DEMO_PATIENT = "Sam Rivera"
DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
PROTOCOL = "proximal-hamstring-tendinopathy"
DAYS = 56
PHASE2_DAY = 21
SITTING_WEEK = range(35, 42)
SPIKE_DAYS = (45, 46)
TEMPO_LAPSE_DAY = 49
ANALYSIS_VERSION = "demo-1"


@dataclass
class DemoSummary:
    """What the demo database holds (printed by `loadmon demo`)."""

    db_path: Path
    patient: str
    start: date
    end: date
    recordings: int = 0
    sets: int = 0
    events: int = 0
    log_entries: int = 0
    phases: list[tuple[str, str]] = field(default_factory=list)
    highlights: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"demo database: {self.db_path}",
            f"patient: {self.patient} ({PROTOCOL}), {self.start} → {self.end}",
            "phases: " + ", ".join(f"{p} from {d}" for p, d in self.phases),
            f"{self.recordings} recordings, {self.sets} sets, {self.events} events, "
            f"{self.log_entries} log entries",
        ]
        out += [f"  - {h}" for h in self.highlights]
        return out


# ------------------------------------------------------------------------ synthetic sessions


def _hold_set(
    t0: float, n: int, hold: float, rng: random.Random
) -> tuple[list[dict[str, Any]], float]:
    events = []
    t = t0
    for _ in range(n):
        h = round(hold + rng.uniform(-4, 4), 1)
        events.append({"type": "bridge_hold", "start_s": t, "end_s": t + h, "hold_s": h})
        t += h + 60.0
    return events, t


def _rep_set(
    t0: float, kind: str, n: int, ecc: float, con: float, rng: random.Random
) -> tuple[list[dict[str, Any]], float]:
    events = []
    t = t0
    for _ in range(n):
        e = round(ecc + rng.uniform(-0.3, 0.3), 2)
        c = round(con + rng.uniform(-0.3, 0.3), 2)
        ev: dict[str, Any] = {"type": kind, "start_s": t, "end_s": round(t + e + c + 0.4, 2)}
        if kind == "rdl_rep":
            ev["eccentric_s"], ev["concentric_s"] = e, c
        events.append(ev)
        t = ev["end_s"] + 0.6
    return events, t + 90.0


def _session(plan: list[tuple[str, int, dict[str, Any]]], rng: random.Random) -> dict[str, Any]:
    """An analysis dict (DESIGN.md shape) for a list of (exercise, reps, options) sets."""
    t = 30.0
    events: list[dict[str, Any]] = []
    sets: list[dict[str, Any]] = []
    for exercise, reps, opts in plan:
        if exercise == "bridge_hold":
            evs, t_end = _hold_set(t, reps, float(opts.get("hold", 40)), rng)
        elif exercise == "rdl":
            evs, t_end = _rep_set(
                t, "rdl_rep", reps, opts.get("ecc", 3.1), opts.get("con", 3.0), rng
            )
        else:
            evs, t_end = _rep_set(t, "bridge_rep", reps, 1.6, 1.6, rng)
        st: dict[str, Any] = {
            "exercise": exercise,
            "start_s": evs[0]["start_s"],
            "end_s": evs[-1]["end_s"],
            "reps": len(evs),
        }
        if opts.get("kg"):
            st["kg"] = opts["kg"]
        for ev in evs:
            ev["set_index"] = len(sets)
        sets.append(st)
        events.extend(evs)
        t = t_end
    return {"events": events, "sets": sets, "summary": {"source": "demo"}, "duration_s": t}


def _sitting_day(day_index: int, rng: random.Random) -> dict[str, Any]:
    """Sitting bouts between 08:00 and 20:00 (seconds from 08:00)."""
    heavy = day_index in SITTING_WEEK
    events = []
    t = 1800.0
    while t < 11.5 * 3600:
        minutes = rng.uniform(95, 125) if heavy else rng.uniform(15, 28)
        end = min(t + minutes * 60, 12 * 3600 - 60)
        events.append({"type": "sitting", "start_s": round(t, 1), "end_s": round(end, 1)})
        t = end + rng.uniform(10, 25 if heavy else 60) * 60
    return {"events": events, "sets": [], "summary": {"source": "demo"}, "duration_s": 12 * 3600.0}


def day_plan(i: int) -> list[tuple[int, list[tuple[str, int, dict[str, Any]]]]]:
    """(hour, sets) of each session on day `i` of the story."""
    if i < PHASE2_DAY:
        if i % 7 == 6:
            return []
        hold = 30 + min(i, 14)
        return [
            (8, [("bridge_hold", 5, {"hold": hold})]),
            (18, [("bridge_hold", 5, {"hold": hold})]),
        ]
    week = (i - PHASE2_DAY) // 7
    kg = 10 + 2.5 * week
    if i in SPIKE_DAYS:
        return [
            (
                17,
                [
                    ("bridge", 15, {}),
                    ("bridge", 15, {}),
                    ("bridge", 15, {}),
                    ("rdl", 12, {"kg": 30}),
                    ("rdl", 12, {"kg": 30}),
                    ("rdl", 12, {"kg": 30}),
                    ("rdl", 12, {"kg": 30}),
                ],
            )
        ]
    if i == TEMPO_LAPSE_DAY:
        return [
            (
                17,
                [
                    ("bridge", 10, {}),
                    ("rdl", 8, {"kg": kg, "ecc": 1.2, "con": 0.9}),
                    ("rdl", 8, {"kg": kg, "ecc": 1.1, "con": 0.9}),
                    ("rdl", 8, {"kg": kg, "ecc": 1.3, "con": 1.0}),
                ],
            )
        ]
    if (i - PHASE2_DAY) % 2 == 0:
        return [
            (
                17,
                [
                    ("bridge", 10, {}),
                    ("bridge", 10, {}),
                    ("bridge", 10, {}),
                    ("rdl", 8, {"kg": kg}),
                    ("rdl", 8, {"kg": kg}),
                    ("rdl", 8, {"kg": kg}),
                ],
            )
        ]
    return [(8, [("bridge_hold", 4, {"hold": 45})])]


# ------------------------------------------------------------------------ building


def _insert_events_only_recording(
    db: storage.Database, pid: int, start: datetime, duration_s: float, device: str
) -> int:
    table = db.table("recordings")
    row = table.insert(
        {
            "patient_id": pid,
            "device": device,
            "placement": "thigh",
            "start": start.isoformat(),
            "duration_s": duration_s,
            "sample_rate_hz": 52.0,
            "n_samples": 0,
            "has_gyro": 1,
            "source": "loadmon demo (events only, no samples kept)",
            "meta": json.dumps({"extra": {"demo": "1"}}),
            "imported_at": storage.now_iso(),
            "status": "events-only",
        }
    )
    return int(row.last_pk or 0)


def build_demo(
    db_path: str | Path,
    *,
    today: date | None = None,
    seed: int = 2026,
    days: int = DAYS,
) -> DemoSummary:
    """Create the demo database at `db_path` (replacing an older demo file there)."""
    from loadmon.tui.data import DashboardData

    db_path = Path(db_path)
    end = today or datetime.now().date()
    if days < DAYS:
        raise InputError(f"the demo story needs at least {DAYS} days")
    start = end - timedelta(days=days - 1)
    shift = days - DAYS  # the story happens in the last DAYS days; earlier days repeat phase 1
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            if suffix == "" and not _is_demo_db(p):
                raise InputError(f"{p} exists and is not a loadmon demo database; not replacing it")
            p.unlink()
    db = storage.open_db(db_path)
    rng = random.Random(seed)
    summary = DemoSummary(db_path, DEMO_PATIENT, start, end)
    pid = _add_patient(db, start)
    data = DashboardData(db_path, DEMO_PATIENT, end)
    data._local.db = db
    summary.phases.append(("1", start.isoformat()))
    p2 = start + timedelta(days=shift + PHASE2_DAY)
    data.set_phase("2", p2, "pain settled; start heavy slow resistance")
    summary.phases.append(("2", p2.isoformat()))
    data.set_prescription("bridge_hold", start, sets=5, hold_s=40)
    data.set_prescription("rdl", p2, sets=3, reps=8, tempo_s=3, kg=10)
    with db.atomic():
        for k in range(days):
            i = max(k - shift, 0) if k >= shift else k % 14
            day = start + timedelta(days=k)
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
            sessions = day_plan(i)
            if k == days - 1:
                sessions = []  # today's session is recorded (below)
            for hour, plan in sessions:
                t0 = midnight + timedelta(hours=hour, minutes=rng.randint(0, 20))
                analysis = _session(plan, rng)
                rid = _insert_events_only_recording(
                    db, pid, t0, analysis["duration_s"], "polar-verity-sense"
                )
                storage.save_analysis(
                    db, rid, analysis, version=ANALYSIS_VERSION, parameters={"demo_seed": seed}
                )
            sit = _sitting_day(i, rng)
            rid = _insert_events_only_recording(
                db, pid, midnight + timedelta(hours=8), sit["duration_s"], "polar-verity-sense"
            )
            storage.save_analysis(
                db, rid, sit, version=ANALYSIS_VERSION, parameters={"demo_seed": seed}
            )
            _log_day(data, i if k >= shift else 1 + k % 13, day, bool(sessions), rng)
    _record_today(db, end)
    summary.recordings = db["recordings"].count
    summary.sets = db["sets"].count
    summary.events = db["events"].count
    summary.log_entries = db["log_entries"].count

    def d(k: int) -> str:
        return (start + timedelta(days=shift + k)).isoformat()

    summary.highlights = [
        f"phase change 1 → 2 on {d(PHASE2_DAY)}",
        f"sitting-heavy week {d(SITTING_WEEK.start)} – {d(SITTING_WEEK.stop - 1)} "
        "(bouts of 95–125 min)",
        f"load spike on {d(SPIKE_DAYS[0])} and {d(SPIKE_DAYS[1])} "
        "(4 × 12 RDL at 30 kg), pain flare next morning: an alarm, then isometrics-only "
        "advice until the pain has settled for two days",
        f"tempo lapse on {d(TEMPO_LAPSE_DAY)} (RDL reps ≈ 1.2 s down / 0.9 s up)",
        f"today {end}: a morning session recorded with the sensor (8 bridges, 5 RDLs; "
        "samples kept, counted by the detectors), pain and RPE not reported yet",
    ]
    data._local.db = None
    db.close()
    return summary


#: Today's morning session: (bundled guided recording, exercise, minutes after 08:00).
TODAY_SESSION = (("bridge_set.csv", "bridge", 5), ("rdl_set.csv", "rdl", 12))


def _record_today(db: storage.Database, today: date) -> None:
    """Import today's session from the bundled recordings, as guided sets: the samples are
    kept and the reps come from the detectors, like a session recorded on the Live screen."""
    from loadmon import importing
    from loadmon.recording import read_recording

    for name, exercise, minutes in TODAY_SESSION:
        rec = read_recording(DEMO_DATA / name)
        start = datetime(today.year, today.month, today.day, 8, tzinfo=UTC)
        rec = dataclasses.replace(rec, start=start + timedelta(minutes=minutes))
        importing.import_recording(db, rec, patient=DEMO_PATIENT, exercise=exercise)


def _is_demo_db(path: Path) -> bool:
    try:
        db = storage.open_db(path, create=False)
    except Exception:
        return False
    try:
        names = [p["name"] for p in storage.list_patients(db)]
        return names == [DEMO_PATIENT] or not names
    finally:
        db.close()


def _add_patient(db: storage.Database, start: date) -> int:
    return patients.add_patient(db, DEMO_PATIENT, PROTOCOL, phase="1", start=start)


def _log_day(data: Any, i: int, day: date, worked: bool, rng: random.Random) -> None:
    if i == DAYS - 1:
        return
    during = 2 + (rng.random() < 0.3)
    morning = 1 + (rng.random() < 0.3)
    if i in (SPIKE_DAYS[1], SPIKE_DAYS[1] + 1):
        during, morning = 6, 5
    data.log_pain(day, during, morning)
    if worked:
        rpe = 7 if i in SPIKE_DAYS else rng.choice([4, 5, 5, 6])
        data.log_rpe(day, rpe, 35.0 if i >= PHASE2_DAY else 15.0)
    if i % 7 == 0:
        data.log_visa_h(day, 52 + i // 2)
        data.log_check_in(day, [])  # the weekly red-flag check-in: nothing to report
    if i == 30:
        data.log_set(
            day, "prone_curl" if "prone_curl" in data.exercises() else "bridge", 12, None, 5.0
        )
