"""`kill -9` of a recording process leaves a database that opens and lacks at most 1 s."""

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

LINE = re.compile(r"recording (\d+):\s+([\d.]+) s\s+[\d.]+ Hz\s+(\d+) samples stored")


def _start(db: Path, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", LOADMON_DB=str(db))
    return subprocess.Popen(
        [sys.executable, "-m", "loadmon", "record", "--device", "virtual:polar-verity-sense",
         "--patient", "kim", "--create", "--db", str(db), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _wait_for(proc: subprocess.Popen[str], seconds_recorded: float) -> tuple[float, int]:
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = LINE.search(line)
        if m and float(m.group(2)) >= seconds_recorded and int(m.group(3)) > 0:
            return float(m.group(2)), int(m.group(3))
    proc.kill()
    raise AssertionError(f"recorder never got going: {proc.stderr.read() if proc.stderr else ''}")


def test_kill_9_keeps_everything_up_to_the_last_second(tmp_path: Path) -> None:
    db_path = tmp_path / "kill.db"
    replay = tmp_path / "moving.csv"  # a moving thigh: frames fill fast (a still one: seconds)
    write_loadmon_csv(source(208, 30.0), replay)
    proc = _start(db_path, "--rate", "208", "--replay", str(replay))
    try:
        t_seen, stored_seen = _wait_for(proc, 2.0)
        # Keep reading status lines for a while; the last one before the kill is the bar.
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),
                                  daemon=True)
        reader.start()
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)
        for line in lines:
            m = LINE.search(line)
            if m:
                t_seen, stored_seen = float(m.group(2)), int(m.group(3))
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    assert proc.returncode == -signal.SIGKILL
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
    proc = _start(db_path, "--speed", "5")
    try:
        _wait_for(proc, 5.0)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "recorded " in out and "[interrupted]" not in err
    db = storage.open_db(db_path, create=False)
    status, n = db.execute("SELECT status, n_samples FROM recordings").fetchone()
    assert status == "complete" and n > 0
