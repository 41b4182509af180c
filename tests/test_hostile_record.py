"""A disk that fills up during `record`: one line saying what was kept (issue 18)."""

from __future__ import annotations

import re

import pytest

from loadmon import storage
from loadmon.errors import StorageError
from loadmon.profiles import get_profile
from tests.test_ble_virtual import run_virtual, source


async def test_a_full_disk_while_recording_says_what_was_kept(
    fresh_db: storage.Database,
) -> None:
    prof = get_profile("polar-verity-sense")
    storage.add_patient(fresh_db, "warm-up")  # the schema's pages exist before the cap
    pages = fresh_db.execute("PRAGMA page_count").fetchone()[0]
    fresh_db.execute(f"PRAGMA max_page_count = {pages + 6}")  # SQLite's own "disk is full"
    with pytest.raises(StorageError) as e:
        await run_virtual(prof, source(prof.acc.default_rate_hz, 120.0), fresh_db,
                          duration_s=110.0)
    msg = str(e.value)
    m = re.fullmatch(r"disk full: recording (\d+) (kept up to (\d+) s|has no samples)", msg)
    assert m, msg
    rid = int(m.group(1))
    row = storage.get_recording_row(fresh_db, rid)
    stored = fresh_db.execute(
        "SELECT coalesce(sum(n), 0), max(t_last) FROM sample_blocks WHERE recording_id = ?",
        [rid],
    ).fetchone()
    # the row's totals describe exactly the committed samples, and the message says so
    assert row["n_samples"] == stored[0]
    if m.group(3) is not None:
        assert stored[0] > 0 and int(m.group(3)) == round(stored[1])
    assert fresh_db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
