"""`kill -9` of the dashboard mid-way through a Live session loses at most the last second,
and the next open of the database closes and analyses the recording."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

from loadmon import storage
from loadmon.recording import write_loadmon_csv
from tests.child_process import child
from tests.test_ble_virtual import source
from tests.tui.snapshot_app import demo_db

LINE = r"received ([\d.]+) (\d+) (\d+)"


def test_kill_9_of_the_dashboard_live_session_keeps_all_but_the_last_second(
    tmp_path: Path,
) -> None:
    db_path = demo_db(tmp_path)
    replay = tmp_path / "moving.csv"
    write_loadmon_csv(source(52, 40.0), replay)
    with child(["-m", "tests.tui.live_child", str(db_path), str(replay), "1"],
               env={"LOADMON_DB": str(db_path)}) as c:
        # several frames and commits in
        c.wait_for(LINE, timeout=90, accept=lambda m: float(m.group(1)) >= 5.0)
        code = c.kill_9()
        seen = c.matches(LINE)  # every line it printed, all before it died
    assert code == -signal.SIGKILL
    t_seen, n_seen, rid = float(seen[-1].group(1)), int(seen[-1].group(2)), int(seen[-1].group(3))
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    status = conn.execute("SELECT status FROM recordings WHERE id = ?", [rid]).fetchone()[0]
    conn.close()
    assert status == "recording"  # the dashboard never got to close it
    db = storage.open_db(db_path, create=False)  # recovery: closed and analysed
    row = storage.get_recording_row(db, rid)
    assert row["status"] == "interrupted"
    rec = storage.load_recording(db, rid)
    # Everything received more than a second before the kill is on disk.
    assert rec.t[-1] >= t_seen - 1.0 and rec.n_samples >= n_seen - 52
    assert row["n_samples"] == rec.n_samples and rec.gyro is not None
    assert db.execute("SELECT count(*) FROM analyses WHERE recording_id = ?",
                      [rid]).fetchone()[0] == 1
