"""Hostile input: every parser either accepts a file (and stores exactly what it says) or
refuses it with one `LoadmonError` line; nothing else may escape.

`make test` runs a bounded number of examples per parser (deterministic); `make fuzz` sets
LOADMON_FUZZ_EXAMPLES (≥ 2000) and prints hypothesis' statistics per parser.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from loadmon import profiles, storage
from loadmon.bounds import MAX_ACC_G, MAX_GYRO_DPS
from loadmon.cli import cli
from loadmon.errors import DecodeError, LoadmonError
from loadmon.protocols import PROTOCOLS_DIR, read_protocol
from loadmon.recording import Recording, parse_loadmon_csv, read_recording
from loadmon.sensor.decoding import decode, default_settings

FUZZ = int(os.environ.get("LOADMON_FUZZ_EXAMPLES", "0"))
fuzz = settings(
    max_examples=FUZZ or 40,
    deadline=None,
    derandomize=not FUZZ,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# --------------------------------------------------------------------------------------------
# Building blocks: plausible text, then mutated like a careless or malicious user would.

_NUMBERS = st.one_of(
    st.floats(-3, 3, allow_nan=False).map(lambda x: f"{x:.4f}"),
    st.floats(-3, 3, allow_nan=False).map(repr),
    st.integers(-2000, 2000).map(str),
    st.sampled_from(
        ["1e19", "-1e19", "1e300", "-1e308", "1e400", "nan", "inf", "-inf", "NaN", "",
         " ", "abc", "1_000", "0x10", "1,5", "399.9999", "400.0001", "-400", "3999.999",
         "4000.001", "9" * 40, "1e-320", "+1", "- 1", "١٢", "0.123456789012", "1e5"]
    ),
)
_JUNK = st.text(max_size=40) | st.sampled_from(
    ["\x00", "\xff", "[/]", "=cmd|' /C calc'!A0", " " * 3000 + "x", "#" * 500, ";" * 20,
     "\r\n", "\ufeff"]
)  # fmt: skip
_DATES = st.sampled_from(
    ["2026-11-20T09:00:00+00:00", "2026-11-20T09:00:00", "0001-01-01T00:00:00",
     "9999-12-31T23:59:59", "0000-01-01", "2026-02-30T00:00:00", "yesterday", "",
     "2026-11-20T09:00:00.123456+14:00", "1969-12-31T23:59:59+00:00"]
)  # fmt: skip


@st.composite
def _mutated(draw: st.DrawFn, text: str) -> bytes:
    """`text` as bytes with a few random edits: cut, duplicate, insert, flip, truncate."""
    data = bytearray(text.encode("utf-8", "surrogatepass"))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        j = min(len(data), i + draw(st.integers(1, 40)))
        op = draw(st.sampled_from(["cut", "dup", "insert", "flip", "truncate"]))
        if op == "cut":
            del data[i:j]
        elif op == "dup":
            data[i:i] = data[i:j]
        elif op == "insert":
            data[i:i] = draw(_JUNK).encode("utf-8", "surrogatepass")
        elif op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        else:
            del data[i:]
    return bytes(data)


def _one_line(e: LoadmonError) -> None:
    event("refused")
    msg = str(e)
    assert msg and "\n" not in msg and "Traceback" not in msg
    assert e.exit_code in (1, 2)


def _stored_equals(rec: Recording) -> None:
    """Store `rec` in a real SQLite database and check every sample comes back as parsed."""
    db = storage.open_db(":memory:")
    try:
        pid = storage.add_patient(db, "Fuzz")
        rid = storage.save_recording(db, pid, rec)
        back = storage.load_recording(db, rid)
        blocks = list(db.query("SELECT acc_scale, gyro_scale FROM sample_blocks"))
    finally:
        db.close()
    assert back.n_samples == rec.n_samples
    np.testing.assert_allclose(back.t, rec.t, rtol=0, atol=0.5e-4 + 1e-9)
    acc_scale = blocks[0]["acc_scale"]
    assert acc_scale <= rec.acc_resolution + 1e-15
    np.testing.assert_allclose(back.acc, rec.acc, rtol=1e-12, atol=0.5 * acc_scale + 1e-12)
    if rec.gyro is not None:
        assert back.gyro is not None
        g = blocks[0]["gyro_scale"]
        np.testing.assert_allclose(back.gyro, rec.gyro, rtol=1e-12, atol=0.5 * g + 1e-12)


def _decimals(cell: str) -> int | None:
    m = re.fullmatch(r"\s*[-+]?\d*\.(\d+)\s*", cell)
    return len(m.group(1)) if m else (0 if re.fullmatch(r"\s*[-+]?\d+\s*", cell) else None)


def _check_against_text(rec: Recording, cells: list[list[str]], cols: list[int]) -> None:
    """Plain decimal cells of the file: the stored value equals them to their last digit."""
    db = storage.open_db(":memory:")
    try:
        rid = storage.save_recording(db, storage.add_patient(db, "Fuzz"), rec)
        back = storage.load_recording(db, rid)
    finally:
        db.close()
    stored = np.column_stack([back.acc] + ([back.gyro] if back.gyro is not None else []))
    for k, row in enumerate(cells):
        for j, c in enumerate(cols[: stored.shape[1]]):
            d = _decimals(row[c])
            if d is None or d > 9:
                continue
            assert abs(stored[k, j] - float(row[c])) <= 0.5 * 10.0**-d + 1e-9, (k, c, row[c])


# --------------------------------------------------------------------------------------------
# loadmon-csv


@st.composite
def loadmon_csv(draw: st.DrawFn) -> tuple[str, bool]:
    """A loadmon-csv text (and whether its rows are untouched numbers) before mutation."""
    lines = [draw(st.sampled_from(["# loadmon-csv 1"] * 8 + ["# loadmon-csv 2", "# other"]))]
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.sampled_from(["device", "placement", "sample_rate_hz", "start", "x"]))
        value = {
            "start": _DATES,
            "sample_rate_hz": st.sampled_from(["52", "0", "1e9", "nan", "x", "25.0"]),
        }.get(key, _JUNK)
        lines.append(f"# {key}: {draw(value)}")
    gyro = draw(st.booleans())
    lines.append("t,ax,ay,az,gx,gy,gz" if gyro else "t,ax,ay,az")
    ncol = 7 if gyro else 4
    rate = draw(st.sampled_from([25.0, 52.0, 100.0]))
    t = draw(st.floats(0, 1000))
    clean = True
    for _ in range(draw(st.integers(0, 60))):
        t += 1 / rate
        if draw(st.integers(0, 40)) == 0:
            t += draw(st.sampled_from([0.5, 86399.0, 86401.0, 1e12, -5.0]))
        vals = [f"{t:.4f}"] + [f"{draw(st.floats(-2, 2)):.4f}" for _ in range(ncol - 1)]
        if draw(st.integers(0, 20)) == 0:
            vals[draw(st.integers(0, ncol - 1))] = draw(_NUMBERS)
            clean = False
        lines.append(",".join(vals))
    return "\n".join(lines) + "\n", clean


@fuzz
@given(loadmon_csv(), st.data())
def test_fuzz_loadmon_csv(case: tuple[str, bool], data: st.DataObject) -> None:
    text, _ = case
    raw = data.draw(_mutated(text))
    try:
        rec = parse_loadmon_csv(raw, source="fuzz.csv")
    except LoadmonError as e:
        _one_line(e)
        return
    event("accepted")
    assert np.all(np.abs(rec.acc) <= MAX_ACC_G)
    assert rec.gyro is None or np.all(np.abs(rec.gyro) <= MAX_GYRO_DPS)
    _stored_equals(rec)
    body = [ln.split(",") for ln in raw.decode("utf-8", "replace").splitlines()]
    rows = [r for r in body if len(r) in (4, 7) and all(_decimals(c) is not None for c in r)]
    if len(rows) == rec.n_samples:
        _check_against_text(rec, rows, list(range(1, len(rows[0]))))


# --------------------------------------------------------------------------------------------
# Polar Sensor Logger (ACC with an optional GYRO sibling)


@st.composite
def polar_file(draw: st.DrawFn, unit: str) -> str:
    head = f"Phone timestamp;sensor timestamp [ns];X [{unit}];Y [{unit}];Z [{unit}]"
    if draw(st.integers(0, 15)) == 0:
        head = draw(st.sampled_from([head + ";", head.replace(unit, "m/s2"), "Phone timestamp;"]))
    lines = [head]
    ns = draw(st.sampled_from([599_000_000_000_000_000] * 6 + [0, 10**20, -5]))
    phone = draw(st.sampled_from(["2026-11-20T09:00:00.000"] * 12 + ["0000-01-01T00:00:00",
                                  "0001-01-01T00:00:00", "9999-12-31T23:59:59", "x"]))  # fmt: skip
    for _ in range(draw(st.integers(0, 50))):
        ns += 19_230_769
        if draw(st.integers(0, 150)) == 0:
            ns += draw(st.sampled_from([10**13, 10**30, -(10**10)]))
        v = [str(draw(st.integers(-2000, 2000))) for _ in range(3)]
        row = [phone, str(ns), *v]
        if draw(st.integers(0, 100)) == 0:
            row[draw(st.integers(1, 4))] = draw(_NUMBERS)
        if draw(st.integers(0, 200)) == 0:
            row = row[: draw(st.integers(1, 4))]  # a short row
        lines.append(";".join(row))
    return "\n".join(lines) + "\n"


@fuzz
@given(polar_file("mg"), st.one_of(st.none(), polar_file("dps")), st.data())
def test_fuzz_polar_sensor_logger(acc: str, gyro: str | None, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "Polar_Sense_x_ACC.txt"
        path.write_bytes(data.draw(_mutated(acc)))
        if gyro is not None:
            path.with_name("Polar_Sense_x_GYRO.txt").write_bytes(data.draw(_mutated(gyro)))
        try:
            rec = read_recording(path)
        except LoadmonError as e:
            _one_line(e)
            return
    event("accepted")
    assert np.all(np.abs(rec.acc) <= MAX_ACC_G)
    _stored_equals(rec)


# --------------------------------------------------------------------------------------------
# Protocol and profile TOML: a shipped file with numbers swapped, lines cut, arrays nested.

_TOML_VALUES = st.sampled_from(
    ["nan", "inf", "-inf", "-1", "0", "1e308", "1000000000", "9" * 5000, "1.3", "7", "366",
     "367", "0.5", '"7"', "true", "[]", "{}", "[1, 2]", "[[[[[[[[[[1]]]]]]]]]]"]
)  # fmt: skip
_NUM_RE = re.compile(r"(?m)^(\s*[a-z_]+\s*=\s*)(-?[0-9][0-9_.e+-]*)")


@st.composite
def toml_mutation(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["number", "number", "number", "cut", "nest", "dup"]))
        i = draw(st.integers(0, len(lines) - 1))
        if op == "number":
            nums = [k for k, ln in enumerate(lines) if _NUM_RE.match(ln)]
            k = draw(st.sampled_from(nums))
            lines[k] = _NUM_RE.sub(lambda m: m.group(1) + draw(_TOML_VALUES), lines[k], count=1)
        elif op == "cut":
            del lines[i]
        elif op == "nest":
            n = draw(st.sampled_from([9, 50, 3000]))
            lines.insert(i, "zz = " + "[" * n + "]" * n)
        else:
            lines.insert(i, lines[i])
    return "\n".join(lines) + "\n"


_PROTOCOL_TEXTS = [p.read_text() for p in sorted(PROTOCOLS_DIR.glob("*.toml"))]
_PROFILE_PATHS = sorted(profiles.devices_dir().glob("*.toml"))


@fuzz
@given(st.sampled_from(_PROTOCOL_TEXTS).flatmap(toml_mutation))
def test_fuzz_protocol_toml(text: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "fuzzed.toml"
        path.write_text(text)
        try:
            proto = read_protocol(path)
        except LoadmonError as e:
            _one_line(e)
            return
    event("accepted")
    a = proto.acwr
    # every window a rule allocates is at most a year; every ratio is finite
    assert max(a.acute_days, a.chronic_days, a.low_for_days, proto.too_little.max_days_without,
               proto.post_injection.window_days, proto.milestones.pain_window_days) <= 366
    assert all(math.isfinite(x) for x in (a.caution_above, a.alarm_above, a.low_below))


@fuzz
@given(st.sampled_from(_PROFILE_PATHS), st.data(), st.binary(max_size=64))
def test_fuzz_profile_toml_then_decode(path: Path, data: st.DataObject, payload: bytes) -> None:
    text = data.draw(toml_mutation(path.read_text()))
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / path.name
        p.write_text(text)
        try:
            prof = profiles.read_profile(p)
        except LoadmonError as e:
            _one_line(e)
            return
    event("profile accepted")
    try:
        block = decode(prof, payload, 0.0, default_settings(prof))
    except DecodeError as e:
        _one_line(e)
        return
    for arr in (None if block is None else block.acc, None if block is None else block.gyro):
        assert arr is None or np.isfinite(arr).all()


# --------------------------------------------------------------------------------------------
# The CLI's own inputs: `devices decode`, numbers, dates and ids


_HEX = st.one_of(
    st.binary(max_size=40).map(bytes.hex),
    st.binary(min_size=2, max_size=40).map(lambda b: bytes([b[0] % 8, *b[1:]]).hex()),
    st.binary(min_size=20, max_size=20).map(lambda b: "5561" + b[2:].hex()),
    st.binary(min_size=18, max_size=18).map(bytes.hex),
    st.tuples(st.sampled_from(["02", "05"]), st.binary(min_size=8, max_size=8),
              st.sampled_from(["00", "01", "80"]), st.binary(min_size=6, max_size=60))
    .map(lambda p: p[0] + p[1].hex() + p[2] + p[3].hex()),
    st.sampled_from(["zz", "0", "02 00", "", "0x02", "0" * 5000]),
)
_CLI_NUM = st.sampled_from(
    ["nan", "inf", "-1", "0", "1e308", "99999999999999999999", "1.5", "x", "", "7", "1e-300",
     "1", "2", "3", "1.0"]
)


@fuzz
@given(
    st.sampled_from([p.stem for p in _PROFILE_PATHS] + ["nope"]),
    _HEX,
    st.one_of(st.none(), st.none(), st.none(), _CLI_NUM),
    st.one_of(st.none(), st.none(), st.none(), _CLI_NUM),
)
def test_fuzz_devices_decode(prof: str, hexs: str, factor: str | None, rng: str | None) -> None:
    args = ["devices", "decode", prof, hexs]
    args += ["--factor", factor] if factor is not None else []
    args += ["--range", rng] if rng is not None else []
    res = CliRunner().invoke(cli, args)
    event(f"exit {res.exit_code}")
    assert res.exit_code in (0, 2), res.output
    assert "internal error" not in res.output and "Traceback" not in res.output
    if res.exit_code == 0:
        json.loads(res.stdout, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    else:
        assert len(res.output.strip().splitlines()) == 1, res.output


_CLI_DATE = st.one_of(
    st.dates(date(2026, 10, 1), date(2027, 3, 1)).map(str),
    st.dates(date(2026, 10, 1), date(2027, 3, 1)).map(str),
    st.dates().map(str),
    st.sampled_from(["9999-12-31", "0001-01-01", "5175-12-18", "2026-02-30", "x", "", "-1"]),
)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from loadmon.patients import add_patient, log_pain

    path = tmp_path_factory.mktemp("fuzzdb") / "db.sqlite"
    db = storage.open_db(path)
    add_patient(db, "Ann", "proximal-hamstring-tendinopathy", start="2026-11-01")
    log_pain(db, "Ann", during=3, on="2026-11-05")
    t = np.arange(100) / 50
    rec = Recording(t=t, acc=np.tile([0.0, 0.0, 1.0], (100, 1)), sample_rate_hz=50.0)
    storage.save_recording(db, int(storage.get_patient(db, "Ann")["id"]), rec)
    db.close()
    return path


@fuzz
@given(
    st.sampled_from(["status", "export", "report", "export-recording", "phase", "log-pain"]),
    _CLI_DATE,
    _CLI_DATE,
    _CLI_NUM,
)
def test_fuzz_cli_numbers_dates_and_ids(
    demo_db: Path, cmd: str, d1: str, d2: str, num: str
) -> None:
    with tempfile.TemporaryDirectory() as out:
        args = {
            "status": ["status", "Ann", "--date", d1],
            "export": ["export", "Ann", "--from", d1, "--to", d2, "--out", out],
            "report": ["report", "Ann", "--from", d1, "--to", d2, "--out", f"{out}/r.html"],
            "export-recording": ["export-recording", num, "--out", f"{out}/x.csv"],
            "phase": ["phase", "set", "Ann", num, "--date", d1],
            "log-pain": ["log", "pain", "Ann", "--during", num, "--date", d1],
        }[cmd]
        res = CliRunner().invoke(cli, [*args, "--db", str(demo_db)])
    event(f"{cmd} exit {res.exit_code}")
    assert res.exit_code in (0, 2), res.output
    assert "internal error" not in res.output and "Traceback" not in res.output
    if res.exit_code == 2:
        assert len(res.output.strip().splitlines()) == 1, res.output
