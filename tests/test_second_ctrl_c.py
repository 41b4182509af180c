"""A second Ctrl-C (SIGINT) during the end-of-session analysis is ignored until it is saved:
`loadmon record` and the dashboard's Live session, each a real process sent SIGINT twice.

The child holds the (real) analysis until the test writes a line (tests/gated_analysis.py),
so the second SIGINT lands inside the analysis by construction; what is asserted is the
stored state: the recording complete and analysed."""

from __future__ import annotations

import signal
from pathlib import Path

from loadmon import storage
from loadmon.recording import write_loadmon_csv
from tests.child_process import child
from tests.test_ble_virtual import source
from tests.tui.snapshot_app import demo_db

STATUS = r"recording (\d+):\s+([\d.]+) s\s+[\d.]+ Hz\s+(\d+) samples stored"


def assert_complete_and_analysed(db_path: Path, rid: int) -> None:
    db = storage.open_db(db_path, create=False)
    try:
        row = storage.get_recording_row(db, rid)
        assert row["status"] == "complete" and row["n_samples"] > 0
        (n,) = db.execute("SELECT count(*) FROM analyses WHERE recording_id = ?",
                          [rid]).fetchone()
        assert n == 1
    finally:
        db.close()


def test_record_ignores_a_second_ctrl_c_until_the_analysis_is_saved(tmp_path: Path) -> None:
    db_path = tmp_path / "ctrlc.db"
    replay = tmp_path / "moving.csv"
    write_loadmon_csv(source(52, 60.0), replay)
    with child(["-m", "tests.gated_analysis", "cli", "record", "--device",
                "virtual:polar-verity-sense", "--patient", "kim", "--create", "--db",
                str(db_path), "--replay", str(replay), "--speed", "5"]) as c:
        m = c.wait_for(STATUS, accept=lambda m: float(m.group(2)) >= 3.0 and int(m.group(3)))
        rid = int(m.group(1))
        c.send(signal.SIGINT)  # the first: stop recording
        c.wait_for(r"^analysing")
        c.send(signal.SIGINT)  # the second, during the analysis
        c.wait_for(r"still saving the analysis", stream="err")
        c.write("go")
        code = c.wait()
        assert code == 0, "".join(c.err)
        assert c.matches(rf"recorded \d+ samples .* as recording {rid} ")
        assert not c.matches(r"Traceback|Aborted", stream="err")
    assert_complete_and_analysed(db_path, rid)


def test_dashboard_ignores_a_second_ctrl_c_while_a_live_session_saves(tmp_path: Path) -> None:
    db_path = demo_db(tmp_path)
    replay = tmp_path / "moving.csv"
    write_loadmon_csv(source(52, 60.0), replay)
    with child(["-m", "tests.gated_analysis", "tui", str(db_path), str(replay), "5"],
               env={"LOADMON_DB": str(db_path)}) as c:
        m = c.wait_for(r"received ([\d.]+) (\d+) (\d+)",
                       accept=lambda m: float(m.group(1)) >= 3.0)
        rid = int(m.group(3))
        c.send(signal.SIGINT)  # the first: quit, which stops and saves the session first
        c.wait_for(r"^analysing")
        c.send(signal.SIGINT)  # the second, during the analysis
        c.wait_for(r"^ignored 1")
        c.write("go")
        code = c.wait()
        assert code == 0, "".join(c.err)
        assert c.matches(rf"^exited saved={rid}$")
    assert_complete_and_analysed(db_path, rid)
