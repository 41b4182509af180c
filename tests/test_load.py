"""Daily load from detector events, detector sets and the patient log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from loadmon import load, patients, protocols, storage
from loadmon.recording import Recording

PHT = "proximal-hamstring-tendinopathy"


def _rec(db: storage.Database, name: str, start: datetime, events: list[dict[str, Any]],
         sets: list[dict[str, Any]] | None = None) -> int:  # fmt: skip
    rec = Recording(t=np.arange(5) / 52.0, acc=np.zeros((5, 3)), sample_rate_hz=52.0, start=start)
    rid = storage.save_recording(db, int(storage.get_patient(db, name)["id"]), rec)
    storage.save_analysis(db, rid, {"events": events, "sets": sets or []}, version="t",
                          parameters={})  # fmt: skip
    return rid


def _raw(db: storage.Database, name: str, start: str, end: str) -> load.DailyRaw:
    info = patients.get_patient_info(db, name)
    return load.read_daily(db, info.id, info.protocol(), start, end, timezone=info.timezone)


def test_events_become_daily_categories(fresh_db: storage.Database) -> None:
    patients.add_patient(fresh_db, "a", PHT, phase="2", start="2026-03-01")
    patients.set_prescription(fresh_db, "a", "rdl", kg=30, on="2026-03-02")
    ev = [
        {"type": "bridge_hold", "start_s": 0, "end_s": 41, "hold_s": 40.0},
        {"type": "bridge_hold", "start_s": 60, "end_s": 90},  # no hold_s: its duration
        {"type": "rdl_rep", "start_s": 100, "end_s": 106, "eccentric_s": 3.1, "concentric_s": 2.9},
        {"type": "rdl_rep", "start_s": 110, "end_s": 113, "eccentric_s": 1.0, "concentric_s": 1.5},
        {"type": "bridge_rep", "start_s": 120, "end_s": 125},
        {"type": "hop", "start_s": 130, "end_s": 130.3, "flight_s": 0.3, "contact_s": 0.2},
        {"type": "sitting", "start_s": 200, "end_s": 200 + 20 * 60},
        {"type": "sitting", "start_s": 2000, "end_s": 2000 + 50 * 60},
        {"type": "walking", "start_s": 6000, "end_s": 6000 + 30 * 60},
        {"type": "lying", "start_s": 9000, "end_s": 9000 + 60 * 60},
        {"type": "nonwear", "start_s": 20000, "end_s": 30000},
    ]
    for d in (1, 2):
        _rec(fresh_db, "a", datetime(2026, 3, d, 8, tzinfo=UTC), ev)
    raw = _raw(fresh_db, "a", "2026-03-01", "2026-03-03")
    proto = protocols.get_protocol(PHT)
    cats = load.category_loads(raw, proto)
    assert list(cats["isometric_s"]) == [70.0, 70.0, 0.0]
    assert list(cats["rdl_reps"]) == [2.0, 2.0, 0.0]
    assert list(cats["rdl_kg"]) == [0.0, 60.0, 0.0]  # kg prescribed from 2026-03-02
    assert list(cats["bridge_reps"]) == [1.0, 1.0, 0.0]
    assert list(cats["hop_contacts"]) == [1.0, 1.0, 0.0]
    assert np.allclose(cats["sitting_min"], [70.0, 70.0, 0.0])
    assert np.allclose(raw.sitting_longest_min, [50.0, 50.0, 0.0])
    assert sorted(raw.sitting_bouts_min[raw.sitting_bouts_day == 0]) == [20.0, 50.0]
    assert np.allclose(raw.active_min, [30.0, 30.0, 0.0])
    assert np.allclose(raw.wear_min, [160.0, 160.0, 0.0])  # sitting + walking + lying
    t = raw.tempo["rdl"]
    assert list(t.day) == [0, 0, 1, 1]
    assert list(t.eccentric_s[:2]) == [3.1, 1.0]


def test_sets_count_only_without_per_rep_events(fresh_db: storage.Database) -> None:
    patients.add_patient(fresh_db, "a", PHT, phase="2", start="2026-03-01")
    reps = [{"type": "bridge_rep", "start_s": i * 5.0, "end_s": i * 5.0 + 4} for i in range(10)]
    _rec(fresh_db, "a", datetime(2026, 3, 1, 8, tzinfo=UTC), reps,
         [{"exercise": "bridge", "start_s": 0, "end_s": 50, "reps": 10}])  # fmt: skip
    _rec(fresh_db, "a", datetime(2026, 3, 1, 12, tzinfo=UTC), [],
         [{"exercise": "bridge", "start_s": 0, "end_s": 60, "reps": 12},
          {"exercise": "bridge_hold", "start_s": 100, "end_s": 300, "reps": 4, "hold_s": 45}])
    raw = _raw(fresh_db, "a", "2026-03-01", "2026-03-01")
    assert raw.exercises["bridge"].reps[0] == 22.0
    assert raw.exercises["bridge_hold"].hold_s[0] == 180.0
    assert np.isclose(raw.set_minutes[0], (50 + 60 + 200) / 60)


def test_manual_log_sets_and_rpe(fresh_db: storage.Database) -> None:
    patients.add_patient(fresh_db, "a", PHT, phase="2", start="2026-03-01")
    patients.set_prescription(fresh_db, "a", "rdl", kg=25, on="2026-03-01")
    patients.log_set(fresh_db, "a", exercise="rdl", reps=10, kg=40, on="2026-03-01")
    patients.log_set(fresh_db, "a", exercise="rdl", reps=10, on="2026-03-01")  # prescribed 25
    patients.log_set(fresh_db, "a", exercise="bridge_hold", reps=5, hold_s=45, on="2026-03-02")
    patients.log_rpe(fresh_db, "a", rpe=6, minutes=30, on="2026-03-01")
    _rec(fresh_db, "a", datetime(2026, 3, 2, 8, tzinfo=UTC), [],
         [{"exercise": "rdl", "start_s": 0, "end_s": 600, "reps": 8}])  # fmt: skip
    patients.log_rpe(fresh_db, "a", rpe=5, on="2026-03-02")  # minutes from the detected sets
    raw = _raw(fresh_db, "a", "2026-03-01", "2026-03-02")
    cats = load.category_loads(raw, protocols.get_protocol(PHT))
    assert list(cats["rdl_kg"]) == [650.0, 200.0]
    assert list(cats["rdl_reps"]) == [20.0, 8.0]
    assert list(cats["isometric_s"]) == [0.0, 225.0]
    assert np.allclose(cats["srpe"], [180.0, 50.0])


def test_timezone_moves_the_day_boundary(fresh_db: storage.Database) -> None:
    patients.add_patient(fresh_db, "utc", PHT, phase="1", start="2026-03-01")
    patients.add_patient(fresh_db, "nz", PHT, phase="1", start="2026-03-01",
                         timezone="Pacific/Auckland")  # fmt: skip
    ev = [{"type": "bridge_hold", "start_s": 0, "end_s": 30, "hold_s": 30.0}]
    for name in ("utc", "nz"):
        _rec(fresh_db, name, datetime(2026, 3, 1, 20, tzinfo=UTC), ev)  # 09:00 next day in NZ
    assert list(_raw(fresh_db, "utc", "2026-03-01", "2026-03-02").exercises[
        "bridge_hold"].hold_s) == [30.0, 0.0]  # fmt: skip
    assert list(_raw(fresh_db, "nz", "2026-03-01", "2026-03-02").exercises[
        "bridge_hold"].hold_s) == [0.0, 30.0]  # fmt: skip


def test_events_outside_the_range_are_ignored(fresh_db: storage.Database) -> None:
    patients.add_patient(fresh_db, "a", PHT, phase="1", start="2026-03-01")
    ev = [{"type": "bridge_hold", "start_s": 0, "end_s": 30, "hold_s": 30.0}]
    _rec(fresh_db, "a", datetime(2026, 2, 28, 12, tzinfo=UTC), ev)
    _rec(fresh_db, "a", datetime(2026, 3, 5, 12, tzinfo=UTC), ev)
    raw = _raw(fresh_db, "a", "2026-03-01", "2026-03-04")
    assert raw.exercises["bridge_hold"].hold_s.sum() == 0.0
    assert raw.days == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]


def test_weekly_sums() -> None:
    starts, sums = load.weekly_sums(np.arange(10, dtype=float), date(2026, 3, 2))
    assert starts == ["2026-03-02", "2026-03-09"]
    assert list(sums) == [21.0, 24.0]
