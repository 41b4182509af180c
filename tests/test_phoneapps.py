"""Phone apps as sensors: Sensor Logger zips/folders and phyphox CSVs, written here from the
apps' published export formats, then read back into loadmon's units; cut lines, decimal
commas, and duplicate imports."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from loadmon import storage
from loadmon.cli import cli
from loadmon.demo import DEMO_DATA
from loadmon.errors import RecordingFormatError
from loadmon.recording import STANDARD_GRAVITY, Recording, read_recording

SRC = DEMO_DATA / "bridge_set.csv"
START_NS = 1_795_492_800_000_000_000  # 2026-11-24T04:00:00Z


@pytest.fixture(scope="module")
def source() -> Recording:
    return read_recording(SRC)


def _sl_rows(t: np.ndarray, xyz: np.ndarray) -> str:
    """Sensor Logger's per-sensor CSV: time (ns, UTC epoch), seconds_elapsed, z, y, x."""
    out = ["time,seconds_elapsed,z,y,x\n"]
    ns = START_NS + np.rint(t * 1e9).astype(np.int64)
    for k in range(t.size):
        out.append(f"{ns[k]},{t[k]:.6f},{xyz[k, 2]:.7f},{xyz[k, 1]:.7f},{xyz[k, 0]:.7f}\n")
    return "".join(out)


def _metadata(platform: str) -> str:
    return (
        "version,device name,recording epoch time,recording time,recording timezone,"
        "platform,appVersion,sensors,sampleRateMs\n"
        f"3,Pixel,{START_NS // 1_000_000},2026-11-24_04-00-00,UTC,{platform},1.40.0,"
        '"Accelerometer|Gravity|Gyroscope",20\n'
    )


def _lowpass(a: np.ndarray, n: int = 26) -> np.ndarray:
    k = np.ones(n) / n
    return np.column_stack([np.convolve(a[:, i], k, mode="same") for i in range(3)])


def write_sensor_logger_ios(rec: Recording, out: Path) -> Path:
    """An iOS export zip: Accelerometer.csv is user acceleration (gravity removed), Gravity.csv
    the gravity estimate, both in m/s² with Core Motion's sign (minus specific force)."""
    assert rec.gyro is not None
    total = -np.asarray(rec.acc, dtype=np.float64) * STANDARD_GRAVITY
    gravity = _lowpass(total)
    user = total - gravity
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("Metadata.csv", _metadata("ios"))
        z.writestr("Accelerometer.csv", _sl_rows(rec.t, user))
        z.writestr("Gravity.csv", _sl_rows(rec.t, gravity))
        z.writestr("Gyroscope.csv", _sl_rows(rec.t, np.radians(rec.gyro)))
        z.writestr("Annotation.csv", "time,seconds_elapsed,text\n")
    return out


def write_sensor_logger_android(rec: Recording, folder: Path) -> Path:
    """An Android export folder with TotalAcceleration.csv (gravity included, specific force)."""
    assert rec.gyro is not None
    folder.mkdir()
    (folder / "Metadata.csv").write_text(_metadata("android"))
    (folder / "TotalAcceleration.csv").write_text(
        _sl_rows(rec.t, np.asarray(rec.acc, dtype=np.float64) * STANDARD_GRAVITY)
    )
    (folder / "Gyroscope.csv").write_text(_sl_rows(rec.t, np.radians(rec.gyro)))
    return folder


PHYPHOX_ACC = ('"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)",'
               '"Acceleration z (m/s^2)","Absolute acceleration (m/s^2)"')  # fmt: skip


def write_phyphox(rec: Recording, out: Path, sep: str = ",", cut: bool = False) -> Path:
    """phyphox 'Acceleration with g' CSV: seconds from start, m/s², `%.9E` numbers; the
    semicolon variant uses decimal commas."""
    a = np.asarray(rec.acc, dtype=np.float64) * STANDARD_GRAVITY
    head = PHYPHOX_ACC.replace(",", sep) if sep != "," else PHYPHOX_ACC
    lines = [head]
    for k in range(rec.n_samples):
        vals = [rec.t[k] + 0.0123, a[k, 0], a[k, 1], a[k, 2], float(np.linalg.norm(a[k]))]
        cells = [f"{v:.9E}" for v in vals]
        if sep != ",":
            cells = [c.replace(".", ",") for c in cells]
        lines.append(sep.join(cells))
    text = "\n".join(lines) + "\n"
    if cut:
        text = text[: text.rfind(sep) - 5]  # killed mid-line: no newline, last field cut
    out.write_text(text)
    return out


def test_a_sensor_logger_ios_zip_combines_accelerometer_and_gravity(
    tmp_path: Path, source: Recording
) -> None:
    rec = read_recording(write_sensor_logger_ios(source, tmp_path / "2026-11-24_04-00-00.zip"))
    assert rec.n_samples == source.n_samples
    assert rec.start.isoformat() == "2026-11-24T04:00:00+00:00"
    np.testing.assert_allclose(rec.t, source.t, atol=1e-6)
    np.testing.assert_allclose(rec.acc, source.acc, atol=1e-5)  # g, sign restored
    assert rec.gyro is not None and source.gyro is not None
    np.testing.assert_allclose(rec.gyro, source.gyro, atol=1e-4)  # °/s
    assert rec.extra["acceleration_from"] == "Accelerometer.csv + Gravity.csv"
    assert rec.sample_rate_hz == pytest.approx(52, abs=0.1)


def test_a_sensor_logger_android_folder_reads_total_acceleration(
    tmp_path: Path, source: Recording
) -> None:
    rec = read_recording(write_sensor_logger_android(source, tmp_path / "export"))
    np.testing.assert_allclose(rec.acc, source.acc, atol=1e-5)
    assert rec.extra["acceleration_from"] == "TotalAcceleration.csv"
    assert rec.device == "phone-android"


def test_user_acceleration_without_gravity_is_refused(tmp_path: Path, source: Recording) -> None:
    user = -np.asarray(source.acc, dtype=np.float64) * STANDARD_GRAVITY
    user -= _lowpass(user)
    out = tmp_path / "nograv.zip"
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("Accelerometer.csv", _sl_rows(source.t, user))
    with pytest.raises(RecordingFormatError, match=r"excludes gravity.*Gravity"):
        read_recording(out)


def test_a_phyphox_csv_is_imported_and_counts_the_same_reps(
    tmp_path: Path, source: Recording
) -> None:
    from loadmon.analysis.pipeline import analyze

    rec = read_recording(write_phyphox(source, tmp_path / "Raw Data.csv"))
    np.testing.assert_allclose(rec.acc, source.acc, atol=1e-6)
    np.testing.assert_allclose(rec.t, source.t, atol=1e-6)
    assert rec.gyro is None and rec.extra["imported_from"] == "phyphox"
    assert any("modification time" in n for n in rec.notes)
    want = analyze(source.without_gyro(), exercise="bridge").sets
    got = analyze(rec, exercise="bridge").sets
    assert [s.reps for s in got] == [s.reps for s in want] and sum(s.reps for s in got) > 0


def test_a_phyphox_zip_takes_its_start_from_meta_time(tmp_path: Path, source: Recording) -> None:
    csv_path = write_phyphox(source, tmp_path / "Raw Data.csv")
    out = tmp_path / "Acceleration with g 2026-11-24 05-00-00.zip"
    with zipfile.ZipFile(out, "w") as z:
        z.write(csv_path, "Raw Data.csv")
        z.writestr(
            "meta/time.csv",
            '"event","experiment time","system time","system time text"\n'
            '"START",0.000000000E0,1.795492800000E9,"2026-11-24 04:00:00.000 UTC+00:00"\n',
        )
    rec = read_recording(out)
    # The first sample is 0.0123 s into the experiment.
    assert rec.start.isoformat() == "2026-11-24T04:00:00.012300+00:00"
    assert rec.notes == ()


def test_a_cut_last_line_is_dropped_with_a_warning(tmp_path: Path, source: Recording) -> None:
    f = write_phyphox(source, tmp_path / "cut.csv", sep=";", cut=True)  # decimal commas too
    rec = read_recording(f)
    assert rec.n_samples == source.n_samples - 1
    np.testing.assert_allclose(rec.acc, source.acc[:-1], atol=1e-6)
    cut = [n for n in rec.notes if "cut short" in n]
    assert len(cut) == 1 and f":{source.n_samples + 1}:" in cut[0]
    r = CliRunner().invoke(cli, ["analyze", str(f)])
    assert r.exit_code == 0 and "warning:" in r.stderr and "cut short" in r.stderr


def test_a_bad_line_that_is_not_the_last_is_still_an_error(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(PHYPHOX_ACC + "\n0.0,0.1,0.2,9.8,9.8\n0.02,x,0.2,9.8,9.8\n0.04,0.1,0.2,9.8,9.8\n")
    with pytest.raises(RecordingFormatError, match=r"bad.csv:3: value 'x' in column 2"):
        read_recording(f)


PSL_GYRO = "Phone timestamp;sensor timestamp [ns];X [dps];Y [dps];Z [dps]\n"
PSL_ACC = "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]\n"


def test_polar_sensor_logger_decimal_comma_gyro_and_cut_acc(tmp_path: Path) -> None:
    ns0, period = 817_000_000_000_000_000, round(1e9 / 52)
    acc, gyro = [PSL_ACC], [PSL_GYRO]
    for k in range(200):
        phone = f"2026-11-20T09:00:{k / 52:06.3f}"
        acc.append(f"{phone};{ns0 + k * period};{-187 + k % 7};-28;949\n")
        gyro.append(f"{phone};{ns0 + k * period};1,5;-2,25;{k * 0.5:.1f}\n".replace(".5;", ",5;"))
    a = tmp_path / "Polar_Sense_X_ACC.txt"
    a.write_text("".join(acc) + "2026-11-20T09:00:03.846;81700000")  # killed mid-line
    (tmp_path / "Polar_Sense_X_GYRO.txt").write_text("".join(gyro))
    rec = read_recording(a)
    assert rec.n_samples == 200 and rec.gyro is not None
    np.testing.assert_allclose(rec.gyro[:3, 0], 1.5)
    np.testing.assert_allclose(rec.gyro[:3, 1], -2.25)
    assert any("cut short" in n for n in rec.notes)


def _digest(db_file: Path) -> str:
    db = storage.open_db(db_file)
    dump = "\n".join(db.conn.iterdump())
    db.close()
    return hashlib.sha256(dump.encode()).hexdigest()


def test_the_same_samples_imported_twice_are_refused_and_nothing_changes(
    tmp_path: Path, source: Recording
) -> None:
    db = tmp_path / "dup.db"
    run = CliRunner().invoke
    r = run(cli, ["import", str(SRC), "-p", "Ann", "--create", "--db", str(db)])
    assert r.exit_code == 0, r.output
    before = _digest(db)
    # The same file again, and a copy of it under another name.
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(SRC.read_bytes())
    for again in (SRC, copy):
        r = run(cli, ["import", str(again), "-p", "Ann", "--db", str(db)])
        assert r.exit_code == 2
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "already stored as recording 1" in lines[0], r.stderr
        assert "--allow-duplicate" in lines[0]
        assert _digest(db) == before
    r = run(cli, ["import", str(SRC), "-p", "Ann", "--allow-duplicate", "--db", str(db)])
    assert r.exit_code == 0
    assert "overlaps recording 1" in r.stderr


def test_overlapping_recordings_of_the_same_device_are_reported(
    tmp_path: Path, source: Recording
) -> None:
    import dataclasses
    from datetime import timedelta

    from loadmon import importing

    db = storage.open_db(tmp_path / "o.db")
    importing.import_recording(db, source, patient="Ann", create_patient=True, analyze=False)
    later = dataclasses.replace(
        source, start=source.start + timedelta(seconds=10), acc=source.acc * 1.01
    )
    res = importing.import_recording(db, later, patient="Ann", analyze=False)
    assert len(res.overlaps) == 1 and "overlaps recording 1" in res.overlaps[0]
    far = dataclasses.replace(later, start=source.start + timedelta(hours=2), acc=source.acc * 1.02)
    assert importing.import_recording(db, far, patient="Ann", analyze=False).overlaps == ()
