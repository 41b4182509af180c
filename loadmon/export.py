"""Provides `loadmon export`: events, sets, daily loads, log and warnings as tidy tables.

`tables(db, patient, start, end)` builds the five tables (one row per observation, one
column per variable) from the same library functions as `loadmon status`, the dashboard and
the report (`loadmon.status.load_history`, `loadmon.sessions.session_log`) plus the stored
events and log rows, so every number matches. `write(...)` stores them in a directory as
CSV or JSON, with a `manifest.json` naming the patient, the period, the loadmon version and
each table's columns and row count.

CSV floats are written with `repr` (shortest text that reads back to the same double), empty
cells mean "no value", and nested values (warning numbers, set data) are JSON text. The
written files are complete or absent: each is written to a temporary name and renamed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from loadmon import __version__, patients, status, storage
from loadmon.compare import STATUS_NAMES
from loadmon.days import UTC_CALENDAR, Calendar
from loadmon.errors import InputError
from loadmon.sessions import day_bounds, json_object, session_log

FORMATS = ("csv", "json")
TABLE_NAMES = ("events", "sets", "daily_loads", "log_entries", "warnings")
#: Event data fields exported as their own columns, in this order (others follow, sorted).
EVENT_FIELDS = ("hold_s", "eccentric_s", "concentric_s", "flight_s", "contact_s", "height_m")


@dataclass(frozen=True)
class Table:
    """A tidy table: column names and rows (dicts with exactly those keys)."""

    name: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


def _finite(x: Any) -> Any:
    """NaN and infinities become None (no value), everything else is kept."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _columns(
    fixed: Sequence[str], rows: Iterable[Mapping[str, Any]], first: Sequence[str] = ()
) -> tuple[str, ...]:
    extra = {k for r in rows for k in r} - set(fixed)
    ordered = [k for k in first if k in extra]
    return (*fixed, *ordered, *sorted(extra - set(ordered)))


def _add_data(row: dict[str, Any], data: Mapping[str, Any]) -> None:
    """Spread a stored JSON object into columns (nested values as JSON text); a key that
    would overwrite a fixed column gets a `data_` prefix."""
    for k, v in data.items():
        if k in row and row[k] == v:
            continue
        key = f"data_{k}" if k in row else k
        row[key] = json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v


def events_table(
    db: storage.Database,
    patient_id: int,
    start: date,
    end: date,
    calendar: Calendar = UTC_CALENDAR,
) -> Table:
    """Every stored event (reps, holds, hops, postures, sitting) starting on local days
    [start, end]; `date` is the event's local day."""
    lo, hi = day_bounds(start, end, calendar)
    rows = []
    for r in db.query(
        "SELECT id, recording_id, analysis_id, type, start_s, end_s, start_utc, set_index, data "
        "FROM events WHERE patient_id = ? AND start_utc >= ? AND start_utc < ? "
        "ORDER BY start_utc, id",
        [patient_id, lo, hi],
    ):
        row = {
            "event_id": r["id"],
            "recording_id": r["recording_id"],
            "analysis_id": r["analysis_id"],
            "type": r["type"],
            "start_utc": r["start_utc"],
            "date": calendar.day_of(str(r["start_utc"])).isoformat(),
            "start_s": r["start_s"],
            "end_s": r["end_s"],
            "duration_s": round(r["end_s"] - r["start_s"], 6),
            "set_index": r["set_index"],
        }
        _add_data(row, json_object(r["data"]))
        rows.append(row)
    fixed = (
        "event_id",
        "recording_id",
        "analysis_id",
        "type",
        "start_utc",
        "date",
        "start_s",
        "end_s",
        "duration_s",
        "set_index",
    )
    cols = _columns(fixed, rows, EVENT_FIELDS)
    return Table("events", cols, [{c: r.get(c) for c in cols} for r in rows])


def sets_table(
    db: storage.Database,
    patient_id: int,
    start: date,
    end: date,
    calendar: Calendar = UTC_CALENDAR,
) -> Table:
    """Every set (detected by the sensor or logged by hand), as the session log lists them;
    `date` is the patient's local day (the day `daily_loads` counts it on)."""
    rows = []
    for sess in session_log(db, patient_id, start, end, calendar=calendar):
        for st in sess["sets"]:
            rows.append(
                {
                    "set_key": st["id"],
                    "source": st["source"],
                    "recording_id": sess["recording_id"],
                    "start_utc": st["start_utc"],
                    "date": st["date"],
                    "exercise": st["exercise"],
                    "reps": st["reps"],
                    "kg": st.get("kg"),
                    "event_ids": " ".join(str(e["id"]) for e in st["items"]),
                    "detail": st["detail"],
                    "data": json.dumps(st["data"], sort_keys=True) if st["data"] else None,
                }
            )
    cols = (
        "set_key",
        "source",
        "recording_id",
        "start_utc",
        "date",
        "exercise",
        "reps",
        "kg",
        "event_ids",
        "detail",
        "data",
    )
    return Table("sets", cols, rows)


def daily_loads_table(hist: status.History) -> Table:
    """One row per day and load category: the day's load, what the band is compared with,
    the band, the status, the ratios and adherence (all from `status.load_history`)."""
    rows = []

    def at(m: Mapping[str, Any], cat: str, i: int) -> Any:
        a = m.get(cat)
        return None if a is None else _finite(a[i].item())

    for i, day in enumerate(hist.days):
        for cat, meta in hist.categories.items():
            if cat not in hist.loads:
                continue
            st = hist.status.get(cat)
            pw = hist.per_week.get(cat)
            rows.append(
                {
                    "date": day,
                    "phase": hist.phase[i],
                    "category": cat,
                    "label": meta["label"],
                    "unit": meta["unit"],
                    "load": at(hist.loads, cat, i),
                    "compared": at(hist.compared, cat, i),
                    "period": None if pw is None else ("week" if pw[i] else "day"),
                    "low": at(hist.low, cat, i),
                    "high": at(hist.high, cat, i),
                    "status": None if st is None else STATUS_NAMES[int(st[i])],
                    "acute": at(hist.acute, cat, i),
                    "chronic": at(hist.chronic, cat, i),
                    "ratio": at(hist.ratio, cat, i),
                    "week": at(hist.week, cat, i),
                    "previous_week": at(hist.previous_week, cat, i),
                    "week_on_week_pct": at(hist.week_on_week_pct, cat, i),
                    "adherence_7d": at(hist.adherence_7d, cat, i),
                    "adherence_28d": at(hist.adherence_28d, cat, i),
                }
            )
    cols = (
        "date",
        "phase",
        "category",
        "label",
        "unit",
        "load",
        "compared",
        "period",
        "low",
        "high",
        "status",
        "acute",
        "chronic",
        "ratio",
        "week",
        "previous_week",
        "week_on_week_pct",
        "adherence_7d",
        "adherence_28d",
    )
    return Table("daily_loads", cols, rows)


def log_table(db: storage.Database, patient_id: int, start: date, end: date) -> Table:
    """Every log entry (pain, RPE, manual sets, VISA-H, interventions, prescription edits)."""
    rows = []
    for r in db.query(
        "SELECT id, date, kind, data FROM log_entries WHERE patient_id = ? "
        "AND date >= ? AND date <= ? ORDER BY date, id",
        [patient_id, start.isoformat(), end.isoformat()],
    ):
        row: dict[str, Any] = {"entry_id": r["id"], "date": r["date"], "kind": r["kind"]}
        _add_data(row, json_object(r["data"]))
        rows.append(row)
    cols = _columns(("entry_id", "date", "kind"), rows)
    return Table("log_entries", cols, [{c: r.get(c) for c in cols} for r in rows])


def warnings_table(hist: status.History) -> Table:
    """Every warning of the period, oldest first, with its reason, numbers and source."""
    rows = [
        {
            "date": a.date,
            "rule": a.rule,
            "severity": a.severity,
            "category": a.category,
            "patient_message": a.patient,
            "message": a.message,
            "numbers": json.dumps(a.numbers, sort_keys=True),
            "source": a.source,
        }
        for a in hist.warnings
    ]
    cols = (
        "date", "rule", "severity", "category", "patient_message", "message", "numbers",
        "source",
    )  # fmt: skip
    return Table("warnings", cols, rows)


def tables(
    db: storage.Database,
    name: str,
    start: str | date | None = None,
    end: str | date | None = None,
) -> tuple[dict[str, Any], list[Table]]:
    """(manifest, tables) of patient `name` over [start, end] (default: start date to today)."""
    info = patients.get_patient_info(db, name)
    s, e = status.period(info, start, end, db)
    hist = status.load_history(db, name, s, e)
    d0, d1 = date.fromisoformat(s), date.fromisoformat(e)
    out = [
        events_table(db, info.id, d0, d1, info.calendar),
        sets_table(db, info.id, d0, d1, info.calendar),
        daily_loads_table(hist),
        log_table(db, info.id, d0, d1),
        warnings_table(hist),
    ]
    manifest = {
        "format": "loadmon-export",
        "version": 1,
        "loadmon": __version__,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "patient": info.name,
        "protocol": info.protocol_id,
        "timezone": info.calendar.zone_name,
        "from": s,
        "to": e,
        "tables": {t.name: {"columns": list(t.columns), "rows": len(t.rows)} for t in out},
    }
    return manifest, out


#: A text cell starting with one of these is a formula to a spreadsheet (OWASP "CSV
#: injection"); it is written with a leading apostrophe so it shows as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    text = str(v)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(table: Table) -> str:
    """The table as CSV text (header row, then one line per row)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(table.columns)
    for r in table.rows:
        w.writerow([_cell(r[c]) for c in table.columns])
    return buf.getvalue()


def to_json(table: Table) -> str:
    """The table as a JSON array of row objects."""
    return json.dumps(table.rows, indent=1, ensure_ascii=False) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(
    db: storage.Database,
    name: str,
    out_dir: str | Path,
    fmt: str = "csv",
    *,
    start: str | date | None = None,
    end: str | date | None = None,
) -> list[Path]:
    """Write the tables of `name` into `out_dir` as `fmt` files; returns the paths written."""
    if fmt not in FORMATS:
        raise InputError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    manifest, tabs = tables(db, name, start, end)
    manifest["file_format"] = fmt
    d = Path(out_dir)
    if d.exists() and not d.is_dir():
        raise InputError(f"--out: {d} exists and is not a directory")
    try:
        d.mkdir(parents=True, exist_ok=True)
        paths = []
        for t in tabs:
            p = d / f"{t.name}.{fmt}"
            _write_atomic(p, to_csv(t) if fmt == "csv" else to_json(t))
            paths.append(p)
        mp = d / "manifest.json"
        _write_atomic(mp, json.dumps(manifest, indent=1) + "\n")
    except OSError as exc:
        raise InputError(f"--out: cannot write to {d}: {exc.strerror or exc}") from None
    return [*paths, mp]


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """Rows of an exported CSV as text (empty string = no value); for round-trip checks."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
