"""The live screen starts its detectors from the mounting learned from earlier recordings."""

from __future__ import annotations

from pathlib import Path

from loadmon import storage
from loadmon.importing import import_recording
from loadmon.recording import read_recording
from loadmon.tui.data import DashboardData, LiveCounter

FIXTURE = Path(__file__).parents[1] / "data" / "recordings" / "bridges_52hz_left_anterior.csv"


def test_remembered_mounting_reaches_the_live_detectors(db_path: Path) -> None:
    db = storage.open_db(db_path)
    rec = read_recording(FIXTURE)
    import_recording(db, rec, patient="Ann", create_patient=True)
    data = DashboardData(db_path, patient="Ann")
    mounting = data.remembered_mounting(rec.device)
    assert mounting is not None
    counter = LiveCounter(52.0, "bridge", mounting)
    assert counter._counter.analyzer.mounting is mounting
    # Nothing learned for another device: the detectors start from scratch.
    assert data.remembered_mounting("some-other-sensor") is None
    assert LiveCounter(52.0, "bridge")._counter.analyzer.mounting is None
