"""Provides the physio's session log: recordings → sets → reps, plus sets logged by hand.

One function, `session_log`, shared by the dashboard's Sessions screen, the HTML report and
the CSV/JSON export, so all three list the same sets with the same reps, holds, tempo and
hop times. Days and times are the patient's (`loadmon.days.Calendar`): every session, set and
sitting bout carries its local `date` and `time` beside the stored `start_utc`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from loadmon import storage
from loadmon.days import UTC_CALENDAR, Calendar

#: Event types that are reps, holds or ground contacts (the rest are postures).
REP_EVENT_TYPES = ("bridge_rep", "bridge_hold", "rdl_rep", "hop")
#: Which events belong to a set of each exercise.
SET_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "bridge": ("bridge_rep",),
    "bridge_hold": ("bridge_hold",),
    "rdl": ("rdl_rep",),
    "hops": ("hop",),
}
#: A rep belongs to a set when it lies within the set's span give or take this (s).
SET_MARGIN_S = 0.5


def day_bounds(start: date, end: date, calendar: Calendar = UTC_CALENDAR) -> tuple[str, str]:
    """ISO UTC strings bounding local days [start, end] inclusive (start_utc compares as text)."""
    return calendar.bounds(start, end)


def json_object(text: str | None) -> dict[str, Any]:
    """A stored JSON column as a dict ({} when empty or not an object)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def rep_detail(ev: Mapping[str, Any]) -> str:
    """One line for one rep, hold or hop."""
    t = ev.get("type")
    dur = float(ev.get("end_s", 0.0)) - float(ev.get("start_s", 0.0))
    if t == "rdl_rep":
        ecc, con = ev.get("eccentric_s"), ev.get("concentric_s")
        if ecc is not None and con is not None:
            return f"RDL rep  tempo {float(ecc):.1f} s down / {float(con):.1f} s up"
        return f"RDL rep  {dur:.1f} s"
    if t == "bridge_hold":
        return f"hold  {float(ev.get('hold_s', dur)):.1f} s"
    if t == "hop":
        flight, contact = ev.get("flight_s"), ev.get("contact_s")
        parts = ["hop"]
        if flight is not None:
            parts.append(f"flight {float(flight) * 1000:.0f} ms")
        if contact is not None:
            parts.append(f"contact {float(contact) * 1000:.0f} ms")
        return "  ".join(parts)
    if t == "bridge_rep":
        return f"bridge rep  {dur:.1f} s"
    return f"{t}  {dur:.1f} s"


def set_detail(
    exercise: str, reps: int, items: Sequence[Mapping[str, Any]], data: Mapping[str, Any]
) -> str:
    """One line summarising a set: reps, holds, tempo or flight times."""
    kg = data.get("kg")
    load = f" × {float(kg):g} kg" if kg else ""
    if exercise == "bridge_hold":
        holds = [float(e.get("hold_s", 0.0)) for e in items] or (
            [float(data["hold_s"])] * reps if data.get("hold_s") else []
        )
        if holds:
            return f"{len(holds)} × hold, {min(holds):.0f}–{max(holds):.0f} s{load}"
        return f"{reps} holds{load}"
    if exercise == "rdl":
        ecc = [float(e["eccentric_s"]) for e in items if e.get("eccentric_s") is not None]
        con = [float(e["concentric_s"]) for e in items if e.get("concentric_s") is not None]
        if ecc and con:
            return f"{reps}{load}, {sum(ecc) / len(ecc):.1f}/{sum(con) / len(con):.1f} s"
        return f"{reps} reps{load}"
    if exercise == "hops":
        fl = [float(e["flight_s"]) for e in items if e.get("flight_s") is not None]
        if fl:
            return f"{reps} contacts, flight {1000 * sum(fl) / len(fl):.0f} ms"
        return f"{reps} contacts"
    return f"{reps} reps{load}"


def session_log(
    db: storage.Database,
    patient_id: int,
    start: date,
    end: date,
    exercise: str | None = None,
    calendar: Calendar = UTC_CALENDAR,
) -> list[dict[str, Any]]:
    """Sessions in local days [start, end], oldest first: recordings → sets → reps, plus
    manual sets. Days and the `date`/`time`/`local_start` fields are `calendar`'s.

    Each session: {"key", "kind" sensor|manual, "recording_id", "start_utc", "duration_s",
    "device", "sets": [{"id", "set_id", "exercise", "reps", "start_utc", "kg", "source",
    "data", "detail", "items": [event dicts with their data fields]}],
    "sitting": [{"start_utc", "minutes"}]}. `exercise` filters sets ("sitting" keeps only
    sitting bouts).
    """
    lo, hi = calendar.bounds(start, end)
    recs = list(
        db.query(
            "SELECT id, start, duration_s, device FROM recordings WHERE patient_id = ? "
            "AND start < ? ORDER BY start, id",
            [patient_id, hi],
        )
    )
    sets_by_rec: dict[int, list[dict[str, Any]]] = {}
    for r in db.query(
        "SELECT * FROM sets WHERE patient_id = ? AND start_utc >= ? AND start_utc < ? "
        "ORDER BY start_utc, id",
        [patient_id, lo, hi],
    ):
        sets_by_rec.setdefault(int(r["recording_id"]), []).append(dict(r))
    events_by_rec: dict[int, list[dict[str, Any]]] = {}
    marks = ",".join("?" * (len(REP_EVENT_TYPES) + 1))
    for r in db.query(
        "SELECT * FROM events WHERE patient_id = ? AND start_utc >= ? AND start_utc < ? "
        f"AND type IN ({marks}) ORDER BY start_utc, id",
        [patient_id, lo, hi, *REP_EVENT_TYPES, "sitting"],
    ):
        ev = dict(r)
        ev.update(json_object(ev.pop("data")))
        events_by_rec.setdefault(int(r["recording_id"]), []).append(ev)
    out: list[dict[str, Any]] = []
    for rec in recs:
        rid = int(rec["id"])
        in_range = lo <= str(rec["start"]) < hi
        if not in_range and rid not in sets_by_rec and rid not in events_by_rec:
            continue
        evs = events_by_rec.get(rid, [])
        sets = []
        for st in sets_by_rec.get(rid, []):
            if exercise is not None and st["exercise"] != exercise:
                continue
            types = SET_EVENT_TYPES.get(str(st["exercise"]), REP_EVENT_TYPES)
            items = [
                e
                for e in evs
                if e["type"] in types
                and e["start_s"] >= st["start_s"] - SET_MARGIN_S
                and e["end_s"] <= st["end_s"] + SET_MARGIN_S
            ]
            data = json_object(st["data"])
            sets.append(
                {
                    "id": f"s{st['id']}",
                    "set_id": int(st["id"]),
                    "exercise": st["exercise"],
                    "reps": int(st["reps"] or 0),
                    "start_utc": st["start_utc"],
                    "date": calendar.day_of(str(st["start_utc"])).isoformat(),
                    "time": calendar.time_of(str(st["start_utc"])),
                    "kg": data.get("kg"),
                    "source": "sensor",
                    "data": data,
                    "items": items,
                    "detail": set_detail(str(st["exercise"]), int(st["reps"] or 0), items, data),
                }
            )
        sitting = [
            {
                "start_utc": e["start_utc"],
                "time": calendar.time_of(str(e["start_utc"])),
                "minutes": (e["end_s"] - e["start_s"]) / 60.0,
            }
            for e in evs
            if e["type"] == "sitting"
        ]
        if exercise == "sitting":
            sets = []
            if not sitting:
                continue
        elif exercise is not None:
            sitting = []
            if not sets:
                continue
        out.append(
            {
                "key": f"r{rid}",
                "kind": "sensor",
                "recording_id": rid,
                "start_utc": rec["start"],
                "date": calendar.day_of(str(rec["start"])).isoformat(),
                "local_start": calendar.local(str(rec["start"])).isoformat(),
                "duration_s": float(rec["duration_s"] or 0.0),
                "device": rec["device"] or "",
                "sets": sets,
                "sitting": sitting,
            }
        )
    manual: dict[str, list[dict[str, Any]]] = {}
    for r in db.query(
        "SELECT id, date, data FROM log_entries WHERE patient_id = ? AND kind = 'set' "
        "AND date >= ? AND date <= ? ORDER BY date, id",
        [patient_id, start.isoformat(), end.isoformat()],
    ):
        data = json_object(r["data"])
        ex = str(data.get("exercise", "other"))
        if exercise is not None and ex != exercise:
            continue
        reps = int(data.get("reps", 0) or 0)
        day = str(r["date"])
        manual.setdefault(str(r["date"]), []).append(
            {
                "id": f"l{r['id']}",
                "set_id": None,
                "log_id": int(r["id"]),
                "exercise": ex,
                "reps": reps,
                "start_utc": _end_of_day_utc(calendar, day),
                "date": day,
                "time": "",
                "kg": data.get("kg"),
                "source": "manual",
                "data": data,
                "items": [],
                "detail": set_detail(ex, reps, [], data) + " (logged)",
            }
        )
    for day, msets in manual.items():
        out.append(
            {
                "key": f"m{day}",
                "kind": "manual",
                "recording_id": None,
                "start_utc": _end_of_day_utc(calendar, day),
                "date": day,
                "local_start": f"{day}T23:59:00",
                "duration_s": 0.0,
                "device": "logged by hand",
                "sets": msets,
                "sitting": [],
            }
        )
    out.sort(key=lambda s: str(s["start_utc"]))
    return out


def _end_of_day_utc(calendar: Calendar, day: str) -> str:
    """23:59 local on `day`, as stored instants are written: where a hand-logged set sorts."""
    nxt = calendar.day_start(date.fromisoformat(day) + timedelta(days=1))
    return (nxt - timedelta(minutes=1)).isoformat()
