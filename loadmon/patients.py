"""Provides patients on a protocol: phases and their history, prescription edits, and the log.

The patient log holds what the sensor cannot know. Each entry is a row of `log_entries`
(`kind` + JSON `data`, dated with the local calendar day it is about):

    pain          {"during": 0-10 | null, "next_morning": 0-10 | null,
                   "stiffness": 0-10 | null (morning stiffness, when given)}
                  an entry dated D is about D's session: pain during it, and pain on the
                  morning after (D + 1)
    rpe           {"rpe": 0-10 (CR-10), "minutes": float | null}  session-RPE (Foster 2001)
    set           {"exercise": name, "reps": int, "hold_s": float | null, "kg": float | null}
    visa_h        {"score": 0-100}
    intervention  {"intervention": corticosteroid-injection | prp-injection | shockwave |
                                   dry-needling | surgery, "note": str}
    prescription  {"exercise": name, "kg": float, ...}  a physio's edit, effective from the date
    check_in      {"red_flags": [kind, ...]}  the safety check-in ([] = nothing to report);
                  kinds: protocols.RED_FLAG_KINDS
    ack           {"rule": rule id, "note": str}  a clinician has seen a standing warning

Phases live in `phase_history` (phase id, start date); the phase on a day is the latest entry
starting on or before it. Dates are ISO `YYYY-MM-DD` local calendar days (see `loadmon.load`
for how sensor timestamps become days: UTC unless the patient has a `timezone`).

Public API: add_patient, set_protocol, list_patient_summaries, get_patient_info, set_phase,
phase_history, set_prescription, log_pain, log_rpe, log_set, log_visa_h, log_intervention,
log_check_in, last_check_in, acknowledge, log_entries, parse_date, today.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from loadmon import storage
from loadmon.days import UTC_CALENDAR, Calendar, calendar_for
from loadmon.errors import InputError
from loadmon.protocols import INTERVENTION_KINDS, RED_FLAG_KINDS, Protocol, get_protocol

LOG_KINDS = ("pain", "rpe", "set", "visa_h", "intervention", "prescription", "check_in", "ack")


@dataclass(frozen=True)
class PhaseChange:
    phase: str
    start_date: str
    note: str


@dataclass(frozen=True)
class PatientInfo:
    id: int
    name: str
    protocol_id: str
    protocol_ref: str  # what is stored: a shipped id or the path of a physio's own file
    start_date: str
    timezone: str | None
    prescription: dict[str, Any]
    phases: tuple[PhaseChange, ...]

    def protocol(self) -> Protocol:
        return get_protocol(self.protocol_ref)

    @property
    def calendar(self) -> Calendar:
        """The patient's days (their `timezone`, else UTC)."""
        return calendar_for(self.timezone)

    def phase_on(self, day: str) -> str | None:
        current = None
        for ch in self.phases:
            if ch.start_date <= day:
                current = ch.phase
        return current


def today(cal: Calendar = UTC_CALENDAR) -> str:
    """Today's ISO date in `cal` (a patient's calendar; UTC when not about a patient)."""
    return cal.today().isoformat()


def row_calendar(row: Mapping[str, Any]) -> Calendar:
    """The calendar of a stored patient row (its prescription's `timezone`, else UTC)."""
    try:
        presc = json.loads(row.get("prescription") or "{}")
    except (TypeError, ValueError):
        presc = {}
    tz = presc.get("timezone") if isinstance(presc, dict) else None
    return calendar_for(tz if isinstance(tz, str) else None)


def patient_calendar(db: storage.Database, name: str) -> Calendar:
    """The calendar of patient `name` (NotFoundError if there is none)."""
    return row_calendar(storage.get_patient(db, name))


def parse_date(
    value: str | date | None, what: str = "date", cal: Calendar = UTC_CALENDAR
) -> str:
    """ISO `YYYY-MM-DD` (or today in `cal` when None); `InputError` for anything else."""
    if value is None:
        return today(cal)
    if isinstance(value, date):
        return value.isoformat()
    try:
        d = date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{what}: expected a date like 2026-11-22, got {value!r}") from None
    if not MIN_DATE <= d <= MAX_DATE:
        raise InputError(f"{what}: expected a date from {MIN_DATE} to {MAX_DATE}, got {value!r}")
    return d.isoformat()


#: The dates loadmon accepts: far enough apart for any care, near enough that date
#: arithmetic (windows, week starts) never leaves the calendar.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)


def _num(value: Any, what: str, lo: float, hi: float | None, *, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{what}: expected a number, got {value!r}")
    if not math.isfinite(value):
        raise InputError(f"{what}: expected a finite number, got {value!r}")
    if integer and int(value) != value:
        raise InputError(f"{what}: expected a whole number, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f"{lo:g} to {hi:g}" if hi is not None else f">= {lo:g}"
        raise InputError(f"{what}: expected {rng}, got {value:g}")
    return float(value)


# --------------------------------------------------------------------------------------------
# Patients and phases


def _protocol_ref(protocol: str) -> tuple[str, Protocol]:
    proto = get_protocol(protocol)
    if protocol.endswith(".toml") or "/" in protocol:
        return str(Path(protocol).resolve()), proto
    return proto.id, proto


def add_patient(
    db: storage.Database,
    name: str,
    protocol: str,
    *,
    phase: str | None = None,
    start: str | date | None = None,
    timezone: str | None = None,
) -> int:
    """Create a patient on `protocol` (an id or a .toml path) in `phase` (default: first)."""
    existing = storage.find_patient(db, name)
    if existing is not None and not existing.get("protocol"):
        raise InputError(
            f"a patient called {name!r} already exists, with no protocol (made by "
            f"'import --create'); give them one with 'loadmon patient set-protocol "
            f"{name} {protocol}'"
        )
    ref, proto = _protocol_ref(protocol)
    phase_id = proto.phase_ids[0] if phase is None else str(phase)
    proto.phase(phase_id)  # NotFoundError lists the phases
    cal = calendar_for(timezone)  # InputError for an unknown zone
    start_date = parse_date(start, "start", cal)
    presc: dict[str, Any] = {"timezone": timezone} if timezone else {}
    with storage.transaction(db):
        pid = storage.add_patient(
            db, name, protocol=ref, start_date=start_date, prescription=presc
        )
        db.table("phase_history").insert(
            {"patient_id": pid, "phase": phase_id, "start_date": start_date, "note": "start"}
        )
    return pid


def set_protocol(
    db: storage.Database,
    name: str,
    protocol: str,
    *,
    phase: str | None = None,
    start: str | date | None = None,
) -> None:
    """Put an existing patient (e.g. one created by `import --create`) on a protocol.

    The phase history restarts at `start` (default: the patient's start date, else today)."""
    row = storage.get_patient(db, name)
    ref, proto = _protocol_ref(protocol)
    phase_id = proto.phase_ids[0] if phase is None else str(phase)
    proto.phase(phase_id)
    start_date = parse_date(start or row.get("start_date"), "start", row_calendar(row))
    with storage.transaction(db):
        db.table("patients").update(row["id"], {"protocol": ref, "start_date": start_date})
        db.execute("DELETE FROM phase_history WHERE patient_id = ?", [row["id"]])
        db.table("phase_history").insert(
            {"patient_id": row["id"], "phase": phase_id, "start_date": start_date,
             "note": f"protocol {proto.id}"}
        )  # fmt: skip


def get_patient_info(db: storage.Database, name: str) -> PatientInfo:
    row = storage.get_patient(db, name)
    if not row.get("protocol"):
        raise InputError(
            f"patient {name!r} has no protocol; set one with "
            f"'loadmon patient set-protocol {name} PROTOCOL'"
        )
    phases = tuple(
        PhaseChange(r["phase"], r["start_date"], r["note"] or "")
        for r in db.query(
            "SELECT phase, start_date, note FROM phase_history WHERE patient_id = ? "
            "ORDER BY start_date, id",
            [row["id"]],
        )
    )
    presc = json.loads(row.get("prescription") or "{}")
    proto_ref = str(row["protocol"])
    return PatientInfo(
        id=int(row["id"]),
        name=row["name"],
        protocol_id=proto_ref if "/" not in proto_ref else get_protocol(proto_ref).id,
        protocol_ref=proto_ref,
        start_date=row.get("start_date") or (row["created"] or today(row_calendar(row)))[:10],
        timezone=presc.get("timezone"),
        prescription=presc,
        phases=phases,
    )


def list_patient_summaries(db: storage.Database) -> list[dict[str, Any]]:
    """The `loadmon patient list --json` objects: name, protocol, phase, phase_since, start."""
    out = []
    for row in storage.list_patients(db):
        last = db.execute(
            "SELECT phase, start_date FROM phase_history WHERE patient_id = ? "
            "ORDER BY start_date DESC, id DESC LIMIT 1",
            [row["id"]],
        ).fetchone()
        out.append(
            {
                "name": row["name"],
                "protocol": row["protocol"],
                "phase": last[0] if last else None,
                "phase_since": last[1] if last else None,
                "start_date": row["start_date"],
            }
        )
    return out


def set_phase(
    db: storage.Database, name: str, phase: str, *, on: str | date | None = None, note: str = ""
) -> None:
    """Move a patient to `phase` from date `on` (default today); the history is kept."""
    info = get_patient_info(db, name)
    info.protocol().phase(str(phase))
    day = parse_date(on, cal=info.calendar)
    if day < info.start_date:
        raise InputError(f"date: {day} is before {name}'s start date {info.start_date}")
    with storage.transaction(db):
        db.table("phase_history").insert(
            {"patient_id": info.id, "phase": str(phase), "start_date": day, "note": note}
        )


def phase_history(db: storage.Database, name: str) -> list[PhaseChange]:
    return list(get_patient_info(db, name).phases)


def set_prescription(
    db: storage.Database,
    name: str,
    exercise: str,
    *,
    on: str | date | None = None,
    kg: float | None = None,
    sets: int | None = None,
    reps: int | None = None,
    hold_s: float | None = None,
    tempo_s: float | None = None,
) -> None:
    """Record a physio's edit of one exercise's prescription, effective from `on`.

    The `kg` here is what sensor-detected reps of that exercise are multiplied by."""
    info = get_patient_info(db, name)
    proto = info.protocol()
    if exercise not in proto.exercises:
        raise InputError(
            f"exercise: {exercise!r} is not in protocol {proto.id} "
            f"(expected one of: {', '.join(proto.exercises)})"
        )
    data: dict[str, Any] = {"exercise": exercise}
    if kg is not None:
        data["kg"] = _num(kg, "kg", 0, 500)
    if sets is not None:
        data["sets"] = int(_num(sets, "sets", 1, 20, integer=True))
    if reps is not None:
        data["reps"] = int(_num(reps, "reps", 1, 200, integer=True))
    if hold_s is not None:
        data["hold_s"] = _num(hold_s, "hold-s", 1, 600)
    if tempo_s is not None:
        data["tempo_s"] = _num(tempo_s, "tempo-s", 0.5, 20)
    day = parse_date(on, cal=info.calendar)
    presc = dict(info.prescription)
    ex = dict(presc.get("exercises", {}).get(exercise, {}))
    ex.update({k: v for k, v in data.items() if k != "exercise"})
    presc.setdefault("exercises", {})
    presc["exercises"] = {**presc["exercises"], exercise: ex}
    with storage.transaction(db):
        _insert_log(db, info.id, day, "prescription", data)
        db.table("patients").update(info.id, {"prescription": json.dumps(presc)})


# --------------------------------------------------------------------------------------------
# The log


def _insert_log(db: storage.Database, pid: int, day: str, kind: str, data: dict[str, Any]) -> int:
    table = db.table("log_entries").insert(
        {
            "patient_id": pid,
            "date": day,
            "kind": kind,
            "data": json.dumps(data),
            "created": storage.now_iso(),
        }
    )
    return int(table.last_pk or 0)


def log_pain(
    db: storage.Database,
    name: str,
    *,
    during: float | None = None,
    next_morning: float | None = None,
    stiffness: float | None = None,
    on: str | date | None = None,
) -> int:
    """Pain (0-10 NRS) during the session of day `on` and/or on the morning after, and
    optionally the morning stiffness (0-10; creeping stiffness warns like creeping pain)."""
    if during is None and next_morning is None and stiffness is None:
        raise InputError("pain: give --during and/or --next-morning (0-10)")
    data = {
        "during": None if during is None else _num(during, "during", 0, 10),
        "next_morning": None if next_morning is None else _num(next_morning, "next-morning", 0, 10),
    }
    if stiffness is not None:
        data["stiffness"] = _num(stiffness, "stiffness", 0, 10)
    row = storage.get_patient(db, name)
    return _insert_log(db, row["id"], parse_date(on, cal=row_calendar(row)), "pain", data)


def log_rpe(
    db: storage.Database,
    name: str,
    *,
    rpe: float,
    minutes: float | None = None,
    on: str | date | None = None,
) -> int:
    """Session RPE on the CR-10 scale, with the session's minutes (load = minutes x RPE).

    Without minutes, the day's sensor-detected set durations are used (see `loadmon.load`)."""
    data = {
        "rpe": _num(rpe, "rpe", 0, 10),
        "minutes": None if minutes is None else _num(minutes, "minutes", 0, 600),
    }
    row = storage.get_patient(db, name)
    return _insert_log(db, row["id"], parse_date(on, cal=row_calendar(row)), "rpe", data)


def log_set(
    db: storage.Database,
    name: str,
    *,
    exercise: str,
    reps: int,
    hold_s: float | None = None,
    kg: float | None = None,
    on: str | date | None = None,
) -> int:
    """One set done without the sensor. Holds: `reps` holds of `hold_s` seconds each."""
    info = get_patient_info(db, name)
    proto = info.protocol()
    ex = proto.exercises.get(exercise)
    if ex is None:
        raise InputError(
            f"exercise: {exercise!r} is not in protocol {proto.id} "
            f"(expected one of: {', '.join(proto.exercises)})"
        )
    n = int(_num(reps, "reps", 1, 1000, integer=True))
    if ex.kind == "hold":
        if hold_s is None:
            raise InputError(f"hold-s: {exercise!r} is a hold; give --hold-s SECONDS")
        hold = _num(hold_s, "hold-s", 1, 600)
    else:
        if hold_s is not None:
            raise InputError(f"hold-s: {exercise!r} is counted in {ex.kind}, not a hold")
        hold = None
    data = {
        "exercise": exercise,
        "reps": n,
        "hold_s": hold,
        "kg": None if kg is None else _num(kg, "kg", 0, 500),
    }
    return _insert_log(db, info.id, parse_date(on, cal=info.calendar), "set", data)


def log_visa_h(
    db: storage.Database, name: str, score: float, *, on: str | date | None = None
) -> int:
    """VISA-H score (0-100, higher is better; Cacchio et al. 2014)."""
    row = storage.get_patient(db, name)
    day = parse_date(on, cal=row_calendar(row))
    return _insert_log(db, row["id"], day, "visa_h", {"score": _num(score, "VISA-H", 0, 100)})


def log_intervention(
    db: storage.Database, name: str, kind: str, *, on: str | date | None = None, note: str = ""
) -> int:
    if kind not in INTERVENTION_KINDS:
        raise InputError(f"kind: expected one of {', '.join(INTERVENTION_KINDS)}, got {kind!r}")
    row = storage.get_patient(db, name)
    data = {"intervention": kind, "note": note}
    return _insert_log(db, row["id"], parse_date(on, cal=row_calendar(row)), "intervention", data)


def log_check_in(
    db: storage.Database,
    name: str,
    red_flags: list[str] | tuple[str, ...],
    *,
    none: bool = False,
    on: str | date | None = None,
) -> int:
    """The safety check-in: the red flags the patient has (or `none=True`: nothing to report).

    Any red flag becomes an alarm (rule `red_flag.<kind>`) on that day; see loadmon.alerts."""
    flags = [str(f).strip() for f in red_flags]
    if none and flags:
        raise InputError("check-in: give --red-flag KIND ... or --none, not both")
    if not none and not flags:
        raise InputError(
            f"check-in: give --red-flag KIND (one of: {', '.join(RED_FLAG_KINDS)}) or --none"
        )
    for f in flags:
        if f not in RED_FLAG_KINDS:
            raise InputError(
                f"red-flag: expected one of {', '.join(RED_FLAG_KINDS)}, got {f!r}"
            )
    row = storage.get_patient(db, name)
    data = {"red_flags": sorted(set(flags), key=RED_FLAG_KINDS.index)}
    return _insert_log(db, row["id"], parse_date(on, cal=row_calendar(row)), "check_in", data)


def last_check_in(db: storage.Database, name: str, on: str | date | None = None) -> str | None:
    """The date of the latest check-in on or before `on` (default today), or None."""
    prow = storage.get_patient(db, name)
    row = db.execute(
        "SELECT max(date) FROM log_entries WHERE patient_id = ? AND kind = 'check_in' "
        "AND date <= ?",
        [prow["id"], parse_date(on, cal=row_calendar(prow))],
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def acknowledge(
    db: storage.Database, name: str, rule: str, *, note: str = "", on: str | date | None = None
) -> int:
    """A clinician has seen the standing warning `rule` (a milestone, red flag or surgery
    warning stays visible until then); it stays silent until it is raised anew."""
    rule = rule.strip()
    if not rule:
        raise InputError("rule: give the rule id of the warning (e.g. milestone.reassess)")
    row = storage.get_patient(db, name)
    return _insert_log(
        db, row["id"], parse_date(on, cal=row_calendar(row)), "ack", {"rule": rule, "note": note}
    )


def set_recorded_kg(db: storage.Database, name: str, set_id: int, kg: float | None) -> None:
    """Edit the kg of a recorded set afterwards (None: back to the prescribed kg)."""
    pid = storage.get_patient(db, name)["id"]
    row = db.execute(
        "SELECT data FROM sets WHERE id = ? AND patient_id = ?", [int(set_id), pid]
    ).fetchone()
    if row is None:
        raise InputError(f"set: {name} has no recorded set {set_id}")
    data = json.loads(row[0] or "{}")
    if kg is None:
        data.pop("kg", None)
    else:
        data["kg"] = _num(kg, "kg", 0, 500)
    with storage.transaction(db):
        db.execute("UPDATE sets SET data = ? WHERE id = ?", [json.dumps(data), int(set_id)])


def log_entries(
    db: storage.Database,
    patient_id: int,
    *,
    kinds: tuple[str, ...] = LOG_KINDS,
    start: str | None = None,
    end: str | None = None,
) -> list[dict[str, Any]]:
    """Log entries (`date`, `kind`, and the data fields), oldest first."""
    marks = ",".join("?" * len(kinds))
    sql = f"SELECT id, date, kind, data FROM log_entries WHERE patient_id = ? AND kind IN ({marks})"
    params: list[Any] = [patient_id, *kinds]
    if start is not None:
        sql += " AND date >= ?"
        params.append(start)
    if end is not None:
        sql += " AND date <= ?"
        params.append(end)
    sql += " ORDER BY date, id"
    out = []
    for r in db.execute(sql, params).fetchall():
        d = json.loads(r[3] or "{}")
        d.update({"id": r[0], "date": r[1], "kind": r[2]})
        out.append(d)
    return out
