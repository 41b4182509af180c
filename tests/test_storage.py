"""Storage: compact sample blocks, atomic writes, migrations, file permissions."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from loadmon import storage
from loadmon.errors import NotFoundError, StorageError
from loadmon.recording import Recording


@settings(max_examples=80, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 300), st.integers(1, 3)),
        elements=st.floats(-3000, 3000, allow_nan=False, allow_infinity=False),
    ),
    st.sampled_from([1e-5, 1e-4, 0.000244, 1e-3, 0.061]),
)
def test_channel_encoding_round_trips_within_half_a_step(values: np.ndarray, scale: float) -> None:
    blob = storage.encode_channels(values, scale)
    back = storage.decode_channels(blob, values.shape[0], values.shape[1], scale)
    np.testing.assert_allclose(back, values, atol=scale * 0.5 + 1e-9, rtol=0)


def _rec(n: int = 5000, rate: float = 52.0, gyro: bool = True, seed: int = 0) -> Recording:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    t[n // 2 :] += 1.25  # one packet-loss gap
    acc = rng.normal(0, 0.3, (n, 3)) + [0, 0, 1]
    return Recording(
        t=np.round(t, 4),
        acc=np.round(acc, 4),
        gyro=np.round(rng.normal(0, 50, (n, 3)), 3) if gyro else None,
        sample_rate_hz=rate,
        start=datetime(2026, 11, 20, 9, tzinfo=UTC),
        device="polar-verity-sense",
        extra={"subject": "x"},
    )


def test_recording_round_trips_through_the_database(fresh_db: storage.Database) -> None:
    pid = storage.add_patient(fresh_db, "Ann")
    rec = _rec(n=storage.BLOCK_SAMPLES + 1234)  # spans two blocks
    rid = storage.save_recording(fresh_db, pid, rec)
    back = storage.load_recording(fresh_db, rid)
    np.testing.assert_allclose(back.t, rec.t, atol=0.5e-4)
    np.testing.assert_allclose(back.acc, rec.acc, atol=0.5e-4)
    assert back.gyro is not None and rec.gyro is not None
    np.testing.assert_allclose(back.gyro, rec.gyro, atol=0.5e-3)
    assert back.start == rec.start and back.extra == {"subject": "x"}
    half = rec.n_samples // 2
    assert storage.list_gaps(fresh_db, rid) == [
        (pytest.approx(rec.t[half - 1]), pytest.approx(rec.t[half]))
    ]
    [row] = storage.list_recordings(fresh_db, "Ann")
    assert row["id"] == rid and row["patient"] == "Ann" and row["gaps"] == 1


def test_acc_only_recording_has_no_gyro_after_loading(fresh_db: storage.Database) -> None:
    pid = storage.add_patient(fresh_db, "Ann")
    rid = storage.save_recording(fresh_db, pid, _rec(gyro=False))
    assert storage.load_recording(fresh_db, rid).gyro is None


def test_a_failed_save_leaves_the_database_unchanged(
    fresh_db: storage.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = storage.add_patient(fresh_db, "Ann")
    before = list(fresh_db.conn.iterdump())

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(storage, "append_samples", boom)
    with pytest.raises(RuntimeError):
        storage.save_recording(fresh_db, pid, _rec())
    assert list(fresh_db.conn.iterdump()) == before


def test_database_file_is_private_wal_and_enforces_foreign_keys(db_path: Path) -> None:
    db = storage.open_db(db_path)
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(Exception, match="FOREIGN KEY"):
        db["recordings"].insert({"patient_id": 999, "start": "x", "sample_rate_hz": 1.0})


def test_migrations_run_once_and_refuse_a_newer_schema(db_path: Path) -> None:
    db = storage.open_db(db_path)
    assert storage.schema_version(db) == len(storage.MIGRATIONS)
    db.close()
    db = storage.open_db(db_path)  # re-opening does not re-run anything
    assert db.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(
        storage.MIGRATIONS
    )
    db["schema_version"].insert({"version": 999, "applied": "future"})
    db.close()
    with pytest.raises(StorageError, match="newer than this loadmon"):
        storage.open_db(db_path)


def test_unknown_ids_and_names_are_clear_errors(fresh_db: storage.Database) -> None:
    with pytest.raises(NotFoundError, match="no recording with id 42"):
        storage.load_recording(fresh_db, 42)
    with pytest.raises(NotFoundError, match="no patient called 'Bob'"):
        storage.get_patient(fresh_db, "Bob")


def test_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot open database"):
        storage.open_db(junk)
