"""Recovery of interrupted recordings: a dead writer's row is closed and analysed on the next
open (or by `loadmon analyze --recording ID`); a live writer's row is left alone."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from loadmon import recovery, storage
from loadmon.cli import cli
from loadmon.recording import read_recording

FIXTURE = Path(__file__).parent / "data" / "recordings" / "bridges_52hz_left_anterior.csv"


def _half_written(db: storage.Database, writer: str | None) -> int:
    """A recording as a recorder leaves it mid-way: samples committed, row `recording`."""
    rec = read_recording(FIXTURE)
    pid = storage.add_patient(db, "Ann")
    extra = {"recorded_with": "loadmon record"} | ({"writer": writer} if writer else {})
    empty = replace(rec, extra=extra)
    with db.atomic():
        rid = storage.create_recording(db, pid, empty, status="recording")
        storage.append_samples(db, rid, rec.t, rec.acc, rec.gyro)
        db.table("recordings").update(rid, {"n_samples": 0, "duration_s": 0.0})
    return rid


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_dead_writers_recording_is_closed_and_analysed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    rid = _half_written(storage.open_db(path), recovery.writer_info(_dead_pid()))
    db = storage.open_db(path)
    row = storage.get_recording_row(db, rid)
    n = read_recording(FIXTURE).n_samples
    assert row["status"] == "interrupted" and row["n_samples"] == n and row["duration_s"] > 0
    assert db.execute("SELECT count(*) FROM analyses WHERE recording_id = ?", [rid]).fetchone()[0]
    assert db.execute("SELECT count(*) FROM events WHERE recording_id = ? AND type = 'bridge_rep'",
                      [rid]).fetchone()[0] > 0


def test_a_live_writers_recording_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    rid = _half_written(storage.open_db(path), recovery.writer_info())  # this process: alive
    db = storage.open_db(path)
    assert storage.get_recording_row(db, rid)["status"] == "recording"
    assert db.execute("SELECT count(*) FROM analyses").fetchone()[0] == 0


def test_analyze_recording_closes_one_without_writer_info(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    rid = _half_written(storage.open_db(path), None)  # an older recorder's row: not guessed
    assert storage.get_recording_row(storage.open_db(path), rid)["status"] == "recording"
    res = CliRunner().invoke(cli, ["analyze", "--recording", str(rid), "--db", str(path)])
    assert res.exit_code == 0, res.output
    assert f"recording {rid} [interrupted]:" in res.output and "bridge" in res.output
    res = CliRunner().invoke(cli, ["analyze", "--recording", "999", "--db", str(path)])
    assert res.exit_code == 2 and "no recording with id 999" in res.output
