"""One calendar: every day boundary (load, session log, status, export) in the patient's zone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from loadmon import export, importing, patients, status, storage
from loadmon.cli import cli
from loadmon.days import Calendar, calendar_for
from loadmon.demo import DEMO_DATA
from loadmon.errors import InputError
from loadmon.load import read_daily
from loadmon.recording import read_recording

PHT = "proximal-hamstring-tendinopathy"


def test_day_of_bounds_and_today_in_los_angeles() -> None:
    cal = Calendar("America/Los_Angeles", now=lambda: datetime(2026, 11, 21, 3, 0, tzinfo=UTC))
    # 18:30 local on the 20th is 02:30 UTC on the 21st.
    assert cal.day_of("2026-11-21T02:30:00.000+00:00") == date(2026, 11, 20)
    assert cal.bounds(date(2026, 11, 20), date(2026, 11, 20)) == (
        "2026-11-20T08:00:00+00:00",
        "2026-11-21T08:00:00+00:00",
    )
    assert cal.today() == date(2026, 11, 20)  # still the 20th in LA at 03:00 UTC
    assert Calendar(now=lambda: datetime(2026, 11, 21, 3, 0, tzinfo=UTC)).today() == date(
        2026, 11, 21
    )


def test_a_half_hour_zone_has_exact_midnights() -> None:
    cal = calendar_for("Asia/Kolkata")  # UTC+05:30
    assert cal.day_of("2026-11-20T18:29:59.999+00:00") == date(2026, 11, 20)
    assert cal.day_of("2026-11-20T18:30:00.000+00:00") == date(2026, 11, 21)
    assert cal.bounds(date(2026, 11, 21), date(2026, 11, 21))[0] == "2026-11-20T18:30:00+00:00"


def test_dst_day_is_23_hours_long() -> None:
    cal = calendar_for("America/Los_Angeles")
    lo, hi = cal.bounds(date(2026, 3, 8), date(2026, 3, 8))
    span = datetime.fromisoformat(hi) - datetime.fromisoformat(lo)
    assert span.total_seconds() == 23 * 3600


def test_an_unknown_zone_is_a_user_error() -> None:
    with pytest.raises(InputError, match="IANA name"):
        calendar_for("Mars/Olympus")


def _import_at(db: storage.Database, name: str, start_utc: datetime) -> None:
    rec = dataclasses.replace(read_recording(DEMO_DATA / "bridge_set.csv"), start=start_utc)
    importing.import_recording(db, rec, patient=name, exercise="bridge")


def test_los_angeles_export_agrees_day_by_day_across_sets_and_daily_loads(
    fresh_db: storage.Database,
) -> None:
    patients.add_patient(
        fresh_db, "Lee", PHT, phase="2", start="2026-11-15", timezone="America/Los_Angeles"
    )
    # 18:30 in Los Angeles on 2026-11-20 (02:30 UTC on the 21st).
    _import_at(fresh_db, "Lee", datetime(2026, 11, 21, 2, 30, tzinfo=UTC))
    manifest, tables = export.tables(fresh_db, "Lee", "2026-11-15", "2026-11-22")
    by = {t.name: t for t in tables}
    sets = by["sets"].rows
    assert sets, "the bridge set was detected"
    assert {r["date"] for r in sets} == {"2026-11-20"}
    loads = {
        (r["date"], r["category"]): r for r in by["daily_loads"].rows
    }
    cat = next(k for (d, k) in loads if "bridge" in k and "hold" not in k)
    reps_by_day: dict[str, float] = {}
    for r in sets:
        reps_by_day[r["date"]] = reps_by_day.get(r["date"], 0) + r["reps"]
    for day in ("2026-11-19", "2026-11-20", "2026-11-21"):
        load = loads[(day, cat)]["load"] or 0
        assert load == reps_by_day.get(day, 0), (day, load, reps_by_day)
    assert {r["date"] for r in by["events"].rows if r["type"] == "bridge_rep"} == {"2026-11-20"}
    assert manifest["timezone"] == "America/Los_Angeles"


def test_half_hour_zone_daily_load_puts_an_early_set_on_the_new_day(
    fresh_db: storage.Database,
) -> None:
    patients.add_patient(fresh_db, "Ravi", PHT, phase="2", start="2026-11-15",
                         timezone="Asia/Kolkata")  # fmt: skip
    # 18:40 UTC = 00:10 local on the 21st; grouping by the UTC hour (18:00 = 23:30 local)
    # would have put it on the 20th.
    _import_at(fresh_db, "Ravi", datetime(2026, 11, 20, 18, 40, tzinfo=UTC))
    info = patients.get_patient_info(fresh_db, "Ravi")
    raw = read_daily(fresh_db, info.id, info.protocol(), "2026-11-19", "2026-11-22",
                     calendar=info.calendar)  # fmt: skip
    reps = raw.exercises["bridge"].reps
    assert reps[raw.index("2026-11-20")] == 0
    assert reps[raw.index("2026-11-21")] > 0


def test_status_today_is_the_patients_today(fresh_db: storage.Database) -> None:
    patients.add_patient(fresh_db, "Kiri", PHT, start="2026-11-01", timezone="Pacific/Auckland")
    # Logged without a date: the day is today in Auckland (UTC+13 in November).
    cal = patients.patient_calendar(fresh_db, "Kiri")
    assert cal.zone_name == "Pacific/Auckland"
    patients.log_pain(fresh_db, "Kiri", during=2)
    day = fresh_db.execute("SELECT date FROM log_entries WHERE kind = 'pain'").fetchone()[0]
    assert day == cal.today().isoformat()
    assert status.day_status(fresh_db, "Kiri")["date"] == day


PSL_ACC = "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]\n"


def _psl(path: Path, phone_start: str, n: int = 600) -> Path:
    ns0 = 817_000_000_000_000_000
    period = round(1e9 / 52)
    lines = [PSL_ACC]
    for k in range(n):
        lines.append(f"{phone_start}.{k % 1000:03d};{ns0 + k * period};-187;-28;949\n")
    path.write_text("".join(lines))
    return path


def test_a_polar_sensor_logger_file_is_read_in_the_patients_zone(tmp_path: Path) -> None:
    db = tmp_path / "psl.db"
    add = ["patient", "add", "Lee", "--protocol", PHT, "--start", "2026-11-15"]
    r = CliRunner().invoke(cli, ["--db", str(db), *add, "--timezone", "America/Los_Angeles"])
    assert r.exit_code == 0, r.output
    f = _psl(tmp_path / "Polar_Sense_B36B2E25_20261120_183000_ACC.txt", "2026-11-20T18:30:00")
    r = CliRunner().invoke(cli, ["import", str(f), "-p", "Lee", "--no-analyze", "--db", str(db)])
    assert r.exit_code == 0, r.output
    con = storage.open_db(db)
    start = con.execute("SELECT start FROM recordings").fetchone()[0]
    # 18:30 on the phone in Los Angeles (PST, UTC-8) is 02:30 UTC the next day.
    assert start.startswith("2026-11-21T02:30:00")
    assert datetime.fromisoformat(start).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    info = patients.get_patient_info(con, "Lee")
    assert info.calendar.day_of(start) == date(2026, 11, 20)
