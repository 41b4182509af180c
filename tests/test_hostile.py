"""Regression tests for the crashing inputs of issue 18: each is one clear line, exit 2 (or 1
for a database that cannot be used), never an internal error, never a changed database."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from loadmon import patients, storage
from loadmon.cli import cli
from loadmon.errors import ProtocolError, RecordingFormatError, StorageError
from loadmon.export import read_csv
from loadmon.importing import import_recording
from loadmon.protocols import PROTOCOLS_DIR, read_protocol
from loadmon.recording import MAX_HEADER_BYTES, Recording, read_recording

PHT = "proximal-hamstring-tendinopathy"
POLAR_HEAD = "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]\n"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_line_error(res: Result, code: int = 2) -> str:
    assert res.exit_code == code, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, res.output
    assert "internal error" not in res.output and "Traceback" not in res.output
    return lines[0]


def polar_rows(n: int = 30, phone: str = "2026-11-20T09:00:00.000") -> list[str]:
    return [f"{phone};{599_000_000_000_000_000 + k * 19_230_769};10;-20;990" for k in range(n)]


def write_polar(tmp_path: Path, rows: list[str]) -> Path:
    p = tmp_path / "Polar_Sense_x_ACC.txt"
    p.write_text(POLAR_HEAD + "\n".join(rows) + "\n")
    return p


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "db.sqlite"
    db = storage.open_db(path)
    patients.add_patient(db, "Ann", PHT, start="2026-11-01")
    db.close()
    return path


def counts(path: Path) -> tuple[int, ...]:
    con = sqlite3.connect(path)
    try:
        return tuple(
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("patients", "recordings", "sample_blocks", "log_entries")
        )
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# Recording files


def test_polar_huge_sensor_timestamp_is_a_clear_line(tmp_path: Path) -> None:
    rows = polar_rows()
    rows[3] = rows[3].replace(";599", ";" + "9" * 30, 1)
    with pytest.raises(
        RecordingFormatError, match=r"_ACC\.txt:5: value .* in column 2 is too large"
    ):
        read_recording(write_polar(tmp_path, rows))


def test_polar_short_row_is_a_clear_line(tmp_path: Path) -> None:
    rows = polar_rows()
    rows[6] = rows[6].rsplit(";", 2)[0]
    with pytest.raises(RecordingFormatError, match=r"_ACC\.txt:8: expected 5 values, found 3"):
        read_recording(write_polar(tmp_path, rows))


@pytest.mark.parametrize("phone", ["0000-01-01T00:00:00", "0001-01-01T00:00:00", "9999-12-31"])
def test_polar_odd_phone_dates_are_a_clear_line(tmp_path: Path, phone: str) -> None:
    with pytest.raises(RecordingFormatError, match=r"_ACC\.txt:2: "):
        read_recording(write_polar(tmp_path, polar_rows(phone=phone)))


def test_polar_comment_like_row_is_not_silently_dropped(tmp_path: Path) -> None:
    rows = polar_rows()
    rows[2] = "# a comment"
    with pytest.raises(RecordingFormatError, match=r"_ACC\.txt:4: expected 5 values, found 1"):
        read_recording(write_polar(tmp_path, rows))


def test_a_200000_character_header_line_is_refused_not_parsed(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("# loadmon-csv 1\n# note: " + " " * 200_000 + "x\nt,ax,ay,az\n0,0,0,1\n")
    with pytest.raises(RecordingFormatError, match=r"big\.csv:2: header longer than 64 KiB"):
        read_recording(path)


def test_a_long_header_value_below_the_cap_is_kept_stripped(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    value = "a" + " " * (MAX_HEADER_BYTES // 2) + "b"
    rows = "".join(f"{k / 50:.4f},0,0,1\n" for k in range(30))
    path.write_text(f"# loadmon-csv 1\n# note:  {value}   \nt,ax,ay,az\n{rows}")
    assert read_recording(path).extra["note"] == value


def test_a_sample_at_t_1e12_is_refused(tmp_path: Path) -> None:
    rows = [f"{k / 50:.4f},0,0,1" for k in range(101)] + ["1000000000000,0,0,1"]
    path = tmp_path / "far.csv"
    path.write_text("# loadmon-csv 1\nt,ax,ay,az\n" + "\n".join(rows) + "\n")
    with pytest.raises(RecordingFormatError, match=r"far\.csv:104: column t: 1e\+12 s"):
        read_recording(path)


def test_import_of_dev_zero_is_refused_at_once(db_file: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    before = counts(db_file)
    res = run("import", "/dev/zero", "-p", "Ann", "--db", str(db_file))
    assert "not a text file (byte 0 is NUL)" in one_line_error(res)
    assert counts(db_file) == before


# --------------------------------------------------------------------------------------------
# Protocol files


def _protocol(tmp_path: Path, old: str, new: str) -> Path:
    text = (PROTOCOLS_DIR / "proximal_hamstring_tendinopathy.toml").read_text()
    assert old in text
    p = tmp_path / "p.toml"
    p.write_text(text.replace(old, new, 1))
    return p


def test_deeply_nested_toml_is_a_clear_line(tmp_path: Path) -> None:
    p = _protocol(tmp_path, "schema = 1", "zz = " + "[" * 5000 + "]" * 5000 + "\nschema = 1")
    with pytest.raises(ProtocolError, match="nested too deep"):
        read_protocol(p)
    res = run("protocols", "check", str(p))
    assert "nested too deep" in one_line_error(res)


def test_a_huge_integer_is_a_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="a number with thousands of digits"):
        read_protocol(_protocol(tmp_path, "schema = 1", "schema = " + "9" * 5000))


def test_a_window_of_a_billion_days_is_refused(tmp_path: Path) -> None:
    p = _protocol(tmp_path, "low_for_days = 7", "low_for_days = 1000000000")
    with pytest.raises(ProtocolError, match=r"acwr\.low_for_days: expected a whole number <= 366"):
        read_protocol(p)


def test_nan_in_a_protocol_is_refused(tmp_path: Path) -> None:
    p = _protocol(tmp_path, "caution_above = 1.3", "caution_above = nan")
    with pytest.raises(ProtocolError, match=r"acwr\.caution_above: expected a finite number"):
        read_protocol(p)


def test_a_ratio_above_ten_is_refused(tmp_path: Path) -> None:
    p = _protocol(tmp_path, "alarm_above = 1.5", "alarm_above = 11")
    with pytest.raises(ProtocolError, match=r"acwr\.alarm_above: expected a number <= 10"):
        read_protocol(p)


# --------------------------------------------------------------------------------------------
# Names, notes, dates and ids


def test_a_trailing_space_name_is_the_same_patient(tmp_path: Path) -> None:
    db = str(tmp_path / "n.db")
    assert run("patient", "add", "Ann ", "-P", PHT, "--db", db).exit_code == 0
    res = run("patient", "add", "Ann", "-P", PHT, "--db", db)
    assert "already exists" in one_line_error(res)
    assert run("phase", "history", " Ann", "--db", db).exit_code == 0
    res = run("patient", "list", "--json", "--db", db)
    assert [p["name"] for p in json.loads(res.output)] == ["Ann"]


def test_import_create_with_a_trailing_space_creates_the_trimmed_name(tmp_path: Path) -> None:
    db = str(tmp_path / "i.db")
    rows = "".join(f"{k / 50:.4f},0,0,1\n" for k in range(60))
    f = tmp_path / "r.csv"
    f.write_text("# loadmon-csv 1\nt,ax,ay,az\n" + rows)
    assert run("import", str(f), "-p", "Bob ", "--create", "--db", db).exit_code == 0
    res = run("recordings", "-p", "Bob ", "--json", "--db", db)
    assert res.exit_code == 0 and [r["patient"] for r in json.loads(res.output)] == ["Bob"]


def test_a_name_with_a_control_character_is_never_created(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    res = run("patient", "add", "A\x1bnn", "-P", PHT, "--db", str(db))
    assert "control character" in one_line_error(res)
    assert counts(db)[0] == 0


def test_a_formula_in_a_note_is_neutralised_in_csv_and_raw_in_json(
    db_file: Path, tmp_path: Path
) -> None:
    note = '@SUM(1+1)*cmd|" /C calc"!A0'
    db = storage.open_db(db_file)
    patients.log_intervention(db, "Ann", "shockwave", on="2026-11-05", note=note)
    db.close()
    for fmt in ("csv", "json"):
        out = tmp_path / fmt
        args = ["export", "Ann", "--from", "2026-11-01", "--to", "2026-11-20"]
        assert run(*args, "--format", fmt, "--out", str(out), "--db", str(db_file)).exit_code == 0
        if fmt == "csv":
            (row,) = read_csv(out / "log_entries.csv")
            assert row["note"] == "'" + note
        else:
            (row,) = json.loads((out / "log_entries.json").read_text())
            assert row["note"] == note


def test_a_far_future_date_is_refused_or_clipped(db_file: Path, tmp_path: Path) -> None:
    res = run("status", "Ann", "--date", "9999-12-31", "--db", str(db_file))
    assert "expected a date from 1900-01-01 to 2199-12-31" in one_line_error(res)
    res = run("status", "Ann", "--date", "2150-01-01", "--db", str(db_file))
    assert "more than 366 days after Ann's last data" in one_line_error(res)
    out = tmp_path / "x"
    res = run("export", "Ann", "--to", "2199-12-18", "--out", str(out), "--db", str(db_file))
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["to"] == patients.today()  # clipped to the data (here: today)


def test_a_huge_recording_id_is_a_clear_line(db_file: Path, tmp_path: Path) -> None:
    res = run("export-recording", "9" * 20, "--out", str(tmp_path / "x.csv"), "--db", str(db_file))
    assert "99999999999999999999" in one_line_error(res)


def test_export_recording_writes_0600(db_file: Path, tmp_path: Path) -> None:
    db = storage.open_db(db_file)
    t = np.arange(100) / 50
    rid = storage.save_recording(
        db, 1, Recording(t=t, acc=np.tile([0.0, 0.0, 1.0], (100, 1)), sample_rate_hz=50.0)
    )
    db.close()
    out = tmp_path / "rec.csv"
    assert run("export-recording", str(rid), "--out", str(out), "--db", str(db_file)).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "args",
    [
        ["devices", "decode", "polar-verity-sense", "02" * 20, "--factor", "nan"],
        ["devices", "decode", "polar-verity-sense", "02" * 20, "--factor", "inf"],
        ["devices", "decode", "metamotion", "0203", "--range", "99999999999999999999"],
        ["status", "Ann", "--date", "-1"],
        ["log", "pain", "Ann", "--during", "nan"],
    ],
)
def test_bad_numbers_are_one_line_exit_2(args: list[str], db_file: Path) -> None:
    one_line_error(run(*args, "--db", str(db_file)) if args[0] != "devices" else run(*args))


def test_an_undecodable_argument_is_one_line() -> None:
    arg = b"\xff".decode("utf-8", "surrogateescape")
    assert "is not UTF-8 text" in one_line_error(run("patient", "add", arg, "-P", PHT))


# --------------------------------------------------------------------------------------------
# Databases that cannot be used


def test_a_typo_in_db_is_said_not_created(tmp_path: Path) -> None:
    typo = tmp_path / "lodmon.db"
    for args in (["status", "Ann"], ["patient", "list"], ["log", "pain", "Ann", "--during", "2"]):
        assert "no database at" in one_line_error(run(*args, "--db", str(typo)))
        assert not typo.exists()


def test_a_zero_length_file_is_not_a_database(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    msg = one_line_error(run("status", "Ann", "--db", str(empty)), code=1)
    assert "is empty (0 bytes)" in msg and empty.stat().st_size == 0


def test_a_corrupt_database_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    assert "cannot open database" in one_line_error(run("patient", "list", "--db", str(bad)), 1)


def test_a_database_from_a_newer_schema_is_one_line(db_file: Path) -> None:
    con = sqlite3.connect(db_file)
    con.execute("INSERT INTO schema_version VALUES (99, 'future')")
    con.commit()
    con.close()
    msg = one_line_error(run("patient", "list", "--db", str(db_file)), code=1)
    assert "newer than this loadmon" in msg


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_a_read_only_database_is_one_line(db_file: Path, tmp_path: Path) -> None:
    db_file.chmod(0o400)
    f = tmp_path / "r.csv"
    f.write_text("# loadmon-csv 1\nt,ax,ay,az\n" + "".join(f"{k / 50},0,0,1\n" for k in range(60)))
    res = run("import", str(f), "-p", "Ann", "--db", str(db_file))
    assert "read-only" in one_line_error(res, code=1)


def test_a_full_disk_during_import_keeps_the_database_as_it_was(db_file: Path) -> None:
    before = counts(db_file)
    db = storage.open_db(db_file)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLite's own "disk is full"
    n = 200_000
    rng = np.random.default_rng(1)
    rec = Recording(t=np.arange(n) / 52, acc=rng.normal(0, 1, (n, 3)), sample_rate_hz=52.0)
    with pytest.raises(StorageError) as e, storage.db_errors():
        import_recording(db, rec, patient="Ann", analyze=False)
    db.close()
    assert str(e.value).startswith("disk full: the change was rolled back")
    assert counts(db_file) == before
    con = sqlite3.connect(db_file)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_a_read_only_database_error_is_explained(db_file: Path) -> None:
    """The same translation, driven by SQLite's own read-only error (runs even as root)."""
    con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        with pytest.raises(StorageError) as e, storage.db_errors():
            con.execute("INSERT INTO log_entries (patient_id, date, kind) VALUES (1, 'x', 'y')")
    finally:
        con.close()
    assert str(e.value).startswith("the database (or its folder) is read-only: ")
    assert counts(db_file)[3] == 0
