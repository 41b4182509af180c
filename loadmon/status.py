"""Provides a patient's day status and load history: the functions the CLI, TUI and report share.

`day_status(db, patient, day)` returns exactly the `loadmon status --json` object::

    {"date": "2026-11-22", "patient": "ann",
     "protocol": "proximal-hamstring-tendinopathy", "protocol_name": "...",
     "phase": "2", "phase_name": "Heavy slow resistance + eccentrics", "phase_since": "...",
     "day_of_care": 57,                       # days since the patient's start date (0 = start)
     "loads": {CATEGORY: {"label", "unit",
                          "value",            # compared with target: the day's value, or the
                                              #   7-day sum ending today when period == "week"
                          "today",            # the day's own value
                          "period": "day" | "week",
                          "target": [low, high] | null,
                          "status": "below" | "within" | "above" | null}},
     "ratios": {CATEGORY or "total": {"acute", "chronic", "ratio" (null if chronic is 0),
                          "base_days", "week", "previous_week", "week_on_week_pct",
                          "used": bool,       # a warning rule uses the ratio today
                          "reason": str | null}},   # why not, when it does not
     "adherence": {CATEGORY: {"7d": share | null, "28d": share | null}},
     "sitting": {"total_min", "longest_bout_min", "limit_bout_min", "limit_daily_min"},
     "tempo": {EXERCISE: {"reps", "at_tempo", "share", "tempo_s"}},
     "log": {"pain": [... "masked": true within an injection's window], "rpe": [...],
             "sets": [...], "visa_h": {...} | null, "interventions": [...],
             "check_ins": [{"red_flags": [...]}]},
     "check_in": {"last": date | null, "due": bool, "every_days": 7},  # the weekly prompt
     "care": {"suspended": bool, "since"?, "reason"?},   # surgery suspends conservative care
     "prescribed": {EXERCISE: {"sets", "reps", "hold_s", "tempo_s", "sessions_per_day",
                               "sessions_per_week", "source"}},  # {} once suspended
     "warnings": [{"rule", "severity", "patient", "message", "numbers", "source",
                   "category"?, "since"?}]}   # `since`: a standing warning not yet acknowledged

`load_history(db, patient, start, end)` returns a `History` (per-day numpy arrays for plots:
loads, bands, status, ratios, week sums, phases, warnings); `History.to_dict()` is JSON-able.
Both compute from the patient's start date (data before it is ignored) so the EWMAs are the
same whichever window is asked for. See `loadmon.load` for day boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loadmon import storage
from loadmon.alerts import Alert, effective_base, evaluate, masked_days, standing_open
from loadmon.compare import STATUS_NAMES, TOTAL, Comparison, compare
from loadmon.errors import InputError
from loadmon.load import DailyRaw, read_daily
from loadmon.patients import PatientInfo, get_patient_info, parse_date, patient_calendar
from loadmon.protocols import Protocol

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class _State:
    info: PatientInfo
    protocol: Protocol
    raw: DailyRaw
    cmp: Comparison
    phase_index: NDArray[np.int64]


def _num(x: Any, nd: int = 3) -> float | None:
    if x is None:
        return None
    f = float(x)
    return round(f, nd) if np.isfinite(f) else None


#: How far past the patient's last data (or today) a day may be asked for: every rule then
#: reads at most this much empty history, however far a typo puts the date.
MAX_DAYS_AHEAD = 366


def last_data_day(db: storage.Database, info: PatientInfo) -> str:
    """The later of today and the patient's last recording, log entry or phase change."""
    row = db.execute(
        "SELECT max(d) FROM (SELECT max(substr(start, 1, 10)) AS d FROM recordings "
        "WHERE patient_id = ?1 UNION ALL SELECT max(date) FROM log_entries WHERE patient_id = ?1 "
        "UNION ALL SELECT max(start_date) FROM phase_history WHERE patient_id = ?1)",
        [info.id],
    ).fetchone()
    return max(str(row[0] or ""), info.start_date, info.calendar.today().isoformat())


def _compute(db: storage.Database, patient: str, end: str) -> _State:
    info = get_patient_info(db, patient)
    proto = info.protocol()
    if end < info.start_date:
        raise InputError(f"date: {end} is before {patient}'s start date {info.start_date}")
    limit = date.fromisoformat(last_data_day(db, info)) + timedelta(days=MAX_DAYS_AHEAD)
    if end > limit.isoformat():
        raise InputError(
            f"date: {end} is more than {MAX_DAYS_AHEAD} days after {patient}'s last data "
            f"(latest allowed {limit.isoformat()})"
        )
    raw = read_daily(db, info.id, proto, info.start_date, end, calendar=info.calendar)
    first = date.fromisoformat(info.start_date)
    change_idx = np.array(
        [(date.fromisoformat(c.start_date) - first).days for c in info.phases], dtype=np.int64
    )
    ph_ids = [proto.phase(c.phase).id for c in info.phases]  # NotFoundError if removed
    pos = np.searchsorted(change_idx, np.arange(raw.n_days), side="right") - 1
    lookup = np.array([proto.phase_ids.index(p) for p in ph_ids], dtype=np.int64)
    phase_index = lookup[np.maximum(pos, 0)]
    return _State(info, proto, raw, compare(raw, proto, phase_index), phase_index)


def day_status(db: storage.Database, patient: str, day: str | date | None = None) -> dict[str, Any]:
    """The `loadmon status --json` object for `patient` on `day` (default: their today)."""
    d = parse_date(day, cal=patient_calendar(db, patient))
    st = _compute(db, patient, d)
    i = st.raw.n_days - 1
    proto, cmp, raw = st.protocol, st.cmp, st.raw
    ph = proto.phases[proto.phase_ids[int(st.phase_index[i])]]
    since = max(c.start_date for c in st.info.phases if c.start_date <= d)

    loads: dict[str, Any] = {}
    adherence: dict[str, Any] = {}
    for k, cat in proto.categories.items():
        has = not np.isnan(cmp.low[k][i])
        loads[k] = {
            "label": cat.label,
            "unit": cat.unit,
            "value": _num(cmp.compared[k][i]),
            "today": _num(cmp.loads[k][i]),
            "period": "week" if cmp.per_week[k][i] else "day",
            "target": [_num(cmp.low[k][i]), _num(cmp.high[k][i])] if has else None,
            "status": STATUS_NAMES[int(cmp.status[k][i])],
        }
        a7, a28 = cmp.adherence_7d[k][i], cmp.adherence_28d[k][i]
        if np.isfinite(a7) or np.isfinite(a28):
            adherence[k] = {"7d": _num(a7), "28d": _num(a28)}
    based = effective_base(cmp, proto)
    ratios = {
        k: {
            "acute": _num(cmp.acute[k][i]),
            "chronic": _num(cmp.chronic[k][i]),
            "ratio": _num(cmp.ratio[k][i]),
            "base_days": int(cmp.base[k][i]),
            "week": _num(cmp.week[k][i]),
            "previous_week": _num(cmp.previous_week[k][i]),
            "week_on_week_pct": _num(cmp.week_on_week_pct[k][i], 1),
            **_ratio_use(proto, cmp, based, k, i),
        }
        for k in cmp.ratio
    }
    tempo: dict[str, Any] = {}
    for name, reps in raw.tempo.items():
        d_ = ph.prescribed.get(name)
        m = reps.day == i
        if not m.any():
            continue
        t = d_.tempo_s if d_ is not None else None
        tol = ph.tempo.tolerance_s if ph.tempo is not None else 0.0
        at = None
        if t is not None:
            at = int(np.sum((reps.eccentric_s[m] >= t - tol) & (reps.concentric_s[m] >= t - tol)))
        n = int(m.sum())
        tempo[name] = {
            "reps": n,
            "at_tempo": at,
            "share": None if at is None else round(at / n, 3),
            "tempo_s": t,
        }
    masked = masked_days(raw, proto)
    log_today = [
        dict(e, masked=True) if e["kind"] == "pain" and masked[i] else e
        for e in raw.log
        if e["date"] == d
    ]
    visa = [e for e in raw.log if e["kind"] == "visa_h"]

    def strip(e: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in e.items() if k not in ("id", "kind", "date")}

    every = evaluate(raw, cmp, proto, 0, 0, i + 1)
    alerts = [a for a in every if a.date == d]
    standing = standing_open(every, raw.log, d)
    surgery = [e["date"] for e in raw.log
               if e["kind"] == "intervention" and e.get("intervention") == "surgery"]  # fmt: skip
    suspended = bool(surgery) and not proto.post_operative
    last_check = max((e["date"] for e in raw.log if e["kind"] == "check_in"), default=None)
    check_due = last_check is None or (
        date.fromisoformat(d) - date.fromisoformat(last_check)
    ).days >= proto.red_flags.check_in_days
    return {
        "date": d,
        "patient": st.info.name,
        "protocol": proto.id,
        "protocol_name": proto.name,
        "phase": ph.id,
        "phase_name": ph.name,
        "phase_since": since,
        "day_of_care": i,
        "loads": loads,
        "ratios": ratios,
        "adherence": adherence,
        "sitting": {
            "total_min": _num(raw.sitting_min[i], 1),
            "longest_bout_min": _num(raw.sitting_longest_min[i], 1),
            "limit_bout_min": ph.sitting.max_bout_min if ph.sitting else None,
            "limit_daily_min": ph.sitting.max_daily_min if ph.sitting else None,
        },
        "tempo": tempo,
        "log": {
            "pain": [strip(e) for e in log_today if e["kind"] == "pain"],
            "rpe": [strip(e) for e in log_today if e["kind"] == "rpe"],
            "sets": [strip(e) for e in log_today if e["kind"] == "set"],
            "visa_h": {"date": visa[-1]["date"], "score": visa[-1]["score"]} if visa else None,
            "interventions": [strip(e) for e in log_today if e["kind"] == "intervention"],
            "check_ins": [strip(e) for e in log_today if e["kind"] == "check_in"],
        },
        "check_in": {"last": last_check, "due": check_due,
                     "every_days": proto.red_flags.check_in_days},
        "care": (
            {
                "suspended": True,
                "since": min(surgery),
                "reason": "surgery logged: conservative-care rules and prescriptions suspended; "
                "a post-operative protocol is needed",
            }
            if suspended
            else {"suspended": False}
        ),
        "prescribed": {
            name: {
                "sets": dz.sets,
                "reps": dz.reps,
                "hold_s": dz.hold_s,
                "tempo_s": dz.tempo_s,
                "sessions_per_day": dz.sessions_per_day,
                "sessions_per_week": dz.sessions_per_week,
                "source": dz.source,
            }
            for name, dz in ph.prescribed.items()
            if not suspended
        },
        "warnings": [a.to_dict() for a in alerts]
        + [dict(a.to_dict(), since=a.date) for a in standing],
    }


def _ratio_use(
    proto: Protocol, cmp: Comparison, based: dict[str, NDArray[np.bool_]], k: str, i: int
) -> dict[str, Any]:
    """Whether a warning rule uses this ratio today, and why not when it does not."""
    if k != TOTAL and not proto.categories[k].acwr:
        return {"used": False, "reason": "not an acute:chronic category in this protocol"}
    if cmp.based[k][i] and not based[k][i]:
        return {
            "used": False,
            "reason": "a planned phase change restarted the chronic base; the first-exposure "
            "caps apply",
        }
    if not cmp.based[k][i] and cmp.base[k][i] >= proto.acwr.min_base_days:
        return {
            "used": False,
            "reason": f"no chronic base yet (first load less than {proto.acwr.chronic_days} "
            "days ago); the first-exposure caps apply",
        }
    if not cmp.based[k][i]:
        a = proto.acwr
        return {
            "used": False,
            "reason": f"no chronic base yet ({int(cmp.base[k][i])} of {a.min_base_days} loaded "
            f"days in the last {a.chronic_days}); the first-exposure caps apply",
        }
    return {"used": True, "reason": None}


@dataclass(frozen=True)
class History:
    """Per-day arrays from `start` to `end` (inclusive) for trend plots.

    Dict keys are protocol categories; `loads`, `acute`, `chronic`, `ratio`, `week`,
    `previous_week` and `week_on_week_pct` also have "total". `low`/`high` are NaN where a
    category has no target; `status` uses -1 below, 0 within, 1 above, 2 no target.
    `adherence_*` are the share of days (of those whose band asks for work) at or above the
    band's low end, NaN where none asked; `log` holds the patient log entries of the days."""

    patient: str
    protocol: str
    days: list[str]
    phase: list[str]
    phase_changes: list[dict[str, str]]
    categories: dict[str, dict[str, str]]
    loads: dict[str, FloatArray]
    compared: dict[str, FloatArray]
    per_week: dict[str, NDArray[np.bool_]]
    low: dict[str, FloatArray]
    high: dict[str, FloatArray]
    status: dict[str, NDArray[np.int8]]
    acute: dict[str, FloatArray]
    chronic: dict[str, FloatArray]
    ratio: dict[str, FloatArray]
    week: dict[str, FloatArray]
    previous_week: dict[str, FloatArray]
    week_on_week_pct: dict[str, FloatArray]
    sitting_longest_min: FloatArray
    sitting_min: FloatArray
    sitting_bouts: NDArray[np.int64]
    wear_min: FloatArray
    adherence_7d: dict[str, FloatArray]
    adherence_28d: dict[str, FloatArray]
    log: list[dict[str, Any]]
    warnings: list[Alert]

    def to_dict(self) -> dict[str, Any]:
        def arr(a: NDArray[Any]) -> list[Any]:
            if a.dtype.kind == "f":
                return [None if not np.isfinite(x) else round(float(x), 3) for x in a]
            return [int(x) if a.dtype.kind in "iu" else bool(x) for x in a]

        def dd(m: dict[str, NDArray[Any]]) -> dict[str, list[Any]]:
            return {k: arr(v) for k, v in m.items()}

        return {
            "patient": self.patient,
            "protocol": self.protocol,
            "days": self.days,
            "phase": self.phase,
            "phase_changes": self.phase_changes,
            "categories": self.categories,
            "loads": dd(self.loads),
            "compared": dd(self.compared),
            "per_week": dd(self.per_week),
            "low": dd(self.low),
            "high": dd(self.high),
            "status": {k: [STATUS_NAMES[int(x)] for x in v] for k, v in self.status.items()},
            "acute": dd(self.acute),
            "chronic": dd(self.chronic),
            "ratio": dd(self.ratio),
            "week": dd(self.week),
            "previous_week": dd(self.previous_week),
            "week_on_week_pct": dd(self.week_on_week_pct),
            "sitting_longest_min": arr(self.sitting_longest_min),
            "sitting_min": arr(self.sitting_min),
            "sitting_bouts": arr(self.sitting_bouts),
            "wear_min": arr(self.wear_min),
            "adherence_7d": dd(self.adherence_7d),
            "adherence_28d": dd(self.adherence_28d),
            "log": self.log,
            "warnings": [dict(a.to_dict(), date=a.date) for a in self.warnings],
        }


def load_history(
    db: storage.Database,
    patient: str,
    start: str | date | None = None,
    end: str | date | None = None,
) -> History:
    """Per-day loads, bands, ratios, phases and warnings of `patient` on [start, end].

    `start` defaults to the patient's start date, `end` to today (in the patient's zone)."""
    e = parse_date(end, cal=patient_calendar(db, patient))
    st = _compute(db, patient, e)
    s = st.info.start_date if start is None else max(parse_date(start, "start"), st.info.start_date)
    if s > e:
        raise InputError(f"start: {s} is after end {e}")
    i0 = (date.fromisoformat(s) - st.raw.first_day).days
    i1 = st.raw.n_days
    sl = slice(i0, i1)
    cmp, proto = st.cmp, st.protocol

    def cut(m: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        return {k: v[sl].copy() for k, v in m.items()}

    phase = [proto.phase_ids[int(j)] for j in st.phase_index[sl]]
    changes = [
        {"date": c.start_date, "phase": c.phase, "name": proto.phases[c.phase].name}
        for c in st.info.phases
        if c.start_date <= e
    ]
    cats = {k: {"label": c.label, "unit": c.unit} for k, c in proto.categories.items()}
    cats[TOTAL] = {"label": "Total load", "unit": "rep-equivalents"}
    return History(
        patient=st.info.name,
        protocol=proto.id,
        days=[(date.fromisoformat(s) + timedelta(days=k)).isoformat() for k in range(i1 - i0)],
        phase=phase,
        phase_changes=changes,
        categories=cats,
        loads=cut(cmp.loads),
        compared=cut(cmp.compared),
        per_week=cut(cmp.per_week),
        low=cut(cmp.low),
        high=cut(cmp.high),
        status=cut(cmp.status),
        acute=cut(cmp.acute),
        chronic=cut(cmp.chronic),
        ratio=cut(cmp.ratio),
        week=cut(cmp.week),
        previous_week=cut(cmp.previous_week),
        week_on_week_pct=cut(cmp.week_on_week_pct),
        sitting_longest_min=st.raw.sitting_longest_min[sl].copy(),
        sitting_min=st.raw.sitting_min[sl].copy(),
        sitting_bouts=np.bincount(st.raw.sitting_bouts_day, minlength=i1)[sl].astype(np.int64),
        wear_min=st.raw.wear_min[sl].copy(),
        adherence_7d=cut(cmp.adherence_7d),
        adherence_28d=cut(cmp.adherence_28d),
        log=[e for e in st.raw.log if e["date"] >= s],
        warnings=evaluate(st.raw, cmp, proto, 0, i0, i1),
    )


def period(
    info: PatientInfo,
    start: str | date | None,
    end: str | date | None,
    db: storage.Database | None = None,
) -> tuple[str, str]:
    """The days a report or export covers: `start` (default the patient's start date; never
    before it) to `end` (default today), as ISO dates; InputError names the bad option.

    With `db`, an `end` past the patient's data (and today) is clipped to it, so a typo such
    as --to 5175-12-18 costs nothing."""
    e = parse_date(end, "--to", info.calendar)
    if db is not None:
        e = min(e, last_data_day(db, info))
    if e < info.start_date:
        raise InputError(f"--to {e} is before {info.name}'s start date {info.start_date}")
    s = info.start_date if start is None else parse_date(start, "--from")
    if s > e:
        raise InputError(f"--from {s} is after --to {e}")
    return max(s, info.start_date), e


def warnings_between(
    db: storage.Database, patient: str, start: str | date, end: str | date
) -> list[Alert]:
    """All warnings of `patient` on [start, end], oldest first."""
    return load_history(db, patient, start, end).warnings
