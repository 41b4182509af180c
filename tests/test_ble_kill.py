"""`kill -9` of a recording process leaves a database that opens and lacks at most 1 s."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

from loadmon import storage
from loadmon.recording import write_loadmon_csv
from tests.child_process import Child, child
from tests.test_ble_virtual import source

LINE = r"recording (\d+):\s+([\d.]+) s\s+[\d.]+ Hz\s+(\d+) samples stored"


def _record(db: Path, *extra: str) -> list[str]:
    return ["-m", "loadmon", "record", "--device", "virtual:polar-verity-sense",
            "--patient", "kim", "--create", "--db", str(db), *extra]


def _recorded(c: Child, seconds: float) -> None:
    """Wait until `seconds` of sensor time are stored (fails loudly if it never happens)."""
    c.wait_for(LINE, accept=lambda m: float(m.group(2)) >= seconds and int(m.group(3)) > 0)


def test_kill_9_keeps_everything_up_to_the_last_second(tmp_path: Path) -> None:
    db_path = tmp_path / "kill.db"
    replay = tmp_path / "moving.csv"  # a moving thigh: frames fill fast (a still one: seconds)
    write_loadmon_csv(source(208, 30.0), replay)
    with child(_record(db_path, "--rate", "208", "--replay", str(replay)),
               env={"LOADMON_DB": str(db_path)}) as c:
        _recorded(c, 3.0)
        code = c.kill_9()
        last = c.matches(LINE)[-1]  # the last status line it printed before it died
    t_seen, stored_seen = float(last.group(2)), int(last.group(3))
    assert code == -signal.SIGKILL
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    (status,) = conn.execute("SELECT status FROM recordings").fetchone()
    conn.close()
    assert status == "recording"  # it never got to say goodbye
    db = storage.open_db(db_path, create=False)  # recovery closes and analyses it
    row = db.execute("SELECT id, n_samples, status FROM recordings").fetchone()
    rid, n_samples, status = row
    assert status == "interrupted"
    assert db.execute("SELECT count(*) FROM analyses WHERE recording_id = ?",
                      [rid]).fetchone()[0] == 1
    rec = storage.load_recording(db, rid)
    assert rec.n_samples == n_samples >= stored_seen
    # Everything the recorder had received more than a second before the kill is on disk.
    assert rec.t[-1] >= t_seen - 1.0
    assert rec.gyro is not None and rec.sample_rate_hz == 208


def test_sigterm_flushes_and_closes(tmp_path: Path) -> None:
    db_path = tmp_path / "term.db"
    with child(_record(db_path, "--speed", "5"), env={"LOADMON_DB": str(db_path)}) as c:
        _recorded(c, 5.0)
        c.send(signal.SIGTERM)
        code = c.wait(30)
        out, err = "".join(c.out), "".join(c.err)
    assert code == 0, err
    assert "recorded " in out and "[interrupted]" not in err
    db = storage.open_db(db_path, create=False)
    status, n = db.execute("SELECT status, n_samples FROM recordings").fetchone()
    assert status == "complete" and n > 0
