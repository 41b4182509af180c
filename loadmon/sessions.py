"""Provides the physio's session log: recordings → sets → reps, plus sets logged by hand.

One function, `session_log`, shared by the dashboard's Sessions screen, the HTML report and
the CSV/JSON export, so all three list the same sets with the same reps, holds, tempo and
hop times. Days are UTC calendar days of the stored `start_utc` (as the dashboard shows them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from loadmon import storage

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


def day_bounds(start: date, end: date) -> tuple[str, str]:
    """ISO UTC strings bounding [start, end] inclusive (start_utc columns compare as text)."""
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    return lo.isoformat(), hi.isoformat()


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
) -> list[dict[str, Any]]:
    """Sessions in [start, end], oldest first: recordings → sets → reps, plus manual sets.

    Each session: {"key", "kind" sensor|manual, "recording_id", "start_utc", "duration_s",
    "device", "sets": [{"id", "set_id", "exercise", "reps", "start_utc", "kg", "source",
    "data", "detail", "items": [event dicts with their data fields]}],
    "sitting": [{"start_utc", "minutes"}]}. `exercise` filters sets ("sitting" keeps only
    sitting bouts).
    """
    lo, hi = day_bounds(start, end)
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
                    "kg": data.get("kg"),
                    "source": "sensor",
                    "data": data,
                    "items": items,
                    "detail": set_detail(str(st["exercise"]), int(st["reps"] or 0), items, data),
                }
            )
        sitting = [
            {"start_utc": e["start_utc"], "minutes": (e["end_s"] - e["start_s"]) / 60.0}
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
        manual.setdefault(str(r["date"]), []).append(
            {
                "id": f"l{r['id']}",
                "set_id": None,
                "log_id": int(r["id"]),
                "exercise": ex,
                "reps": reps,
                "start_utc": f"{r['date']}T23:59:00+00:00",
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
                "start_utc": f"{day}T23:59:00+00:00",
                "duration_s": 0.0,
                "device": "logged by hand",
                "sets": msets,
                "sitting": [],
            }
        )
    out.sort(key=lambda s: str(s["start_utc"]))
    return out
