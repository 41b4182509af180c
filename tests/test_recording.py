"""Recording files: loadmon-csv round trips, Polar Sensor Logger import, and validation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadmon.errors import RecordingFormatError
from loadmon.recording import (
    ACC_DECIMALS,
    GYRO_DECIMALS,
    T_DECIMALS,
    Recording,
    format_loadmon_csv,
    parse_loadmon_csv,
    read_recording,
    write_loadmon_csv,
)


@st.composite
def recordings(draw: st.DrawFn) -> Recording:
    n = draw(st.integers(2, 160))
    rate = draw(st.sampled_from([25.0, 26.0, 52.0, 100.0, 104.0, 208.0, 416.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    steps = np.full(n - 1, 1.0 / rate)
    # packet-loss gaps: a few steps much longer than the period
    # (few enough that the median step is still the sample period)
    for k in rng.choice(n - 1, size=min((n - 1) // 4, draw(st.integers(0, 3))), replace=False):
        steps[k] += rng.uniform(0.05, 2.0)
    t = np.concatenate([[0.0], np.cumsum(steps)]) + draw(st.floats(0, 1000))
    # Specific force of a moving thigh: gravity plus a few g; spikes to the ±16 g range.
    acc = rng.uniform(-2, 2, (n, 3))
    acc[rng.random(n) < 0.05] *= 8.0
    gyro = rng.uniform(-2000, 2000, (n, 3)) if draw(st.booleans()) else None
    extra = draw(
        st.dictionaries(
            st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
                lambda k: k not in {"device", "placement", "sample_rate_hz", "start"}
            ),
            st.from_regex(r"[A-Za-z0-9 ._-]{0,20}", fullmatch=True).map(str.strip),
            max_size=3,
        )
    )
    return Recording(
        t=t,
        acc=acc,
        gyro=gyro,
        sample_rate_hz=rate,
        start=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        device=draw(st.sampled_from(["polar-verity-sense", "movesense", "unknown"])),
        placement=draw(st.sampled_from(["thigh", "anterior thigh", "lateral thigh"])),
        extra=extra,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recordings())
def test_loadmon_csv_write_read_is_lossless_to_printed_precision(rec: Recording) -> None:
    text = format_loadmon_csv(rec)
    back = parse_loadmon_csv(text)
    assert back.n_samples == rec.n_samples
    np.testing.assert_allclose(back.t, rec.t, atol=0.51 * 10**-T_DECIMALS, rtol=0)
    np.testing.assert_allclose(back.acc, rec.acc, atol=0.51 * 10**-ACC_DECIMALS, rtol=0)
    if rec.gyro is None:
        assert back.gyro is None
    else:
        assert back.gyro is not None
        np.testing.assert_allclose(back.gyro, rec.gyro, atol=0.51 * 10**-GYRO_DECIMALS, rtol=0)
    assert back.sample_rate_hz == rec.sample_rate_hz
    assert back.start == rec.start
    assert (back.device, back.placement) == (rec.device, rec.placement)
    assert dict(back.extra) == {k: v for k, v in rec.extra.items()}
    # A second round trip changes nothing: what is printed is exactly what is read.
    assert format_loadmon_csv(back) == text


def test_gaps_in_t_are_kept_and_reported(tmp_path: Path) -> None:
    t = np.concatenate([np.arange(50) / 50.0, 3.0 + np.arange(50) / 50.0])
    acc = np.tile([0.0, 0.0, 1.0], (100, 1))
    rec = Recording(t=t, acc=acc, sample_rate_hz=50.0)
    path = tmp_path / "gap.csv"
    write_loadmon_csv(rec, path)
    back = read_recording(path)
    assert back.gaps() == [(pytest.approx(0.98), pytest.approx(3.0))]


def test_finer_source_precision_survives_a_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "fine.csv"
    src.write_text(
        "# loadmon-csv 1\n# sample_rate_hz: 100\nt,ax,ay,az\n"
        + "".join(f"{k / 100:.4f},-0.53125,0.00012,0.99988\n" for k in range(20))
    )
    rec = read_recording(src)
    out = tmp_path / "out.csv"
    write_loadmon_csv(rec, out)
    assert "-0.53125,0.00012,0.99988" in out.read_text()


def test_header_defaults_and_unknown_keys(tmp_path: Path) -> None:
    src = tmp_path / "min.csv"
    src.write_text(
        "# loadmon-csv 1\n# subject: s07\nt,ax,ay,az\n"
        + "".join(f"{k / 50:.4f},0,0,1\n" for k in range(10))
    )
    rec = read_recording(src)
    assert rec.device == "unknown" and rec.placement == "thigh"
    assert rec.sample_rate_hz == pytest.approx(50.0)
    assert rec.extra == {"subject": "s07"}
    assert not rec.has_gyro


# ---------------------------------------------------------------- Polar Sensor Logger

PSL_ACC = "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]\n"
PSL_GYRO = "Phone timestamp;sensor timestamp [ns];X [dps];Y [dps];Z [dps]\n"


def _psl_files(tmp_path: Path, with_gyro: bool = True) -> Path:
    ns0 = 817_000_000_000_000_000  # ns since 2000-01-01 on the sensor clock
    period = round(1e9 / 52)
    acc_lines, gyro_lines = [PSL_ACC], [PSL_GYRO]
    for k in range(104):
        ns = ns0 + k * period
        phone = f"2026-11-20T09:00:{k / 52:06.3f}"
        acc_lines.append(f"{phone};{ns};{-187 + k};{-28};{949}\n")
        gyro_lines.append(f"{phone};{ns};{1.5};{-2.25};{k * 0.5}\n")
    acc = tmp_path / "Polar_Sense_B36B2E25_20261120_090000_ACC.txt"
    acc.write_text("".join(acc_lines))
    if with_gyro:
        (tmp_path / "Polar_Sense_B36B2E25_20261120_090000_GYRO.txt").write_text("".join(gyro_lines))
    return acc


def test_polar_sensor_logger_acc_and_gyro_import_with_units_and_times(tmp_path: Path) -> None:
    rec = read_recording(_psl_files(tmp_path))
    assert rec.n_samples == 104
    np.testing.assert_allclose(rec.acc[0], [-0.187, -0.028, 0.949])
    np.testing.assert_allclose(rec.acc[10, 0], -0.177)
    assert rec.t[0] == 0.0
    np.testing.assert_allclose(np.diff(rec.t), 1 / 52, atol=1e-6)
    assert rec.sample_rate_hz == pytest.approx(52.0, abs=0.01)
    assert rec.gyro is not None
    np.testing.assert_allclose(rec.gyro[:, 2], np.arange(104) * 0.5, atol=1e-9)
    np.testing.assert_allclose(rec.gyro[:, 1], -2.25)
    assert (rec.start.year, rec.start.month, rec.start.day, rec.start.hour) == (2026, 11, 20, 9)
    assert rec.device == "polar-verity-sense"


def test_polar_sensor_logger_acc_only(tmp_path: Path) -> None:
    rec = read_recording(_psl_files(tmp_path, with_gyro=False))
    assert rec.gyro is None and rec.n_samples == 104


def test_polar_gyro_file_alone_is_refused_with_advice(tmp_path: Path) -> None:
    _psl_files(tmp_path)
    gyro = next(tmp_path.glob("*_GYRO.txt"))
    with pytest.raises(RecordingFormatError, match="import the matching"):
        read_recording(gyro)


# ---------------------------------------------------------------- validation

GOOD_HEAD = "# loadmon-csv 1\n# sample_rate_hz: 50\nt,ax,ay,az\n"


def _rows(n: int = 10, start: int = 0) -> str:
    return "".join(f"{(start + k) / 50:.4f},0.01,0.02,0.99\n" for k in range(n))


INVALID = {
    "empty": ("", "empty"),
    "whitespace only": ("\n\n  \n", "empty"),
    "unknown format": ("hello,world\n1,2\n", "not a recording"),
    "bad version": ("# loadmon-csv 2\nt,ax,ay,az\n0,0,0,1\n", "version 2"),
    "no column line": ("# loadmon-csv 1\n# device: x\n", "no column line"),
    "missing column": ("# loadmon-csv 1\nt,ax,ay\n0,0,0\n", "missing column 'az'"),
    "partial gyro": ("# loadmon-csv 1\nt,ax,ay,az,gx\n0,0,0,1,0\n", "gyro columns"),
    "no rows": (GOOD_HEAD, "no data rows"),
    "ragged row": (GOOD_HEAD + _rows(5) + "0.1000,0,1\n" + _rows(3, 6), ":9: expected 4 values"),
    "non-numeric": (GOOD_HEAD + _rows(3) + "0.0600,abc,0,1\n", ":7: value 'abc'"),
    "time backwards": (GOOD_HEAD + _rows(4) + "0.0200,0,0,1\n", ":8: time goes backwards"),
    "nan": (GOOD_HEAD + _rows(2) + "0.0400,nan,0,1\n" + _rows(2, 3), ":6: NaN"),
    "inf": (GOOD_HEAD + _rows(2) + "0.0400,0,inf,1\n", ":6: NaN or infinite"),
    "rate too low": (
        "# loadmon-csv 1\n# sample_rate_hz: 5\nt,ax,ay,az\n" + _rows(5),
        "outside 10–1000 Hz",
    ),
    "rate too high": (
        "# loadmon-csv 1\nt,ax,ay,az\n" + "".join(f"{k / 5000:.4f},0,0,1\n" for k in range(9)),
        "outside 10–1000 Hz",
    ),
    "m/s2 not g": (
        GOOD_HEAD + "".join(f"{k / 50:.4f},0.1,0.2,9.81\n" for k in range(50)),
        "looks like m/s²",
    ),
    "bad start": (
        "# loadmon-csv 1\n# start: yesterday\nt,ax,ay,az\n" + _rows(5),
        "'start' must be an ISO 8601",
    ),
    "bad rate header": (
        "# loadmon-csv 1\n# sample_rate_hz: fast\nt,ax,ay,az\n" + _rows(5),
        "'sample_rate_hz' must be a number",
    ),
    "one sample": (GOOD_HEAD + _rows(1), "at least 2 samples"),
    "binary": ("# loadmon-csv 1\nt,ax,ay,az\n\xff\xfe", "not a text file"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_recordings_raise_one_clear_line(case: str, tmp_path: Path) -> None:
    text, expected = INVALID[case]
    path = tmp_path / "bad.csv"
    if case == "binary":
        path.write_bytes(text.encode("latin-1"))
    else:
        path.write_text(text)
    with pytest.raises(RecordingFormatError) as exc:
        read_recording(path)
    msg = str(exc.value)
    assert expected in msg
    assert "\n" not in msg
    assert str(path) in msg


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(RecordingFormatError, match="no such file"):
        read_recording(tmp_path / "nope.csv")
    with pytest.raises(RecordingFormatError, match="directory"):
        read_recording(tmp_path)


def test_parquet_round_trip_keeps_samples_and_header(tmp_path: Path) -> None:
    from loadmon.demo import DEMO_DATA
    from loadmon.recording import write_parquet

    rec = read_recording(DEMO_DATA / "bridge_set.csv")
    out = tmp_path / "rec.parquet"
    write_parquet(rec, out)
    back = read_recording(out)
    np.testing.assert_array_equal(back.t, rec.t)
    np.testing.assert_array_equal(back.acc, rec.acc)
    assert back.gyro is not None and rec.gyro is not None
    np.testing.assert_array_equal(back.gyro, rec.gyro)
    assert (back.start, back.device, back.sample_rate_hz) == (rec.start, rec.device, 52.0)
    assert dict(back.extra) == dict(rec.extra)
    import pyarrow.parquet as pq

    assert pq.read_table(out).column_names == ["t", "ax", "ay", "az", "gx", "gy", "gz"]


def test_a_parquet_without_the_columns_is_refused(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"t": [0.0, 0.02], "x": [1.0, 1.0]}), out)
    with pytest.raises(RecordingFormatError, match="missing column"):
        read_recording(out)
