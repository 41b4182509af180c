"""Provides daily exercise load: detected events and sets plus the patient log, per day.

Sources, per local calendar day:

* detector events (`events` table): `bridge_hold` (one hold, `hold_s` or its duration),
  `bridge_rep`, `rdl_rep` (with `eccentric_s`/`concentric_s` for tempo), `hop` (one ground
  contact), `sitting` bouts, and posture types (walking, standing, ...) for wear/active time;
  each event type is mapped to the protocol exercise whose `event` names it;
* detector `sets` rows, for exercises whose per-rep events are absent in that recording
  (never both, so nothing is counted twice);
* manual `set` log entries (reps, holds of `hold_s` s, optional kg);
* `rpe` log entries: session-RPE load = minutes x CR-10 (Foster et al. 2001); without minutes,
  the day's detected set durations are used.

Day boundaries: an event belongs to the local calendar day of its *start*, as the patient's
`loadmon.days.Calendar` says (their IANA `timezone`, set at `patient add --timezone`, else
UTC). Events are grouped by UTC quarter-hour in SQL before the day is assigned; every zone's
offset is a whole number of quarter-hours, so half-hour (and 45-minute) zones are exact. A
sitting bout that crosses midnight counts wholly on its start day.
Log entries carry their own date.

External load (kg): every set counts with the kg entered for it: manual sets carry their own
kg, and a recorded set the `kg` in its `sets` row (entered on the Live screen, with
`import --kg`, or edited afterwards); only a set without one takes the kg of the patient's
latest prescription edit (`patients.set_prescription`) effective on that day, else 0.

Running: minutes of the detectors' `running` posture bouts per day (`running_min`).

Public API:
    read_daily(db, patient_id, protocol, start, end, timezone=None, calendar=None) -> DailyRaw
    category_loads(raw, protocol) -> dict[str, ndarray]   (one value per day per category)
    weekly_sums(values, days) -> (week_starts, sums)       (rehab weeks from the first day)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loadmon import storage
from loadmon.days import Calendar, calendar_for
from loadmon.protocols import Protocol

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Event types that are exercises (counted via the protocol's exercise `event`), and types that
#: are not postures; everything else is a posture/activity class of DESIGN.md.
EXERCISE_EVENTS = ("bridge_rep", "bridge_hold", "rdl_rep", "hop")
NOT_WORN = ("nonwear",)
#: Posture classes counted as upright/active time ("never completely immobilise").
ACTIVE_TYPES = ("standing", "walking", "running", "cycling", "stairs", "upright", "active")


@dataclass(frozen=True)
class ExerciseDay:
    """Per-day arrays for one exercise."""

    reps: FloatArray  # reps, holds or ground contacts
    hold_s: FloatArray  # total hold seconds (holds only)
    kg_reps: FloatArray  # sum of reps x kg


@dataclass(frozen=True)
class TempoReps:
    """Individual reps with measured tempo: day index, eccentric s, concentric s."""

    day: IntArray
    eccentric_s: FloatArray
    concentric_s: FloatArray


@dataclass(frozen=True)
class DailyRaw:
    """Everything `compare` and `alerts` need, one array element per day."""

    first_day: date
    n_days: int
    exercises: dict[str, ExerciseDay]
    sitting_min: FloatArray
    sitting_longest_min: FloatArray
    sitting_bouts_day: IntArray  # one element per bout
    sitting_bouts_min: FloatArray
    wear_min: FloatArray
    active_min: FloatArray
    running_min: FloatArray
    srpe: FloatArray
    set_minutes: FloatArray
    tempo: dict[str, TempoReps]
    log: list[dict[str, Any]] = field(default_factory=list)

    @property
    def days(self) -> list[str]:
        return [(self.first_day + timedelta(days=i)).isoformat() for i in range(self.n_days)]

    def index(self, day: str | date) -> int:
        d = date.fromisoformat(day) if isinstance(day, str) else day
        return (d - self.first_day).days


def _zeros(n: int) -> FloatArray:
    return np.zeros(n, dtype=np.float64)


#: SQL for the UTC quarter-hour of `start_utc` ('YYYY-MM-DDTHH:MM', MM in 00/15/30/45): fine
#: enough to give every zone's local day exactly, coarse enough to aggregate a year quickly.
QUARTER_HOUR_SQL = (
    "substr(start_utc, 1, 14) || "
    "printf('%02d', (CAST(substr(start_utc, 15, 2) AS INTEGER) / 15) * 15)"
)


class _DayMapper:
    """UTC quarter-hour key ('YYYY-MM-DDTHH:MM') -> local day index (or -1 outside the range)."""

    def __init__(self, first: date, n: int, calendar: Calendar) -> None:
        self.first = first
        self.n = n
        self.calendar = calendar
        self.cache: dict[str, int] = {}

    def __call__(self, key: str) -> int:
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        d = self.calendar.day_of(datetime.fromisoformat(key[:16] + ":00+00:00"))
        i = (d - self.first).days
        if i < 0 or i >= self.n:
            i = -1
        self.cache[key] = i
        return i


def read_daily(
    db: storage.Database,
    patient_id: int,
    protocol: Protocol,
    start: str | date,
    end: str | date,
    *,
    timezone: str | None = None,
    calendar: Calendar | None = None,
) -> DailyRaw:
    """Read one patient's daily raw load from `start` to `end` (inclusive, local days).

    Days are `calendar`'s (default: the calendar of `timezone`, else UTC)."""
    first = date.fromisoformat(start) if isinstance(start, str) else start
    last = date.fromisoformat(end) if isinstance(end, str) else end
    n = max((last - first).days + 1, 0)
    to_day = _DayMapper(first, n, calendar or calendar_for(timezone))
    lo = (first - timedelta(days=1)).isoformat()
    hi = (last + timedelta(days=2)).isoformat()

    exercises = {name: ExerciseDay(_zeros(n), _zeros(n), _zeros(n)) for name in protocol.exercises}
    event_to_ex = {ex.event: ex.name for ex in protocol.exercises.values() if ex.event}
    kg = _prescribed_kg(db, patient_id, protocol, first, n)

    wear = _zeros(n)
    active = _zeros(n)
    running = _zeros(n)
    set_kg = _set_kg(db, patient_id, lo, hi)
    # Aggregated per UTC quarter-hour, type and set (fast even for a year of events).
    rows = db.execute(
        f"SELECT {QUARTER_HOUR_SQL}, type, count(*), "
        "sum(CASE WHEN type = 'bridge_hold' "
        "    THEN coalesce(json_extract(data, '$.hold_s'), end_s - start_s) ELSE 0 END), "
        "sum(end_s - start_s), recording_id, set_index "
        "FROM events WHERE patient_id = ? AND start_utc >= ? AND start_utc < ? "
        "AND type != 'sitting' GROUP BY 1, 2, 6, 7",
        [patient_id, lo, hi],
    ).fetchall()
    for key, typ, count, hold, dur, rid, set_index in rows:
        i = to_day(key)
        if i < 0:
            continue
        ex_name = event_to_ex.get(typ)
        if ex_name is not None:
            e = exercises[ex_name]
            e.reps[i] += count
            e.hold_s[i] += hold or 0.0
            w = set_kg.get((int(rid), int(set_index))) if set_index is not None else None
            e.kg_reps[i] += count * (kg[ex_name][i] if w is None else w)
        elif typ not in EXERCISE_EVENTS and typ not in NOT_WORN:
            wear[i] += (dur or 0.0) / 60.0
            if typ in ACTIVE_TYPES:
                active[i] += (dur or 0.0) / 60.0
            if typ == "running":
                running[i] += (dur or 0.0) / 60.0

    # Sitting bouts, individually (for the longest bout and bouts over the limit).
    sit = db.execute(
        f"SELECT {QUARTER_HOUR_SQL}, end_s - start_s FROM events "
        "WHERE patient_id = ? AND type = 'sitting' AND start_utc >= ? AND start_utc < ?",
        [patient_id, lo, hi],
    ).fetchall()
    bout_day = np.fromiter((to_day(k) for k, _ in sit), dtype=np.int64, count=len(sit))
    bout_min = np.fromiter(
        (float(d or 0.0) / 60.0 for _, d in sit), dtype=np.float64, count=len(sit)
    )
    keep = bout_day >= 0
    bout_day, bout_min = bout_day[keep], bout_min[keep]
    sitting = np.bincount(bout_day, weights=bout_min, minlength=n).astype(np.float64)[:n]
    longest = _zeros(n)
    if bout_day.size:
        np.maximum.at(longest, bout_day, bout_min)
    wear += sitting

    # Tempo of individual reps for exercises whose events carry it.
    tempo: dict[str, TempoReps] = {}
    for typ, ex_name in event_to_ex.items():
        if typ != "rdl_rep":
            continue
        reps = db.execute(
            f"SELECT {QUARTER_HOUR_SQL}, json_extract(data, '$.eccentric_s'), "
            "json_extract(data, '$.concentric_s') FROM events "
            "WHERE patient_id = ? AND type = ? AND start_utc >= ? AND start_utc < ? "
            "AND json_extract(data, '$.eccentric_s') IS NOT NULL "
            "AND json_extract(data, '$.concentric_s') IS NOT NULL",
            [patient_id, typ, lo, hi],
        ).fetchall()
        d = np.fromiter((to_day(r[0]) for r in reps), dtype=np.int64, count=len(reps))
        ecc = np.fromiter((float(r[1]) for r in reps), dtype=np.float64, count=len(reps))
        con = np.fromiter((float(r[2]) for r in reps), dtype=np.float64, count=len(reps))
        m = d >= 0
        tempo[ex_name] = TempoReps(d[m], ecc[m], con[m])

    # Detector sets: counted only where that recording has no per-rep events of the exercise.
    with_events = {
        (int(r[0]), str(r[1]))
        for r in db.execute(
            "SELECT DISTINCT recording_id, type FROM events WHERE patient_id = ? "
            "AND start_utc >= ? AND start_utc < ? AND type IN (?, ?, ?, ?)",
            [patient_id, lo, hi, *EXERCISE_EVENTS],
        ).fetchall()
    }
    set_minutes = _zeros(n)
    for key, rid, ex_name, reps_n, dur, hold_s, set_w in db.execute(
        f"SELECT {QUARTER_HOUR_SQL}, recording_id, exercise, reps, end_s - start_s, "
        "json_extract(data, '$.hold_s'), json_extract(data, '$.kg') FROM sets "
        "WHERE patient_id = ? AND start_utc >= ? AND start_utc < ?",
        [patient_id, lo, hi],
    ).fetchall():
        i = to_day(key)
        if i < 0:
            continue
        set_minutes[i] += (dur or 0.0) / 60.0
        ex = protocol.exercises.get(ex_name)
        if ex is None or (ex.event is not None and (int(rid), ex.event) in with_events):
            continue
        e = exercises[ex.name]
        e.reps[i] += reps_n or 0
        if ex.kind == "hold":
            e.hold_s[i] += float(hold_s) * (reps_n or 0) if hold_s is not None else (dur or 0.0)
        w = kg[ex.name][i] if set_w is None else float(set_w)
        e.kg_reps[i] += (reps_n or 0) * w

    # The patient log.
    log = [
        dict(json.loads(r[3] or "{}"), id=r[0], date=r[1], kind=r[2])
        for r in db.execute(
            "SELECT id, date, kind, data FROM log_entries WHERE patient_id = ? "
            "AND date >= ? AND date <= ? ORDER BY date, id",
            [patient_id, first.isoformat(), last.isoformat()],
        ).fetchall()
    ]
    srpe = _zeros(n)
    for entry in log:
        i = (date.fromisoformat(entry["date"]) - first).days
        if entry["kind"] == "set":
            ex = protocol.exercises.get(entry.get("exercise", ""))
            if ex is None:
                continue
            e = exercises[ex.name]
            reps_n = float(entry.get("reps") or 0)
            e.reps[i] += reps_n
            if ex.kind == "hold":
                e.hold_s[i] += reps_n * float(entry.get("hold_s") or 0.0)
            w = entry.get("kg")
            e.kg_reps[i] += reps_n * (float(w) if w is not None else kg[ex.name][i])
        elif entry["kind"] == "rpe":
            minutes = entry.get("minutes")
            mins = float(minutes) if minutes is not None else set_minutes[i]
            srpe[i] += mins * float(entry.get("rpe") or 0.0)

    return DailyRaw(
        first_day=first,
        n_days=n,
        exercises=exercises,
        sitting_min=sitting,
        sitting_longest_min=longest,
        sitting_bouts_day=bout_day,
        sitting_bouts_min=bout_min,
        wear_min=wear,
        active_min=active,
        running_min=running,
        srpe=srpe,
        set_minutes=set_minutes,
        tempo=tempo,
        log=log,
    )


def _set_kg(
    db: storage.Database, patient_id: int, lo: str, hi: str
) -> dict[tuple[int, int], float]:
    """(recording id, set index) -> the kg entered for that recorded set (sets without none)."""
    out: dict[tuple[int, int], float] = {}
    pos: dict[int, int] = {}
    for rid, w in db.execute(
        "SELECT recording_id, json_extract(data, '$.kg') FROM sets WHERE recording_id IN "
        "(SELECT DISTINCT recording_id FROM sets WHERE patient_id = ? AND start_utc >= ? "
        "AND start_utc < ? AND json_extract(data, '$.kg') IS NOT NULL) ORDER BY recording_id, id",
        [patient_id, lo, hi],
    ).fetchall():
        k = pos.get(int(rid), 0)
        pos[int(rid)] = k + 1
        if w is not None:
            out[(int(rid), k)] = float(w)
    return out


def _prescribed_kg(
    db: storage.Database, patient_id: int, protocol: Protocol, first: date, n: int
) -> dict[str, FloatArray]:
    """kg per day per exercise from the prescription edits (step function, 0 before any)."""
    out = {name: _zeros(n) for name in protocol.exercises}
    for day, data in db.execute(
        "SELECT date, data FROM log_entries WHERE patient_id = ? AND kind = 'prescription' "
        "ORDER BY date, id",
        [patient_id],
    ).fetchall():
        d = json.loads(data or "{}")
        name, kg = d.get("exercise"), d.get("kg")
        if name not in out or kg is None:
            continue
        i = max((date.fromisoformat(day) - first).days, 0)
        if i < n:
            out[name][i:] = float(kg)
    return out


def category_loads(raw: DailyRaw, protocol: Protocol) -> dict[str, FloatArray]:
    """Each protocol category's daily value (see `Category.measure`)."""
    out: dict[str, FloatArray] = {}
    for name, cat in protocol.categories.items():
        if cat.measure == "sitting_min":
            out[name] = raw.sitting_min.copy()
        elif cat.measure == "srpe":
            out[name] = raw.srpe.copy()
        elif cat.measure == "running_min":
            out[name] = raw.running_min.copy()
        else:
            v = _zeros(raw.n_days)
            for ex in cat.exercises:
                e = raw.exercises[ex]
                v += {"hold_s": e.hold_s, "reps": e.reps, "kg_reps": e.kg_reps}[cat.measure]
            out[name] = v
    return out


def total_load(loads: dict[str, FloatArray], protocol: Protocol, n: int) -> FloatArray:
    """Weighted sum of the categories (`total_weight`; "rep-equivalents", a convention)."""
    total = _zeros(n)
    for name, cat in protocol.categories.items():
        if cat.total_weight:
            total += cat.total_weight * loads[name]
    return total


def weekly_sums(values: FloatArray, first_day: date) -> tuple[list[str], FloatArray]:
    """Sums over consecutive 7-day rehab weeks starting at `first_day` (last may be partial)."""
    n = values.shape[0]
    n_weeks = (n + 6) // 7
    padded = np.zeros(n_weeks * 7, dtype=np.float64)
    padded[:n] = values
    sums = padded.reshape(n_weeks, 7).sum(axis=1)
    starts = [(first_day + timedelta(days=7 * w)).isoformat() for w in range(n_weeks)]
    return starts, sums


def utc_day(ts: str) -> str:
    """The UTC calendar day of an ISO timestamp."""
    return datetime.fromisoformat(ts).astimezone(UTC).date().isoformat()
