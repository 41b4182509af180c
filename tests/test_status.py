"""The status object (`loadmon status --json`) and the load history used by the TUI/report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from loadmon import patients, status, storage
from loadmon.errors import InputError, NotFoundError
from tests.test_alerts import N_DAYS, NAME, PHASE2, build_history, day


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> storage.Database:
    d = storage.open_db(tmp_path_factory.mktemp("status") / "loadmon.db")
    build_history(d)
    return d


def test_status_object_has_the_documented_keys(db: storage.Database) -> None:
    s = status.day_status(db, NAME, day(44))
    for key in ("date", "patient", "protocol", "phase", "loads", "ratios", "warnings"):
        assert key in s
    assert s["date"] == day(44) and s["patient"] == NAME
    assert s["protocol"] == "proximal-hamstring-tendinopathy"
    assert s["phase"] == "2" and s["phase_since"] == day(PHASE2)
    for v in s["loads"].values():
        assert set(v) >= {"value", "target", "status"}
        assert v["status"] in ("below", "within", "above", None)
        assert v["target"] is None or len(v["target"]) == 2
    for r in s["ratios"].values():
        assert set(r) >= {"acute", "chronic", "ratio"}
    assert "total" in s["ratios"]
    for w in s["warnings"]:
        assert set(w) >= {"rule", "severity", "message", "numbers", "source"}
    json.dumps(s)  # JSON-able


def test_status_values(db: storage.Database) -> None:
    s = status.day_status(db, NAME, day(44))
    rdl = s["loads"]["rdl_reps"]
    assert rdl["period"] == "week" and rdl["today"] == 36.0
    assert rdl["value"] == 36.0 * 3 + 24  # the 7 days d38-d44: sessions d39, d42 (+24), d44
    assert rdl["target"] == [54.0, 180.0] and rdl["status"] == "within"
    iso = s["loads"]["isometric_s"]
    assert iso["period"] == "day" and iso["value"] == 450.0 and iso["status"] == "within"
    assert s["tempo"]["rdl"] == {"reps": 36, "at_tempo": 18, "share": 0.5, "tempo_s": 3.0}
    assert s["sitting"]["limit_bout_min"] == 45.0
    assert s["log"]["visa_h"] == {"date": day(42), "score": 55.0}
    assert "rdl" in s["prescribed"]
    assert any(w["rule"] == "tempo.fast" for w in s["warnings"])


def test_history_arrays_and_phase_changes(db: storage.Database) -> None:
    h = status.load_history(db, NAME, day(0), day(N_DAYS - 1))
    assert len(h.days) == N_DAYS and h.days[0] == day(0)
    assert h.phase[PHASE2 - 1] == "1" and h.phase[PHASE2] == "2"
    assert [c["phase"] for c in h.phase_changes] == ["1", "2"]
    for k in ("isometric_s", "rdl_kg", "total"):
        assert h.loads[k].shape == (N_DAYS,) and h.ratio[k].shape == (N_DAYS,)
    assert np.isnan(h.low["srpe"]).all()
    d = h.to_dict()
    json.dumps(d)
    assert d["status"]["isometric_s"][10] == "above"


def test_history_window_gives_the_same_ratios(db: storage.Database) -> None:
    full = status.load_history(db, NAME, day(0), day(60))
    part = status.load_history(db, NAME, day(50), day(60))
    assert np.allclose(full.ratio["rdl_kg"][50:], part.ratio["rdl_kg"], equal_nan=True)
    s = status.day_status(db, NAME, day(60))
    assert s["ratios"]["rdl_kg"]["ratio"] == pytest.approx(full.ratio["rdl_kg"][60], abs=1e-3)


def test_errors(db: storage.Database) -> None:
    with pytest.raises(NotFoundError):
        status.day_status(db, "nobody", day(1))
    with pytest.raises(InputError, match="before"):
        status.day_status(db, NAME, "2025-01-01")
    with pytest.raises(InputError, match="expected a date"):
        status.day_status(db, NAME, "yesterday")


def test_patient_without_data(fresh_db: storage.Database) -> None:
    patients.add_patient(fresh_db, "new", "iliopsoas-tendinopathy", start="2026-01-01")
    s = status.day_status(fresh_db, "new", "2026-01-01")
    assert s["phase"] == "0" and s["warnings"] == []
    assert s["loads"]["hip_flexion_reps"]["target"] == [0.0, 0.0]
