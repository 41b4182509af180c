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
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loadmon import patients, status, storage
from loadmon.days import UTC_CALENDAR, Calendar
from loadmon.errors import InputError, LoadmonError, NotFoundError
from loadmon.patients import row_calendar
from loadmon.recording import read_recording
from loadmon.sessions import day_bounds, json_object, session_log

#: Load categories in display order (unknown ones from the library follow, sorted).
CATEGORY_ORDER = [
    "isometric_s",
    "bridge_reps",
    "bridge_kg",
    "rdl_reps",
    "rdl_kg",
    "curl_reps",
    "hop_contacts",
    "running_min",
    "sitting_min",
    "srpe",
    "total",
]
#: Exercises a set can be logged for (the library's list wins when present).
DEFAULT_EXERCISES = ["bridge", "bridge_hold", "rdl", "hops", "prone_curl", "nordic", "other"]
DEFAULT_PHASES = ["0", "1", "2", "3", "maintenance"]


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
        "running_min": "Running min",
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
        self.patient = patient if patient is not None else self._default_patient()
        #: The patient's today (their time zone), unless a test or the caller fixes the day.
        self.today = today or self.calendar.today()

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

    @property
    def calendar(self) -> Calendar:
        """The current patient's calendar (UTC when there is no patient)."""
        if self.patient is None:
            return UTC_CALENDAR
        row = self.db.table("patients").rows_where("name = ?", [self.patient], limit=1)
        found = next(iter(row), None)
        return UTC_CALENDAR if found is None else row_calendar(found)

    def _default_patient(self) -> str | None:
        names = self.patients()
        return names[0] if names else None

    def patients(self) -> list[str]:
        return [str(r["name"]) for r in storage.list_patients(self.db)]

    def patient_id(self) -> int:
        """The current patient's id (a live session records for them)."""
        return self._pid()

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
            {"id": r["id"], "kind": r["kind"], "date": r["date"], **json_object(r["data"])}
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
        cal = self.calendar
        lo, hi = day_bounds(day, day, cal)
        return [
            {
                "start_utc": r["start_utc"],
                "time": cal.time_of(str(r["start_utc"])),
                "minutes": (r["end_s"] - r["start_s"]) / 60.0,
            }
            for r in self.db.query(
                "SELECT start_utc, start_s, end_s FROM events WHERE patient_id = ? "
                "AND type = 'sitting' AND start_utc >= ? AND start_utc < ? ORDER BY start_utc",
                [pid, lo, hi],
            )
        ]

    def sessions(self, start: date, end: date, exercise: str | None = None) -> list[dict[str, Any]]:
        """Sessions in [start, end], oldest first: recordings → sets → reps, plus manual sets
        (`loadmon.sessions.session_log`, the list the report and the export use too)."""
        return session_log(self.db, self._pid(), start, end, exercise, calendar=self.calendar)

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

    def log_check_in(self, day: date, red_flags: Sequence[str]) -> None:
        """The safety check-in: the red flags ticked, or none (a clear check-in)."""
        patients.log_check_in(self.db, self._name(), list(red_flags), none=not red_flags, on=day)

    def acknowledge(self, rule: str, day: date, note: str = "") -> None:
        """A clinician has seen the standing warning `rule`."""
        patients.acknowledge(self.db, self._name(), rule, note=note, on=day)

    def set_phase(self, phase: str, day: date, note: str = "") -> None:
        patients.set_phase(self.db, self._name(), phase, on=day, note=note)

    def set_prescription(self, exercise: str, day: date, **values: float | None) -> None:
        """A physio's edit of one exercise's dosage (kg, sets, reps, hold_s, tempo_s)."""
        patients.set_prescription(self.db, self._name(), exercise, on=day, **values)  # type: ignore[arg-type]

    def _name(self) -> str:
        self._pid()
        return str(self.patient)


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
    path: str | Path,
    *,
    speed: float = 1.0,
    chunk_s: float = 0.1,
    paired: Callable[[SampleChunk], None] | None = None,
) -> AsyncIterator[SampleChunk]:
    """Play a recording file straight back in chunks at `speed` × real time (no radio).

    Tests and the snapshot app use this; the Live screen goes through the virtual sensor.
    `paired` as in `sensor_chunks`: each whole chunk goes to it, and the yielded one is acc only.
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
        chunk = SampleChunk(
            rec.t[i:j] - base,
            rec.acc[i:j],
            None if rec.gyro is None else rec.gyro[i:j],
            rec.sample_rate_hz,
        )
        if paired is not None:
            paired(chunk)
            chunk = SampleChunk(chunk.t, chunk.acc, None, chunk.sample_rate_hz)
        yield chunk
        i = j


async def sensor_chunks(
    source: str,
    replay: str | Path | None,
    *,
    speed: float = 1.0,
    rate_hz: int | None = None,
    on_sensor: Callable[[Any], None] | None = None,
    paired: Callable[[SampleChunk], None] | None = None,
) -> AsyncIterator[SampleChunk]:
    """Decoded samples from a source (`loadmon.sensor.source.open_source`), as SampleChunks,
    without recording them (the Live screen records through `Recorder`).

    A gap arrives as a chunk with no samples and `gap_s` > 0. With `paired`, the yielded
    chunks carry acc only, each as soon as its packet is decoded; the complete acc + gyro
    chunks are handed to `paired(chunk)` a little later.
    """
    from loadmon.sensor.source import open_source
    from loadmon.sensor.stream import AccSamples, Gap

    if source.startswith(VIRTUAL_PREFIX) and replay is None:
        raise InputError("a virtual sensor needs a replay file")
    async with open_source(
        source, replay=replay, speed=speed, rate_hz=rate_hz, acc_ahead=paired is not None,
        on_sensor=on_sensor,
    ) as src:
        stream = src.stream
        if src.sensor is not None:
            sensor = src.sensor

            async def end_of_replay() -> None:
                await sensor.finished.wait()
                await asyncio.sleep(0.3)  # let the last notifications arrive
                await stream.aclose()

            stopper = asyncio.ensure_future(end_of_replay())
        else:
            stopper = None
        try:
            await stream.open()
            async for item in stream:
                if isinstance(item, Gap):
                    yield SampleChunk(np.zeros(0), np.zeros((0, 3)), None, stream.rate_hz,
                                      item.end_s - item.start_s)
                elif isinstance(item, AccSamples):
                    yield SampleChunk(item.t, item.acc, None, stream.rate_hz)
                else:
                    chunk = SampleChunk(item.t, item.acc, item.gyro, stream.rate_hz)
                    if paired is not None:
                        paired(chunk)
                    else:
                        yield chunk
        finally:
            if stopper is not None:
                stopper.cancel()


#: Key set on an event dict that `LiveCounter.finish` withdraws (the offline run did not
#: confirm it).
RETRACTED = "retracted"


class LiveCounter:
    """`loadmon.analysis.streaming.LiveCounter` (the CLI's too) behind dict events."""

    def __init__(
        self, sample_rate_hz: float, exercise: str | None = None, mounting: Any = None
    ) -> None:
        mod = _optional("loadmon.analysis.streaming")
        cls = getattr(mod, "LiveCounter", None) if mod is not None else None
        self.available = cls is not None
        self.exercise = exercise
        self._counter: Any = cls(sample_rate_hz, exercise, mounting) if cls is not None else None

    @property
    def finished(self) -> bool:
        return bool(self._counter is not None and self._counter.finished)

    def feed(self, chunk: SampleChunk) -> list[dict[str, Any]]:
        if self._counter is None:
            return []
        return [_event_dict(e) for e in self._counter.feed(chunk.t, chunk.acc, chunk.gyro)]

    def finish(self) -> list[dict[str, Any]]:
        """The offline run's verdict on the stream: events withdrawn first (each marked with
        RETRACTED), then the events not shown yet. Only the first call does anything."""
        if self._counter is None:
            return []
        withdrawn, new = self._counter.finish()
        return [{**_event_dict(e), RETRACTED: True} for e in withdrawn] + [
            _event_dict(e) for e in new
        ]


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
