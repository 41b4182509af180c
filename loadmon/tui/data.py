"""Provides the dashboard's one data-access layer: every read and write the TUI makes.

The screens never touch SQL or the load maths: they ask `DashboardData`, which calls the
library (`loadmon.status`, `loadmon.patients`, `loadmon.protocols`) when it is installed, and
reads the stored tables directly otherwise. Loads and warnings are never computed here, so
the dashboard, `loadmon status` and the report always show the same numbers.

This module imports no textual; it is safe to call from thread workers (each thread gets its
own SQLite connection).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loadmon import patients, status, storage
from loadmon.errors import InputError, LoadmonError, NotFoundError
from loadmon.recording import Recording, read_recording

#: Load categories in display order (unknown ones from the library follow, sorted).
CATEGORY_ORDER = [
    "isometric_s",
    "bridge_reps",
    "bridge_kg",
    "rdl_reps",
    "rdl_kg",
    "curl_reps",
    "hop_contacts",
    "sitting_min",
    "srpe",
    "total",
]
#: Exercises a set can be logged for (the library's list wins when present).
DEFAULT_EXERCISES = ["bridge", "bridge_hold", "rdl", "hops", "prone_curl", "nordic", "other"]
DEFAULT_PHASES = ["0", "1", "2", "3", "maintenance"]
REP_EVENT_TYPES = ("bridge_rep", "bridge_hold", "rdl_rep", "hop")
#: Which events belong to a set of each exercise.
SET_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "bridge": ("bridge_rep",),
    "bridge_hold": ("bridge_hold",),
    "rdl": ("rdl_rep",),
    "hops": ("hop",),
}


def _optional(name: str) -> ModuleType | None:
    """The library module `name` if it is installed (built in parallel), else None."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != name:
            raise
        return None


#: The exercise behind a load category (for linking a warning to its set).
CATEGORY_EXERCISE = {
    "isometric_s": "bridge_hold",
    "bridge_reps": "bridge",
    "bridge_kg": "bridge",
    "rdl_reps": "rdl",
    "rdl_kg": "rdl",
    "curl_reps": "prone_curl",
    "hop_contacts": "hops",
}


def warning_link(w: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """(day, set id, exercise) a warning points at, from its date, numbers and category."""
    numbers = w.get("numbers") if isinstance(w.get("numbers"), Mapping) else {}
    assert isinstance(numbers, Mapping)
    set_id = numbers.get("set_id")
    if isinstance(set_id, int):
        set_id = f"s{set_id}"
    exercise = numbers.get("exercise")
    category = w.get("category") or numbers.get("category")
    if exercise is None and category is not None:
        exercise = CATEGORY_EXERCISE.get(str(category))
    return (
        str(w.get("date", "")),
        None if set_id is None else str(set_id),
        None if exercise is None else str(exercise),
    )


def category_label(cat: str) -> str:
    labels = {
        "isometric_s": "Isometric s",
        "bridge_reps": "Bridge reps",
        "bridge_kg": "Bridge kg",
        "rdl_reps": "RDL reps",
        "rdl_kg": "RDL kg",
        "curl_reps": "Curl reps",
        "hop_contacts": "Hop contacts",
        "sitting_min": "Sitting min",
        "srpe": "Session RPE",
        "total": "Total",
    }
    return labels.get(cat, cat.replace("_", " ").capitalize())


def sort_categories(cats: Sequence[str]) -> list[str]:
    known = [c for c in CATEGORY_ORDER if c in cats]
    return known + sorted(c for c in cats if c not in CATEGORY_ORDER)


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date, or InputError naming what was expected."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{text.strip() or '(empty)'!r} is not a date; expected YYYY-MM-DD"
        ) from None


def _day_bounds(start: date, end: date) -> tuple[str, str]:
    """ISO UTC strings bounding [start, end] inclusive (start_utc columns compare as text)."""
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    return lo.isoformat(), hi.isoformat()


def _loads(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class DashboardData:
    """Everything the dashboard reads and writes for one patient in one database."""

    def __init__(
        self,
        db_path: str | Path | None = None,
        patient: str | None = None,
        today: date | None = None,
    ) -> None:
        self.db_path = Path(db_path) if db_path is not None else storage.default_db_path()
        self._local = threading.local()
        self._lock = threading.Lock()
        self.today = today or datetime.now().date()
        self.patient = patient if patient is not None else self._default_patient()

    # ---------------------------------------------------------------- connections

    @property
    def db(self) -> storage.Database:
        db: storage.Database | None = getattr(self._local, "db", None)
        if db is None:
            db = storage.open_db(self.db_path)
            self._local.db = db
        return db

    def close(self) -> None:
        db: storage.Database | None = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def _default_patient(self) -> str | None:
        names = self.patients()
        return names[0] if names else None

    def patients(self) -> list[str]:
        return [str(r["name"]) for r in storage.list_patients(self.db)]

    def _pid(self) -> int:
        if self.patient is None:
            raise NotFoundError(
                "no patients in this database; add one with 'loadmon patient add' "
                "or build the demo with 'loadmon demo'"
            )
        return int(storage.get_patient(self.db, self.patient)["id"])

    # ---------------------------------------------------------------- patient

    def remembered_mounting(self, device: str) -> Any:
        """The patient's sensor mounting learned from an earlier recording of this device.

        Starting the live detectors from it spares them learning the orientation again
        (which holds back the first reps). None when nothing is known.
        """
        if self.patient is None:
            return None
        mod = _optional("loadmon.analysis.pipeline")
        if mod is None:
            return None
        try:
            return mod.recall_mounting(self.db, self._pid(), device)
        except LoadmonError:
            return None

    def patient_info(self) -> dict[str, Any]:
        """Name, protocol, start date, prescription, current phase and the phase history."""
        info = patients.get_patient_info(self.db, self._name())
        return {
            "name": info.name,
            "protocol": info.protocol_id,
            "start_date": info.start_date,
            "prescription": dict(info.prescription),
            "phase": info.phase_on(self.today.isoformat()),
            "phase_history": [
                {"phase": ch.phase, "start_date": ch.start_date, "note": ch.note}
                for ch in info.phases
            ],
        }

    def prescribed(self, phase: str | None) -> dict[str, dict[str, Any]]:
        """The protocol's dosage of each exercise prescribed in `phase`, as plain dicts."""
        proto = self._protocol()
        if proto is None or phase is None:
            return {}
        try:
            ph = proto.phase(phase)
        except LoadmonError:
            return {}
        out: dict[str, dict[str, Any]] = {}
        for name, d in ph.prescribed.items():
            out[str(name)] = {k: getattr(d, k, None) for k in ("sets", "reps", "hold_s", "tempo_s")}
        return out

    def phases(self) -> list[str]:
        """Phase ids of the patient's protocol."""
        proto = self._protocol()
        if proto is not None:
            ids = getattr(proto, "phase_ids", None) or list(getattr(proto, "phases", {}) or [])
            if ids:
                return [str(p) for p in ids]
        return list(DEFAULT_PHASES)

    def phase_names(self) -> dict[str, str]:
        proto = self._protocol()
        phases = getattr(proto, "phases", None) if proto is not None else None
        if isinstance(phases, Mapping) and phases:
            return {str(k): str(getattr(v, "name", "")) for k, v in phases.items()}
        return {
            "0": "relative rest",
            "1": "isometrics",
            "2": "heavy slow resistance",
            "3": "energy storage",
            "maintenance": "maintenance",
        }

    def category_labels(self) -> dict[str, str]:
        """Display label (with unit) of each load category of the patient's protocol."""
        proto = self._protocol()
        cats = getattr(proto, "categories", None) if proto is not None else None
        out: dict[str, str] = {}
        if isinstance(cats, Mapping):
            for k, c in cats.items():
                label = str(getattr(c, "label", "") or category_label(str(k)))
                unit = str(getattr(c, "unit", "") or "")
                out[str(k)] = f"{label} ({unit})" if unit else label
        return out

    def live_targets(self, info: Mapping[str, Any]) -> dict[str, float | None]:
        """The hold (s) and RDL tempo (s each way) the Live screen cues against: the
        physio's prescription edit if any, else the phase's dosage (lower end of a range)."""
        edits = info.get("prescription", {}).get("exercises", {})
        dosage = self.prescribed(info.get("phase"))

        def pick(exercise: str, key: str) -> float | None:
            value = edits.get(exercise, {}).get(key)
            if value is None:
                value = dosage.get(exercise, {}).get(key)
            if isinstance(value, (tuple, list)):
                value = value[0] if value else None
            return None if value is None else float(value)

        return {"hold_s": pick("bridge_hold", "hold_s"), "tempo_s": pick("rdl", "tempo_s")}

    def exercises(self) -> list[str]:
        proto = self._protocol()
        exs = getattr(proto, "exercises", None) if proto is not None else None
        if isinstance(exs, Mapping) and exs:
            return [str(k) for k in exs]
        return list(DEFAULT_EXERCISES)

    def _protocol(self) -> Any:
        if self.patient is None:
            return None
        try:
            return patients.get_patient_info(self.db, self.patient).protocol()
        except LoadmonError:
            return None

    # ---------------------------------------------------------------- status and history

    def day_status(self, day: date) -> dict[str, Any]:
        """The `loadmon status --json` object for `day` (loadmon.status's, never recomputed)."""
        return status.day_status(self.db, self._name(), day)

    def history(self, start: date, end: date) -> dict[str, Any]:
        """Daily load per category over [start, end], normalised for the trend chart.

        Returns {"dates": [iso...], "categories": {cat: {"label", "unit", "period", "values",
        "low", "high", "ratio"}}, "phase_changes": [{"date", "phase", "name"}]} with one
        entry per date (None = no data; days before the patient's start are None).
        """
        hist = status.load_history(self.db, self._name(), start, end).to_dict()
        return normalise_history(hist, start, end)

    def warnings_between(self, start: date, end: date) -> list[dict[str, Any]]:
        """Every warning of each day in [start, end], each with its `date`, newest first."""
        alerts = status.warnings_between(self.db, self._name(), start, end)
        out = [{"date": a.date, **a.to_dict()} for a in alerts]
        out.sort(key=lambda w: str(w["date"]), reverse=True)
        return out

    # ---------------------------------------------------------------- the day's work

    def day_log(self, day: date) -> list[dict[str, Any]]:
        """Log entries of `day` (kind + data), oldest first."""
        pid = self._pid()
        return [
            {"id": r["id"], "kind": r["kind"], "date": r["date"], **_loads(r["data"])}
            for r in self.db.query(
                "SELECT id, kind, date, data FROM log_entries WHERE patient_id = ? AND date = ? "
                "ORDER BY id",
                [pid, day.isoformat()],
            )
        ]

    def missing_reports(self, day: date) -> list[str]:
        """What the patient has not reported yet for `day`: 'pain' and/or 'rpe'."""
        kinds = {"visa-h" if e["kind"] == "visa_h" else e["kind"] for e in self.day_log(day)}
        missing = []
        if "pain" not in kinds:
            missing.append("pain")
        worked = bool(self.day_sets(day))
        if worked and "rpe" not in kinds:
            missing.append("rpe")
        return missing

    def day_sets(self, day: date) -> list[dict[str, Any]]:
        """The day's sets (sensor and manual), oldest first, each with a one-line detail."""
        sessions = self.sessions(day, day)
        out: list[dict[str, Any]] = []
        for s in sessions:
            out.extend(s["sets"])
        out.sort(key=lambda st: st["start_utc"] or "")
        return out

    def day_sitting(self, day: date) -> list[dict[str, Any]]:
        pid = self._pid()
        lo, hi = _day_bounds(day, day)
        return [
            {"start_utc": r["start_utc"], "minutes": (r["end_s"] - r["start_s"]) / 60.0}
            for r in self.db.query(
                "SELECT start_utc, start_s, end_s FROM events WHERE patient_id = ? "
                "AND type = 'sitting' AND start_utc >= ? AND start_utc < ? ORDER BY start_utc",
                [pid, lo, hi],
            )
        ]

    def sessions(self, start: date, end: date, exercise: str | None = None) -> list[dict[str, Any]]:
        """Sessions in [start, end], oldest first: recordings → sets → reps, plus manual sets.

        Each session: {"key", "kind" sensor|manual, "start_utc", "duration_s", "device",
        "sets": [{"id", "exercise", "reps", "start_utc", "detail", "items": [rep dicts]}],
        "sitting": [{"start_utc", "minutes"}]}.
        """
        pid = self._pid()
        lo, hi = _day_bounds(start, end)
        recs = list(
            self.db.query(
                "SELECT id, start, duration_s, device FROM recordings WHERE patient_id = ? "
                "AND start < ? ORDER BY start, id",
                [pid, hi],
            )
        )
        sets_by_rec: dict[int, list[dict[str, Any]]] = {}
        for r in self.db.query(
            "SELECT * FROM sets WHERE patient_id = ? AND start_utc >= ? AND start_utc < ? "
            "ORDER BY start_utc, id",
            [pid, lo, hi],
        ):
            sets_by_rec.setdefault(int(r["recording_id"]), []).append(dict(r))
        events_by_rec: dict[int, list[dict[str, Any]]] = {}
        for r in self.db.query(
            "SELECT * FROM events WHERE patient_id = ? AND start_utc >= ? AND start_utc < ? "
            f"AND type IN ({','.join('?' * (len(REP_EVENT_TYPES) + 1))}) ORDER BY start_utc, id",
            [pid, lo, hi, *REP_EVENT_TYPES, "sitting"],
        ):
            ev = dict(r)
            ev.update(_loads(ev.pop("data")))
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
                    and e["start_s"] >= st["start_s"] - 0.5
                    and e["end_s"] <= st["end_s"] + 0.5
                ]
                data = _loads(st["data"])
                sets.append(
                    {
                        "id": f"s{st['id']}",
                        "exercise": st["exercise"],
                        "reps": int(st["reps"] or 0),
                        "start_utc": st["start_utc"],
                        "kg": data.get("kg"),
                        "source": "sensor",
                        "items": items,
                        "detail": set_detail(
                            str(st["exercise"]), int(st["reps"] or 0), items, data
                        ),
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
        for r in self.db.query(
            "SELECT id, date, data FROM log_entries WHERE patient_id = ? AND kind = 'set' "
            "AND date >= ? AND date <= ? ORDER BY date, id",
            [pid, start.isoformat(), end.isoformat()],
        ):
            data = _loads(r["data"])
            ex = str(data.get("exercise", "other"))
            if exercise is not None and ex != exercise:
                continue
            reps = int(data.get("reps", 0) or 0)
            manual.setdefault(str(r["date"]), []).append(
                {
                    "id": f"l{r['id']}",
                    "exercise": ex,
                    "reps": reps,
                    "start_utc": f"{r['date']}T23:59:00+00:00",
                    "kg": data.get("kg"),
                    "source": "manual",
                    "items": [],
                    "detail": set_detail(ex, reps, [], data) + " (logged)",
                }
            )
        for day, sets in manual.items():
            out.append(
                {
                    "key": f"m{day}",
                    "kind": "manual",
                    "recording_id": None,
                    "start_utc": f"{day}T23:59:00+00:00",
                    "duration_s": 0.0,
                    "device": "logged by hand",
                    "sets": sets,
                    "sitting": [],
                }
            )
        out.sort(key=lambda s: str(s["start_utc"]))
        return out

    # ---------------------------------------------------------------- writes
    # Validation lives in loadmon.patients (InputError with a clear message); the forms
    # also validate inline before calling these.

    def log_pain(self, day: date, during: float | None, next_morning: float | None) -> None:
        patients.log_pain(self.db, self._name(), during=during, next_morning=next_morning, on=day)

    def log_rpe(self, day: date, rpe: float, minutes: float | None) -> None:
        patients.log_rpe(self.db, self._name(), rpe=rpe, minutes=minutes, on=day)

    def log_set(
        self, day: date, exercise: str, reps: int, hold_s: float | None, kg: float | None
    ) -> None:
        patients.log_set(
            self.db, self._name(), exercise=exercise, reps=reps, hold_s=hold_s, kg=kg, on=day
        )

    def log_visa_h(self, day: date, score: float) -> None:
        patients.log_visa_h(self.db, self._name(), score, on=day)

    def set_phase(self, phase: str, day: date, note: str = "") -> None:
        patients.set_phase(self.db, self._name(), phase, on=day, note=note)

    def set_prescription(self, exercise: str, day: date, **values: float | None) -> None:
        """A physio's edit of one exercise's dosage (kg, sets, reps, hold_s, tempo_s)."""
        patients.set_prescription(self.db, self._name(), exercise, on=day, **values)  # type: ignore[arg-type]

    def _name(self) -> str:
        self._pid()
        return str(self.patient)


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


def normalise_history(hist: Mapping[str, Any], start: date, end: date) -> dict[str, Any]:
    """`status.History.to_dict()` re-indexed onto every date of [start, end] for the chart.

    `values` are what the band is compared with (the day, or the 7-day sum for weekly bands).
    """
    dates = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    index = {d: i for i, d in enumerate(hist.get("days", []))}
    n = len(dates)

    def pick(series: Sequence[Any] | None) -> list[Any]:
        out: list[Any] = [None] * n
        if not series:
            return out
        for j, d in enumerate(dates):
            i = index.get(d)
            if i is not None and i < len(series):
                out[j] = series[i]
        return out

    cats: dict[str, Any] = {}
    compared = hist.get("compared", {}) or hist.get("loads", {})
    for cat, meta in (hist.get("categories") or {}).items():
        if cat not in compared:
            continue
        per_week = pick((hist.get("per_week") or {}).get(cat))
        cats[cat] = {
            "label": meta.get("label", category_label(cat)),
            "unit": meta.get("unit", ""),
            "period": "week" if any(per_week) else "day",
            "values": pick(compared.get(cat)),
            "low": pick((hist.get("low") or {}).get(cat)),
            "high": pick((hist.get("high") or {}).get(cat)),
            "ratio": pick((hist.get("ratio") or {}).get(cat)),
        }
    changes = [
        c
        for c in hist.get("phase_changes", [])
        if dates and dates[0] <= str(c.get("date")) <= dates[-1]
    ]
    return {"dates": dates, "categories": cats, "phase_changes": changes}


# -------------------------------------------------------------------- live sessions


@dataclass(frozen=True)
class SampleChunk:
    """A block of decoded samples: t (s from the session start), acc (g), gyro (°/s) or None."""

    t: NDArray[np.float64]
    acc: NDArray[np.float64]
    gyro: NDArray[np.float64] | None
    sample_rate_hz: float = 0.0
    #: Seconds of samples lost just before this chunk (a gap marker has no samples).
    gap_s: float = 0.0


VIRTUAL_PREFIX = "virtual:"
BLE_PREFIX = "ble:"


def live_sources() -> list[tuple[str, str]]:
    """(label, source id) of the sources that need no scan: virtual sensors replaying a file."""
    from loadmon.profiles import load_profiles

    return [
        (f"virtual {p.name} (replays a file)", f"{VIRTUAL_PREFIX}{p.id}") for p in load_profiles()
    ]


async def scan_sensors(timeout_s: float = 5.0) -> list[tuple[str, str]]:
    """(label, source id `ble:PROFILE:ADDRESS`) of the sensors heard nearby."""
    from loadmon.sensor.scan import scan

    found = await scan(timeout_s)
    return [
        (f"{f.name} {f.address} ({f.rssi} dBm)", f"{BLE_PREFIX}{f.profile.id}:{f.address}")
        for f in found
    ]


async def replay_chunks(
    path: str | Path, *, speed: float = 1.0, chunk_s: float = 0.1
) -> AsyncIterator[SampleChunk]:
    """Play a recording file straight back in chunks at `speed` × real time (no radio).

    Tests and the snapshot app use this; the Live screen goes through the virtual sensor.
    """
    rec = read_recording(Path(path))
    t0 = time.monotonic()
    n = rec.n_samples
    i = 0
    base = float(rec.t[0]) if n else 0.0
    while i < n:
        j = max(int(np.searchsorted(rec.t, rec.t[i] + chunk_s, side="left")), i + 1)
        delay = (float(rec.t[j - 1]) - base) / speed - (time.monotonic() - t0)
        if delay > 0:
            await asyncio.sleep(delay)
        yield SampleChunk(
            rec.t[i:j] - base,
            rec.acc[i:j],
            None if rec.gyro is None else rec.gyro[i:j],
            rec.sample_rate_hz,
        )
        i = j


async def sensor_chunks(
    source: str,
    replay: str | Path | None,
    *,
    speed: float = 1.0,
    rate_hz: int | None = None,
    on_sensor: Callable[[Any], None] | None = None,
) -> AsyncIterator[SampleChunk]:
    """Decoded samples from a sensor through loadmon.sensor (bleak), as SampleChunks.

    `source` is `virtual:PROFILE` (an emulated sensor on the virtual radio replaying `replay`
    at `speed` × real time; the stream ends with the file) or `ble:PROFILE:ADDRESS`.
    A gap in the stream arrives as a chunk with no samples and `gap_s` > 0.
    """
    from loadmon.profiles import get_profile
    from loadmon.sensor.stream import Gap, SensorStream, StreamOptions

    sensor: Any = None
    kw: dict[str, Any] = {}
    if source.startswith(VIRTUAL_PREFIX):
        if replay is None:
            raise InputError("a virtual sensor needs a replay file")
        from loadmon.sensor.virtual.backend import VirtualBleakClient, VirtualBleakScanner
        from loadmon.sensor.virtual.emulators import make_sensor

        profile = get_profile(source[len(VIRTUAL_PREFIX) :])
        sensor = make_sensor(profile, read_recording(Path(replay)), speed=speed)
        await sensor.attach()
        if on_sensor is not None:
            on_sensor(sensor)  # its replay clock lets the screen measure rep latency
        target = sensor.name
        kw = {"client_backend": VirtualBleakClient, "scanner_backend": VirtualBleakScanner}
        opts = StreamOptions(rate_hz=rate_hz, time_scale=speed)
    elif source.startswith(BLE_PREFIX):
        profile_id, _, target = source[len(BLE_PREFIX) :].partition(":")
        profile = get_profile(profile_id)
        opts = StreamOptions(rate_hz=rate_hz)
    else:
        raise InputError(f"unknown live source {source!r}")
    stream = SensorStream(profile, target, opts, **kw)
    stopper: asyncio.Future[Any] | None = None
    replay_over = asyncio.Event()
    try:
        await stream.open()
        if sensor is not None:

            async def end_of_replay() -> None:
                await sensor.finished.wait()
                await asyncio.sleep(0.3)  # let the last notifications arrive
                replay_over.set()
                await stream.aclose()

            stopper = asyncio.ensure_future(end_of_replay())
        items = stream.__aiter__()
        while True:
            try:
                item = await items.__anext__()
            except StopAsyncIteration:
                break
            except asyncio.CancelledError:
                # closing the stream from the end-of-replay task surfaces as a cancelled
                # supervisor; that is the normal end of a replay, anything else is not
                if replay_over.is_set():
                    break
                raise
            if isinstance(item, Gap):
                yield SampleChunk(
                    np.zeros(0), np.zeros((0, 3)), None, stream.rate_hz, item.end_s - item.start_s
                )
                continue
            yield SampleChunk(
                np.asarray(item.t, dtype=np.float64),
                np.asarray(item.acc, dtype=np.float64),
                None if item.gyro is None else np.asarray(item.gyro, dtype=np.float64),
                stream.rate_hz,
            )
    finally:
        if stopper is not None:
            stopper.cancel()
        await stream.aclose()
        if sensor is not None:
            await sensor.close()


#: Live counting trades the offline run's certainty for speed: an event is shown once it
#: ended LIVE_GUARD_S before the newest sample (the detectors re-run every LIVE_STEP_S).
#: With 0.4 s / 0.15 s a rep appears about 0.3–0.5 s after its end (see bench_tui.py);
#: the session is re-analysed offline when it is saved, so stored counts are the offline ones.
LIVE_GUARD_S = 0.4
LIVE_STEP_S = 0.15


class LiveCounter:
    """The streaming detectors (loadmon.analysis.streaming) behind a dict-returning `feed`."""

    def __init__(
        self, sample_rate_hz: float, exercise: str | None = None, mounting: Any = None
    ) -> None:
        mod = _optional("loadmon.analysis.streaming")
        cls = getattr(mod, "StreamingAnalyzer", None) if mod is not None else None
        self.available = cls is not None
        self._analyzer: Any = None
        if cls is not None:
            params = inspect.signature(cls).parameters
            kwargs: dict[str, Any] = {}
            if "sample_rate_hz" in params:
                kwargs["sample_rate_hz"] = sample_rate_hz
            if "exercise" in params:
                kwargs["exercise"] = exercise
            if "guard_s" in params:
                kwargs["guard_s"] = LIVE_GUARD_S
            if "step_s" in params:
                kwargs["step_s"] = LIVE_STEP_S
            if mounting is not None and "mounting" in params:
                kwargs["mounting"] = mounting
            self._analyzer = cls(**kwargs)

    def feed(self, chunk: SampleChunk) -> list[dict[str, Any]]:
        if self._analyzer is None:
            return []
        # A BLE frame can carry seconds of samples; feeding it in step-sized pieces lets the
        # detectors run as if the samples had arrived one by one, so what is found (and when)
        # does not depend on how the sensor happened to pack its frames.
        out: list[dict[str, Any]] = []
        t = chunk.t
        i = 0
        while i < t.size:
            j = max(int(np.searchsorted(t, t[i] + LIVE_STEP_S, side="left")), i + 1)
            gyro = None if chunk.gyro is None else chunk.gyro[i:j]
            events = self._analyzer.feed(t[i:j], chunk.acc[i:j], gyro)
            out.extend(_event_dict(e) for e in events or [])
            i = j
        return out

    def finish(self) -> list[dict[str, Any]]:
        fn = getattr(self._analyzer, "finish", None) or getattr(self._analyzer, "flush", None)
        if fn is None:
            return []
        return [_event_dict(e) for e in fn() or []]


def _event_dict(e: Any) -> dict[str, Any]:
    if isinstance(e, Mapping):
        return dict(e)
    to_dict = getattr(e, "to_dict", None)
    if to_dict is not None:
        result: dict[str, Any] = to_dict()
        return result
    if dataclasses.is_dataclass(e) and not isinstance(e, type):
        return dataclasses.asdict(e)
    return dict(vars(e))


def save_live_session(
    data: DashboardData,
    chunks: Sequence[SampleChunk],
    *,
    start: datetime,
    sample_rate_hz: float,
    device: str,
) -> int:
    """Store a live session (samples and, when the detectors exist, its analysis)."""
    from loadmon import importing

    if not chunks:
        raise InputError("nothing was recorded")
    chunks = [c for c in chunks if c.t.size]
    if not chunks:
        raise InputError("nothing was recorded")
    t = np.concatenate([c.t for c in chunks])
    acc = np.concatenate([c.acc for c in chunks])
    gyros = [c.gyro for c in chunks if c.gyro is not None]
    gyro = np.concatenate(gyros) if len(gyros) == len(chunks) else None
    rec = Recording(
        t=t,
        acc=acc,
        gyro=gyro,
        sample_rate_hz=sample_rate_hz,
        start=start,
        device=device,
        source="live",
    )
    result = importing.import_recording(data.db, rec, patient=str(data.patient))
    return result.recording_id
