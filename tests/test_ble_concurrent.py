"""Writers sharing one database: `loadmon record` and three imports at once.

Every write transaction takes the lock before it reads (BEGIN IMMEDIATE), so writers wait
their turn instead of failing with "database is locked"; the recorder retries a busy flush
at the next tick, so the recording completes and every import lands.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from loadmon import storage
from loadmon.recording import write_loadmon_csv
from tests.test_ble_virtual import source

LINE = re.compile(r"recording (\d+):\s+([\d.]+) s")


def _cli(db: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "loadmon", *args, "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_record_and_three_imports_share_one_database(tmp_path: Path) -> None:
    db_path = tmp_path / "shared.db"
    storage.add_patient(storage.open_db(db_path), "kim")
    files = []
    for k in range(3):
        f = tmp_path / f"import{k}.csv"
        write_loadmon_csv(source(52, 240.0, seed=k), f)  # 4 min each: a real write load
        files.append(f)
    rec = _cli(db_path, "record", "--device", "virtual:polar-verity-sense", "--patient", "kim",
               "--duration", "12", "--speed", "2", "--replay", str(files[0]))
    try:
        assert rec.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = rec.stdout.readline()
            m = LINE.search(line)
            if m and float(m.group(2)) > 1.0:
                break
            if not line:
                raise AssertionError("record ended before its first second was stored")
        else:
            raise AssertionError("record stored no full second within 60 s")
        imports = [_cli(db_path, "import", str(f), "--patient", "kim") for f in files]
        results = [p.communicate(timeout=180) + (p.returncode,) for p in imports]
        out, err = rec.communicate(timeout=120)
    finally:
        for p in [rec, *locals().get("imports", [])]:
            if p.poll() is None:
                p.kill()
                p.communicate(timeout=10)
    for _out, e, code in results:
        assert code == 0, e
    assert rec.returncode == 0, err
    assert "database is locked" not in err + "".join(e for _, e, _ in results)
    db = storage.open_db(db_path, create=False)
    rows = db.execute("SELECT source, status, n_samples FROM recordings ORDER BY id").fetchall()
    recorded = [r for r in rows if str(r[0]).startswith("virtual:")]
    assert len(recorded) == 1 and recorded[0][1] == "complete"
    assert recorded[0][2] >= 12 * 52 - 60  # all 12 s of sensor time (less the first frame)
    assert len(rows) == 4 and all(r[1] == "complete" for r in rows)
    assert db.execute("SELECT count(*) FROM analyses").fetchone()[0] == 4


def test_a_transaction_that_reads_first_keeps_its_write_when_another_writer_commits(
    tmp_path: Path,
) -> None:
    """Deferred transactions fail with "database is locked" at their first write when another
    connection committed after their read (WAL); BEGIN IMMEDIATE takes the lock up front, so
    the other writer is the one that waits."""
    import sqlite3

    import pytest

    path = tmp_path / "two.db"
    a, b = storage.open_db(path), storage.open_db(path)
    b.execute("PRAGMA busy_timeout = 0")
    with a.atomic():
        a.execute("SELECT count(*) FROM patients").fetchone()
        # b must wait for a, not slip in between a's read and write
        with pytest.raises(sqlite3.OperationalError, match="locked"), b.atomic():
            b.execute("INSERT INTO patients (name, created) VALUES ('b', 'now')")
        a.execute("INSERT INTO patients (name, created) VALUES ('a', 'now')")
    names = [r[0] for r in b.execute("SELECT name FROM patients")]
    assert names == ["a"]
