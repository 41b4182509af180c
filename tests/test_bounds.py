"""Physical bounds: values just inside are stored exactly as the file says, just outside refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loadmon import storage
from loadmon.bounds import MAX_ACC_G, MAX_GYRO_DPS, MAX_STEP_S, check_quantisable
from loadmon.errors import RecordingFormatError, StorageError
from loadmon.importing import import_recording
from loadmon.recording import read_recording


def _csv(rows: list[str], gyro: bool = True) -> str:
    cols = "t,ax,ay,az,gx,gy,gz" if gyro else "t,ax,ay,az"
    return "# loadmon-csv 1\n# sample_rate_hz: 50\n" + cols + "\n" + "".join(r + "\n" for r in rows)


def _rows(n: int, special: dict[int, str] | None = None) -> list[str]:
    rows = [f"{k / 50:.4f},0.0100,-0.0200,0.9900,0.500,-0.250,0.125" for k in range(n)]
    for k, row in (special or {}).items():
        rows[k] = row
    return rows


def _file_values(text: str) -> np.ndarray:
    body = [ln for ln in text.splitlines() if ln and ln[0].isdigit()]
    return np.array([[float(x) for x in ln.split(",")] for ln in body])


def _store_and_reload(path: Path, db_path: Path) -> np.ndarray:
    rec = read_recording(path)
    db = storage.open_db(db_path)
    try:
        rid = import_recording(db, rec, patient="Ann", create_patient=True, analyze=False)
        back = storage.load_recording(db, rid.recording_id)
    finally:
        db.close()
    assert back.gyro is not None
    return np.column_stack([back.t, back.acc, back.gyro])


@pytest.mark.parametrize(
    "row",
    [
        "0.1000,399.9999,-399.9999,400.0000,3999.999,-4000.000,0.001",
        "0.1000,-400.0000,0.0001,-0.0001,-3999.999,4000.000,-0.001",
        "0.1000,123.456789012,-0.000000001,1.5,1234.56789,-0.000001,2.0",
    ],
)
def test_values_just_inside_the_bounds_are_stored_as_the_file_says(
    row: str, tmp_path: Path
) -> None:
    text = _csv(_rows(30, {5: row.replace("0.1000", f"{5 / 50:.4f}", 1)}))
    path = tmp_path / "inside.csv"
    path.write_text(text)
    stored = _store_and_reload(path, tmp_path / "db.sqlite")
    want = _file_values(text)
    assert stored.shape == want.shape
    # t is kept to 0.1 ms; every other value to the last decimal the file printed.
    np.testing.assert_allclose(stored[:, 0], want[:, 0], rtol=0, atol=0.5e-4)
    for c, cell in enumerate(row.split(",")[1:], start=1):
        decimals = len(cell.split(".")[1])
        assert abs(stored[5, c] - want[5, c]) <= 0.5 * 10.0**-decimals, (c, cell)
    # every sample of every column, to that column's printed precision (a reader may hand
    # over float32 where float32 returns each printed step exactly)
    body = [ln.split(",") for ln in text.splitlines() if ln[:1].isdigit() or ln[:1] == "-"]
    for c in range(1, want.shape[1]):
        decimals = max(len(r[c].split(".")[1]) if "." in r[c] else 0 for r in body)
        np.testing.assert_array_equal(
            np.round(stored[:, c], decimals), np.round(want[:, c], decimals), err_msg=str(c)
        )


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("0.1000,400.0001,0,1,0,0,0", "ax"),
        ("0.1000,0,-400.0001,1,0,0,0", "ay"),
        ("0.1000,0,0,1e19,0,0,0", "az"),
        ("0.1000,0,0,1,4000.001,0,0", "gx"),
        ("0.1000,0,0,1,0,-4000.001,0", "gy"),
        ("0.1000,0,0,1,0,0,1e300", "gz"),
    ],
)
def test_values_just_outside_the_bounds_are_refused_naming_line_and_column(
    row: str, column: str, tmp_path: Path
) -> None:
    path = tmp_path / "outside.csv"
    path.write_text(_csv(_rows(30, {5: row})))
    db_path = tmp_path / "db.sqlite"
    with pytest.raises(RecordingFormatError) as e:
        read_recording(path)
    msg = str(e.value)
    assert f"{path}:9: column {column}:" in msg and "\n" not in msg
    # nothing was stored: the database was never created by a refused import
    assert not db_path.exists()


def test_a_time_jump_longer_than_a_day_is_refused(tmp_path: Path) -> None:
    rows = _rows(30)
    def shifted(by: float) -> list[str]:
        later = [f"{float(r.split(',')[0]) + by:.4f}," + r.split(",", 1)[1] for r in rows[10:]]
        return [*rows[:10], *later]

    inside = shifted(MAX_STEP_S - 1 / 50)  # a step of exactly one day
    path = tmp_path / "day.csv"
    path.write_text(_csv(inside))
    assert read_recording(path).t[10] == pytest.approx(10 / 50 + MAX_STEP_S - 1 / 50)
    path.write_text(_csv(shifted(MAX_STEP_S)))
    with pytest.raises(RecordingFormatError, match=r"day\.csv:14: column t: jumps 86400\.02 s"):
        read_recording(path)


def test_polar_values_just_inside_and_outside_the_bounds(tmp_path: Path) -> None:
    head = "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]\n"
    rows = [
        f"2026-11-20T09:00:00.{k:03d};{599_000_000_000_000_000 + k * 19_230_769};10;-20;990"
        for k in range(30)
    ]
    rows[4] = rows[4].rsplit(";", 3)[0] + f";{MAX_ACC_G * 1000:.0f};-399999;1"
    path = tmp_path / "x_ACC.txt"
    path.write_text(head + "\n".join(rows) + "\n")
    db_path = tmp_path / "db.sqlite"
    rec = read_recording(path)
    db = storage.open_db(db_path)
    rid = import_recording(db, rec, patient="Ann", create_patient=True, analyze=False)
    back = storage.load_recording(db, rid.recording_id)
    db.close()
    # to the file's precision: whole mg, i.e. 3 decimals of g
    assert np.round(back.acc[4].astype(np.float64), 3).tolist() == [400.0, -399.999, 0.001]
    rows[4] = rows[4].rsplit(";", 3)[0] + ";400001;0;1"
    path.write_text(head + "\n".join(rows) + "\n")
    with pytest.raises(RecordingFormatError, match=r"x_ACC\.txt:6: column X \[mg\]: 400\.001 g"):
        read_recording(path)
    gyro = path.with_name("x_GYRO.txt")
    ghead = head.replace("[mg]", "[dps]")
    grows = [r.rsplit(";", 3)[0] + ";1;2;3" for r in rows]
    grows[7] = grows[7].rsplit(";", 3)[0] + f";{MAX_GYRO_DPS + 0.01};0;0"
    rows[4] = rows[4].rsplit(";", 3)[0] + ";0;0;1000"
    path.write_text(head + "\n".join(rows) + "\n")
    gyro.write_text(ghead + "\n".join(grows) + "\n")
    with pytest.raises(RecordingFormatError, match=r"x_GYRO\.txt:9: column X \[dps\]"):
        read_recording(path)


def test_the_quantiser_refuses_what_it_cannot_represent_instead_of_wrapping() -> None:
    check_quantisable(np.array([399.9999, -400.0]), 1e-9)
    with pytest.raises(StorageError, match="cannot store the value 1e\\+19"):
        storage.encode_channels(np.array([[0.0, 1e19, 0.0]]), 1e-4)
    with pytest.raises(StorageError):
        storage.encode_channels(np.array([np.nan]), 1e-4)


def test_a_late_row_with_more_decimals_is_stored_to_its_own_precision(tmp_path: Path) -> None:
    rows = _rows(300, {250: f"{250 / 50:.4f},0.1234567,-0.0200,0.9900,0.5004321,-0.250,0.125"})
    path = tmp_path / "late.csv"
    path.write_text(_csv(rows))
    stored = _store_and_reload(path, tmp_path / "db.sqlite")
    assert abs(stored[250, 1] - 0.1234567) <= 0.5e-7
    assert abs(stored[250, 4] - 0.5004321) <= 0.5e-7
