"""`kill -9` of the dashboard mid-way through a Live session loses at most the last second,
and the next open of the database closes and analyses the recording."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from loadmon import storage
from loadmon.recording import write_loadmon_csv
from tests.test_ble_virtual import source
from tests.tui.snapshot_app import demo_db

LINE = re.compile(r"received ([\d.]+) (\d+) (\d+)")
ROOT = Path(__file__).resolve().parents[2]


def test_kill_9_of_the_dashboard_live_session_keeps_all_but_the_last_second(
    tmp_path: Path,
) -> None:
    db_path = demo_db(tmp_path)
    replay = tmp_path / "moving.csv"
    write_loadmon_csv(source(52, 40.0), replay)
    env = dict(os.environ, PYTHONUNBUFFERED="1", LOADMON_DB=str(db_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.tui.live_child", str(db_path), str(replay), "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),
                                  daemon=True)
        reader.start()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            got = [LINE.search(x) for x in list(lines)]
            got = [m for m in got if m]
            if got and float(got[-1].group(1)) >= 5.0:  # several frames and commits in
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        reader.join(5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    assert proc.returncode == -signal.SIGKILL
    seen = [m for m in (LINE.search(x) for x in lines) if m]
    assert seen, "the live session never received samples"
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
