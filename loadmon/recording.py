"""Provides the Recording type, loadmon-csv v1 read/write and the Polar Sensor Logger importer.

Every reader validates what it reads and raises `RecordingFormatError` with the file and the
line at fault, so a bad file never reaches the detectors or the database.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loadmon.bounds import check_samples, check_start
from loadmon.errors import RecordingFormatError

log = logging.getLogger(__name__)

#: Typed float64; a file reader may hand over float32 channels where the source's printed
#: resolution allows (see `_column_kind`): every consumer works in float32 or float64.
FloatArray = NDArray[np.float64]

LOADMON_CSV_MAGIC = "loadmon-csv"
LOADMON_CSV_VERSION = "1"
MIN_RATE_HZ = 10.0
MAX_RATE_HZ = 1000.0
#: A gap is a step in `t` longer than this many nominal sample periods.
GAP_FACTOR = 1.5
#: Printed precision of loadmon-csv (decimals): t, acceleration (g), angular rate (°/s).
T_DECIMALS = 4
ACC_DECIMALS = 4
GYRO_DECIMALS = 3
STANDARD_GRAVITY = 9.80665
POLAR_EPOCH_UNIX_NS = 946_684_800_000_000_000
#: Largest recording file read (bytes); a week at 52 Hz is well below. Split longer ones.
MAX_FILE_BYTES = 2**30
#: Largest header (everything before the column line), in bytes.
MAX_HEADER_BYTES = 65536


@dataclass(frozen=True, eq=False)
class Recording:
    """A thigh IMU recording: time axis (s from `start`), specific force in g, optional °/s."""

    t: FloatArray
    acc: FloatArray
    gyro: FloatArray | None = None
    sample_rate_hz: float = 52.0
    start: datetime = field(default_factory=lambda: datetime(1970, 1, 1, tzinfo=UTC))
    device: str = "unknown"
    placement: str = "thigh"
    extra: Mapping[str, str] = field(default_factory=dict)
    source: str | None = None
    #: Quantisation step of the source (g and °/s); storage and export keep at least this.
    acc_resolution: float = 10.0**-ACC_DECIMALS
    gyro_resolution: float = 10.0**-GYRO_DECIMALS
    #: What the reader noticed and worked around (e.g. a cut last line dropped); shown as
    #: warnings, never stored.
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = self.t.shape[0]
        if self.t.ndim != 1 or self.acc.shape != (n, 3):
            raise ValueError(f"t must be (n,) and acc (n, 3); got {self.t.shape}, {self.acc.shape}")
        if self.gyro is not None and self.gyro.shape != (n, 3):
            raise ValueError(f"gyro must be (n, 3); got {self.gyro.shape}")

    @property
    def n_samples(self) -> int:
        return int(self.t.shape[0])

    @property
    def has_gyro(self) -> bool:
        return self.gyro is not None

    @property
    def duration_s(self) -> float:
        if self.n_samples == 0:
            return 0.0
        return float(self.t[-1] - self.t[0]) + 1.0 / self.sample_rate_hz

    def gaps(self) -> list[tuple[float, float]]:
        """Spans of `t` where samples are missing (packet loss), as (last before, first after)."""
        return find_gaps(self.t, self.sample_rate_hz)

    def slice_time(self, start_s: float, end_s: float) -> Recording:
        """The samples with start_s <= t < end_s (same metadata)."""
        i, j = np.searchsorted(self.t, [start_s, end_s])
        return replace(
            self,
            t=self.t[i:j],
            acc=self.acc[i:j],
            gyro=None if self.gyro is None else self.gyro[i:j],
        )

    def without_gyro(self) -> Recording:
        return replace(self, gyro=None)


def find_gaps(t: FloatArray, sample_rate_hz: float) -> list[tuple[float, float]]:
    """Steps in `t` longer than GAP_FACTOR sample periods: (time before, time after)."""
    if t.size < 2:
        return []
    dt = np.diff(t)
    idx = np.flatnonzero(dt > GAP_FACTOR / sample_rate_hz)
    return [(float(t[i]), float(t[i + 1])) for i in idx]


def estimate_rate(t: FloatArray) -> float:
    """Nominal sample rate from the median step (robust to gaps)."""
    if t.size < 2:
        return float("nan")
    step = float(np.median(np.diff(t)))
    return 1.0 / step if step > 0 else float("nan")


# --------------------------------------------------------------------------------------------
# Reading


def read_recording(path: str | os.PathLike[str], *, zone: tzinfo | None = None) -> Recording:
    """Read any supported recording file (or phone-app folder/zip), detecting the format from
    its content.

    `zone` is the zone of phone apps' local wall-clock times that state none (Polar Sensor
    Logger): the patient's (`loadmon.days.Calendar.tz`); default UTC."""
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        return read_parquet(p)
    if p.is_dir() or p.suffix.lower() == ".zip":
        from loadmon.phoneapps import read_phone_export

        return read_phone_export(p, zone=zone)
    head = _read_head(p)
    first = head.lstrip()[:200].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    first = first.lstrip("\ufeff")
    if first.startswith("#") and LOADMON_CSV_MAGIC in first:
        log.info("reading %s as loadmon-csv", p)
        return parse_loadmon_csv(p, source=str(p))
    if first.startswith("Phone timestamp;"):
        log.info("reading %s as a Polar Sensor Logger export (phone times in %s)", p, zone or UTC)
        return read_polar_sensor_logger(p, zone=zone)
    from loadmon.phoneapps import detect_csv, read_phone_csv

    kind = detect_csv(first)
    if kind is not None:
        log.info("reading %s as a %s CSV", p, kind)
        return read_phone_csv(p, _read_bytes(p), kind)
    raise RecordingFormatError(
        f"{p}:1: not a recording loadmon knows (expected '# loadmon-csv 1', a Polar Sensor "
        "Logger 'Phone timestamp;...' header, a phyphox CSV export, or a Sensor Logger "
        "zip or folder)"
    )


def _read_head(p: Path, n: int = 4096) -> bytes:
    """The first bytes of a file (enough to tell its format), or a one-line error."""
    _check_readable(p)
    try:
        with open(p, "rb") as f:
            head = f.read(n)
    except OSError as e:
        raise RecordingFormatError(f"{p}: cannot read ({e.strerror})") from None
    nul = head.find(b"\0")
    if nul >= 0:
        raise RecordingFormatError(f"{p}: not a text file (byte {nul} is NUL)")
    if not head.strip() and not _read_bytes(p).strip():
        raise RecordingFormatError(f"{p}: the file is empty")
    return head


def _check_readable(p: Path) -> None:
    if not p.exists():
        raise RecordingFormatError(f"{p}: no such file")
    if p.is_dir():
        raise RecordingFormatError(f"{p}: is a directory, not a recording file")
    if p.is_file() and p.stat().st_size == 0:  # a device or pipe reports 0: read it
        raise RecordingFormatError(f"{p}: the file is empty")


def _read_bytes(p: Path) -> bytes:
    try:
        data = _read_capped(p)
    except FileNotFoundError:
        raise RecordingFormatError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise RecordingFormatError(f"{p}: is a directory, not a recording file") from None
    except OSError as e:
        raise RecordingFormatError(f"{p}: cannot read ({e.strerror})") from None
    if not data.strip():
        raise RecordingFormatError(f"{p}: the file is empty")
    return data


def _read_capped(p: Path) -> bytes:
    """The file's bytes, refusing early what cannot be a recording (NUL bytes, > the cap).

    Reads in chunks so a device such as /dev/zero or an endless pipe is refused after its
    first chunk instead of filling memory.
    """
    chunks: list[bytes] = []
    total = 0
    with open(p, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            if b"\0" in chunk:
                k = total + chunk.index(b"\0")
                raise RecordingFormatError(f"{p}: not a text file (byte {k} is NUL)")
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                raise RecordingFormatError(
                    f"{p}: larger than {MAX_FILE_BYTES >> 20} MiB; split the recording"
                )
            chunks.append(chunk)
    return b"".join(chunks)


def _decode(data: bytes, p: Path | str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RecordingFormatError(f"{p}: not a text file (byte {e.start} is not UTF-8)") from None


def _read_text(p: Path) -> str:
    return _decode(_read_bytes(p), p)


#: Linear-time: the value is stripped in code (a lazy `(.*?)\s*$` backtracks quadratically).
_HEADER_RE = re.compile(r"^#\s*([A-Za-z0-9_.\-]+)\s*:(.*)$")


def parse_loadmon_csv(data: bytes | str | Path, source: str = "<string>") -> Recording:
    """Parse loadmon-csv v1 (see DESIGN.md); unknown header keys are kept in `extra`.

    The header is read as text; the numeric body is parsed by pyarrow straight from the bytes
    (float32 where the printed resolution allows), and only on failure scanned line by line
    to name the first bad line.
    """
    body: bytes | Path = data.encode("utf-8") if isinstance(data, str) else data
    if isinstance(body, Path):
        with open(body, "rb") as f:
            raw = f.read(1 << 20)
    else:
        raw = body[: 1 << 20]
    pos = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    header: dict[str, str] = {}
    line_no = 0
    col_line: str | None = None
    while pos < len(raw):
        nl = raw.find(b"\n", pos)
        end = len(raw) if nl < 0 else nl
        if end > MAX_HEADER_BYTES:  # the header and column line, checked before decoding
            raise RecordingFormatError(
                f"{source}:{line_no + 1}: header longer than {MAX_HEADER_BYTES // 1024} KiB "
                "(expected a few '# key: value' lines)"
            )
        line = _decode(raw[pos:end], source).rstrip("\r")
        line_no += 1
        pos = end + 1
        if line_no == 1:
            magic = line.lstrip("# ").split()
            if len(magic) < 2 or magic[0] != LOADMON_CSV_MAGIC:
                raise RecordingFormatError(f"{source}:1: expected '# loadmon-csv 1'")
            if magic[1] != LOADMON_CSV_VERSION:
                raise RecordingFormatError(
                    f"{source}:1: loadmon-csv version {magic[1]} is not supported (only version 1)"
                )
            continue
        if line.startswith("#") or not line.strip():
            m = _HEADER_RE.match(line)
            if m:
                header[m.group(1).lower()] = m.group(2).strip()
            continue
        col_line = line
        break
    if col_line is None:
        raise RecordingFormatError(f"{source}: no column line (expected 't,ax,ay,az[,gx,gy,gz]')")
    col_line_no = line_no
    cols = [c.strip().lower() for c in col_line.split(",")]
    for need in ("t", "ax", "ay", "az"):
        if need not in cols:
            raise RecordingFormatError(
                f"{source}:{col_line_no}: missing column '{need}' "
                f"(found {','.join(cols)}; expected t,ax,ay,az[,gx,gy,gz])"
            )
    gyro_cols = [c for c in ("gx", "gy", "gz") if c in cols]
    if gyro_cols and len(gyro_cols) != 3:
        missing = sorted({"gx", "gy", "gz"} - set(gyro_cols))
        raise RecordingFormatError(
            f"{source}:{col_line_no}: gyro columns must be all of gx,gy,gz or none "
            f"(missing {','.join(missing)})"
        )
    if len(set(cols)) != len(cols):
        raise RecordingFormatError(f"{source}:{col_line_no}: a column name is repeated")
    probe_text = _decode(raw[pos : pos + 20000], source) if pos < len(raw) else ""
    probe = probe_text.splitlines()[:-1] or [probe_text]
    idx = {c: k for k, c in enumerate(cols)}
    acc_dec = _printed_decimals(probe, 0, [idx["ax"], idx["ay"], idx["az"]])
    gyro_dec = _printed_decimals(probe, 0, [idx["gx"], idx["gy"], idx["gz"]]) if gyro_cols else 0
    kinds = [_column_kind(c, acc_dec, gyro_dec) for c in cols]
    stacks = {"acc": ("ax", "ay", "az")}
    if gyro_cols:
        stacks["gyro"] = ("gx", "gy", "gz")
    from loadmon.csvtable import read_columns  # pyarrow: only when a file is parsed

    parsed = read_columns(
        body, pos, cols, kinds, sep=",", source=source, first_line_no=col_line_no + 1,
        stacks=stacks,
    )
    v = parsed.values
    t = np.ascontiguousarray(v["t"], dtype=np.float64)
    acc: FloatArray = v["acc"]  # type: ignore[assignment]  # float32 or float64
    gyro: FloatArray | None = v["gyro"] if gyro_cols else None  # type: ignore[assignment]
    rate = _header_rate(header, t, source)
    start = _header_start(header, source)
    rec = Recording(
        t=t,
        acc=acc,
        gyro=gyro,
        sample_rate_hz=rate,
        start=start,
        device=header.get("device", "unknown") or "unknown",
        placement=header.get("placement", "thigh") or "thigh",
        extra={k: v for k, v in header.items() if k not in _KNOWN_KEYS},
        source=source,
        acc_resolution=10.0 ** -max(acc_dec, ACC_DECIMALS),
        gyro_resolution=10.0 ** -max(gyro_dec, GYRO_DECIMALS),
        notes=parsed.notes,
    )
    _validate(rec, col_line_no, source, units_hint="g")
    return rec


#: Most printed decimals for which float32 is lossless enough: at the sensors' full range
#: (16 g, 2000 °/s) float32's half-ulp stays under 1 % of the printed step (16 g at 1e-4 g:
#: 0.95 %; 2000 °/s at 1e-2 °/s: 0.6 %, but at 1e-3 °/s 6 %, so 3-decimal gyro stays float64).
F32_MAX_ACC_DECIMALS = 4
F32_MAX_GYRO_DECIMALS = 2


def _column_kind(col: str, acc_dec: int, gyro_dec: int) -> str:
    """pyarrow type of a column: t always float64 (a day at 0.1 ms needs 9 digits); the
    channels float32 when their printed resolution allows, else float64."""
    if col in ("ax", "ay", "az"):
        return "f32" if acc_dec <= F32_MAX_ACC_DECIMALS else "f64"
    if col in ("gx", "gy", "gz"):
        return "f32" if gyro_dec <= F32_MAX_GYRO_DECIMALS else "f64"
    return "f64"


_KNOWN_KEYS = {"device", "placement", "sample_rate_hz", "start"}


def _printed_decimals(lines: list[str], start: int, cols: list[int], probe: int = 200) -> int:
    """Most digits after the point among the first rows' values in `cols` (capped at 9)."""
    best = 0
    for ln in lines[start : start + probe]:
        parts = ln.split(",")
        for c in cols:
            if c < len(parts) and "." in parts[c]:
                frac = parts[c].split(".", 1)[1].strip()
                digits = len(frac.split("e")[0].split("E")[0])
                best = max(best, digits)
    return min(best, 9)


def _header_rate(header: Mapping[str, str], t: FloatArray, source: str) -> float:
    if "sample_rate_hz" in header:
        try:
            rate = float(header["sample_rate_hz"])
        except ValueError:
            raise RecordingFormatError(
                f"{source}: header 'sample_rate_hz' must be a number, "
                f"got {header['sample_rate_hz']!r}"
            ) from None
    else:
        rate = estimate_rate(t)
    if not (MIN_RATE_HZ <= rate <= MAX_RATE_HZ) or math.isnan(rate):
        raise RecordingFormatError(
            f"{source}: sample rate {rate:.1f} Hz is outside {MIN_RATE_HZ:.0f}–{MAX_RATE_HZ:.0f} Hz"
        )
    return rate


def _header_start(header: Mapping[str, str], source: str) -> datetime:
    raw = header.get("start")
    if not raw:
        return datetime(1970, 1, 1, tzinfo=UTC)
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        raise RecordingFormatError(
            f"{source}: header 'start' must be an ISO 8601 time like "
            f"2026-11-20T09:00:00+00:00, got {raw!r}"
        ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _validate(rec: Recording, first_data_line: int, source: str, units_hint: str) -> None:
    arrays = [rec.t[:, None], rec.acc] + ([rec.gyro] if rec.gyro is not None else [])
    for a in arrays:
        bad = ~np.isfinite(a).all(axis=1)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise RecordingFormatError(f"{source}:{first_data_line + k + 1}: NaN or infinite value")
    check_samples(rec.t, rec.acc, rec.gyro, where=lambda k: f"{source}:{first_data_line + k + 1}")
    check_start(rec.start, source)
    if rec.n_samples < 2:
        raise RecordingFormatError(f"{source}: needs at least 2 samples, found {rec.n_samples}")
    dt = np.diff(rec.t)
    back = np.flatnonzero(dt <= 0)
    if back.size:
        k = int(back[0]) + 1
        raise RecordingFormatError(
            f"{source}:{first_data_line + k + 1}: time goes backwards or repeats "
            f"({rec.t[k - 1]:.4f} then {rec.t[k]:.4f})"
        )
    observed = estimate_rate(rec.t)
    if not (MIN_RATE_HZ <= observed <= MAX_RATE_HZ):
        raise RecordingFormatError(
            f"{source}: sample rate {observed:.1f} Hz (from t) is outside "
            f"{MIN_RATE_HZ:.0f}–{MAX_RATE_HZ:.0f} Hz"
        )
    # A thigh's specific force has a median magnitude near 1 g over any real stretch of
    # time; 4–20 is 1 g written in m/s² (too few samples to judge: skip).
    norm = float(np.median(np.linalg.norm(rec.acc, axis=1)))
    if rec.n_samples >= 20 and 4.0 < norm < 20.0:
        hint = (
            f"divide ax, ay, az by {STANDARD_GRAVITY}"
            if units_hint == "g"
            else "export acceleration in mg"
        )
        raise RecordingFormatError(
            f"{source}: acceleration looks like m/s², not g (median magnitude {norm:.2f}); {hint}"
        )


# --------------------------------------------------------------------------------------------
# Polar Sensor Logger


_PSL_ACC_UNITS = {"[mg]": 1e-3, "[g]": 1.0}
_PSL_GYRO_UNITS = {"[dps]": 1.0, "[deg/s]": 1.0}


def read_polar_sensor_logger(
    path: Path, text: str | None = None, *, zone: tzinfo | None = None
) -> Recording:
    """Read a Polar Sensor Logger `*_ACC.txt` export and, if present, its `*_GYRO.txt` sibling.

    Supported columns: `Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]` (ACC) and
    `...;X [dps];Y [dps];Z [dps]` (GYRO). Times come from the sensor clock; the phone time of
    the first sample gives `start`. The app writes the phone's local wall-clock time with no
    offset: it is read in `zone` (the patient's; default UTC). Decimal commas are read; a
    last line cut short (the app was killed) is dropped with a note.
    """
    source = str(path)
    text = _read_text(path) if text is None else text
    lines = text.splitlines()
    cols = [c.strip() for c in lines[0].split(";")]
    kind, scale = _psl_kind(cols, source)
    if kind == "gyro":
        raise RecordingFormatError(
            f"{source}:1: this is a GYRO file; import the matching *_ACC.txt "
            "(its GYRO sibling is read with it)"
        )
    ns, acc, phone0, notes = _psl_body(text, source, zone)
    acc = acc * scale
    _psl_check(source, lines[0], ns, acc, "acc")
    gyro = None
    gyro_path = _psl_sibling(path)
    if gyro_path is not None:
        gtext = _read_text(gyro_path)
        glines = gtext.splitlines()
        gcols = [c.strip() for c in glines[0].split(";")]
        gkind, gscale = _psl_kind(gcols, str(gyro_path))
        if gkind != "gyro":
            raise RecordingFormatError(f"{gyro_path}:1: expected a GYRO header")
        gns, gval, _, gnotes = _psl_body(gtext, str(gyro_path), zone)
        notes = notes + gnotes
        gval = gval * gscale
        _psl_check(str(gyro_path), glines[0], gns, gval, "gyro")
        back = np.flatnonzero(np.diff(gns) <= 0)
        if back.size:
            raise RecordingFormatError(
                f"{gyro_path}: sensor time goes backwards or repeats at data row {back[0] + 2}"
            )
        lo, hi = max(ns[0], gns[0]), min(ns[-1], gns[-1])
        keep = (ns >= lo) & (ns <= hi)
        if keep.sum() >= 2:
            ns, acc = ns[keep], acc[keep]
            rel = (gns - gns[0]).astype(np.float64)
            at = (ns - gns[0]).astype(np.float64)
            gyro = np.column_stack([np.interp(at, rel, gval[:, k]) for k in range(3)])
            # no more decimals than the GYRO file printed (°/s after its unit's scale)
            gyro = np.round(gyro, _psl_decimals(glines) + round(-math.log10(gscale)))
    t = (ns - ns[0]).astype(np.float64) / 1e9
    rate = estimate_rate(t)
    rec = Recording(
        t=t,
        acc=np.ascontiguousarray(acc),
        gyro=gyro,
        sample_rate_hz=round(rate, 2),
        start=phone0,
        device=_psl_device(path),
        placement="thigh",
        extra={"imported_from": "polar-sensor-logger"},
        source=source,
        notes=notes,
    )
    _validate(rec, 1, source, units_hint="mg")
    return rec


def _psl_kind(cols: list[str], source: str) -> tuple[str, float]:
    if len(cols) < 5 or cols[0] != "Phone timestamp" or not cols[1].startswith("sensor timestamp"):
        raise RecordingFormatError(
            f"{source}:1: unsupported Polar Sensor Logger header; expected "
            "'Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]' (ACC) "
            "or '...;X [dps];Y [dps];Z [dps]' (GYRO)"
        )
    unit = cols[2].split(" ", 1)[-1] if " " in cols[2] else ""
    if unit in _PSL_ACC_UNITS:
        return "acc", _PSL_ACC_UNITS[unit]
    if unit in _PSL_GYRO_UNITS:
        return "gyro", _PSL_GYRO_UNITS[unit]
    raise RecordingFormatError(f"{source}:1: unsupported unit {unit!r} in column {cols[2]!r}")


def _psl_body(
    text: str, source: str, zone: tzinfo | None
) -> tuple[NDArray[np.int64], FloatArray, datetime, tuple[str, ...]]:
    """(sensor ns, X/Y/Z, phone time of the first row, notes) of one Polar Sensor Logger file."""
    nl = text.find("\n")
    body = "" if nl < 0 else text[nl + 1 :]
    first = next((ln for ln in body.splitlines() if ln.strip()), None)
    if first is None:
        raise RecordingFormatError(f"{source}: no data rows after the header")
    fields = first.rstrip("\r").split(";")
    if len(fields) < 5:
        raise RecordingFormatError(f"{source}:2: expected 5 values, found {len(fields)}")
    names = ["phone", "ns", "x", "y", "z"] + [f"_extra{k}" for k in range(len(fields) - 5)]
    kinds = ["skip", "i64", "f64", "f64", "f64"] + ["skip"] * (len(fields) - 5)
    decimal_comma = any("," in f for f in fields[2:5])
    from loadmon.csvtable import read_columns  # pyarrow: only when a file is parsed

    parsed = read_columns(
        body.encode("utf-8"), 0, names, kinds, sep=";", source=source, first_line_no=2,
        decimal_comma=decimal_comma,
    )
    v = parsed.values
    ns = np.asarray(v["ns"], dtype=np.int64)
    vals = np.column_stack([v["x"], v["y"], v["z"]]).astype(np.float64)
    phone_raw = fields[0].strip()
    try:
        phone0 = datetime.fromisoformat(phone_raw)
    except (ValueError, OverflowError):
        raise RecordingFormatError(
            f"{source}:2: phone timestamp {phone_raw!r} is not a date and time "
            "(expected e.g. 2026-11-20T09:00:00.000)"
        ) from None
    if phone0.tzinfo is None:
        # The app writes the phone's local wall-clock time: read it in the patient's zone.
        phone0 = phone0.replace(tzinfo=zone or UTC)
    check_start(phone0, f"{source}:2")
    bad = np.flatnonzero((ns < 0) | (ns >= _MAX_NS))
    if bad.size:
        k = int(bad[0])
        raise RecordingFormatError(
            f"{source}:{k + 2}: sensor timestamp {int(ns[k])} is not a sensor time "
            f"(expected 0 to {_MAX_NS:.3g} ns)"
        )
    return ns, vals, phone0, parsed.notes


def _psl_check(
    source: str, header: str, ns: NDArray[np.int64], values: FloatArray, channel: str
) -> None:
    """Physical bounds (`bounds.check_samples`) of one Polar Sensor Logger file's samples,
    scaled to g or °/s; file line k + 2 holds sample k."""
    cols = [c.strip() for c in header.split(";")]
    t = (ns - ns[0]).astype(np.float64) / 1e9
    check_samples(
        t,
        values if channel == "acc" else np.zeros((0, 3)),
        values if channel == "gyro" else None,
        where=lambda k: f"{source}:{k + 2}",
        columns={"t": cols[1:2], channel: cols[2:5]},
    )


#: Sensor timestamps are ns since 2000 on the sensor clock; int64 holds them below this.
_MAX_NS = 9_200_000_000_000_000_000


def _psl_decimals(lines: list[str]) -> int:
    """Most decimals printed in the X, Y, Z columns of the first rows (capped at 9)."""
    best = 0
    for ln in lines[1:201]:
        for cell in ln.split(";")[2:5]:
            cell = cell.replace(",", ".")
            if "." in cell:
                best = max(best, len(cell.split(".", 1)[1].strip().split("e")[0]))
    return min(best, 9)


def _psl_sibling(path: Path) -> Path | None:
    name = path.name
    if "_ACC" not in name:
        return None
    sib = path.with_name(name.replace("_ACC", "_GYRO"))
    return sib if sib.exists() else None


def _psl_device(path: Path) -> str:
    name = path.name.lower()
    if "sense" in name:
        return "polar-verity-sense"
    if "h10" in name:
        return "polar-h10"
    return "polar"


# --------------------------------------------------------------------------------------------
# Writing


def format_loadmon_csv(rec: Recording) -> str:
    """The loadmon-csv v1 text of a recording (unknown header keys are written back)."""
    out = io.StringIO()
    write_loadmon_csv_to(rec, out)
    return out.getvalue()


def write_loadmon_csv(rec: Recording, path: str | os.PathLike[str]) -> None:
    """Write a recording as loadmon-csv v1, atomically (a temp file renamed into place)."""
    p = Path(path)
    tmp = p.with_name(p.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # like every other output
    with open(fd, "w", encoding="utf-8", newline="\n") as f:
        write_loadmon_csv_to(rec, f)
    os.replace(tmp, p)


def write_loadmon_csv_to(rec: Recording, f: io.TextIOBase | Any) -> None:
    f.write(f"# {LOADMON_CSV_MAGIC} {LOADMON_CSV_VERSION}\n")
    f.write(f"# device: {rec.device}\n")
    f.write(f"# placement: {rec.placement}\n")
    f.write(f"# sample_rate_hz: {_fmt_rate(rec.sample_rate_hz)}\n")
    f.write(f"# start: {rec.start.isoformat()}\n")
    for k, v in rec.extra.items():
        f.write(f"# {k}: {v}\n")
    acc_dec = decimals_for(rec.acc_resolution, ACC_DECIMALS)
    gyro_dec = decimals_for(rec.gyro_resolution, GYRO_DECIMALS)
    if rec.gyro is None:
        f.write("t,ax,ay,az\n")
        arr = np.column_stack([rec.t, rec.acc])
        fmt = [f"%.{T_DECIMALS}f"] + [f"%.{acc_dec}f"] * 3
    else:
        f.write("t,ax,ay,az,gx,gy,gz\n")
        arr = np.column_stack([rec.t, rec.acc, rec.gyro])
        fmt = [f"%.{T_DECIMALS}f"] + [f"%.{acc_dec}f"] * 3 + [f"%.{gyro_dec}f"] * 3
    # Round to the printed precision first so tiny negatives print as 0.000, never -0.000:
    # the text of a round trip is then stable.
    decimals = [int(x[2:-1]) for x in fmt]
    arr = np.column_stack([np.round(arr[:, k], d) for k, d in enumerate(decimals)]) + 0.0
    np.savetxt(f, arr, fmt=fmt, delimiter=",")


def decimals_for(resolution: float, minimum: int) -> int:
    """Decimals needed to print values quantised at `resolution` without loss."""
    if resolution <= 0:
        return minimum
    return max(minimum, min(9, math.ceil(-math.log10(resolution) - 1e-9)))


def _fmt_rate(rate: float) -> str:
    return f"{rate:g}"


# --------------------------------------------------------------------------------------------
# Parquet (for research tools: pandas, polars, R's arrow read it directly)

#: Schema metadata key holding the loadmon-csv header (device, placement, rate, start, extra).
PARQUET_META_KEY = b"loadmon"


def write_parquet(rec: Recording, path: str | os.PathLike[str]) -> None:
    """Write a recording as Parquet: columns t, ax..az[, gx..gz] and the header as metadata.

    Written atomically (a temp file renamed into place)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    cols: dict[str, Any] = {"t": pa.array(np.asarray(rec.t, dtype=np.float64))}
    for k, name in enumerate(("ax", "ay", "az")):
        cols[name] = pa.array(np.ascontiguousarray(rec.acc[:, k]))
    if rec.gyro is not None:
        for k, name in enumerate(("gx", "gy", "gz")):
            cols[name] = pa.array(np.ascontiguousarray(rec.gyro[:, k]))
    header = {
        "format": f"{LOADMON_CSV_MAGIC} {LOADMON_CSV_VERSION}",
        "device": rec.device,
        "placement": rec.placement,
        "sample_rate_hz": rec.sample_rate_hz,
        "start": rec.start.isoformat(),
        "extra": dict(rec.extra),
        "acc_resolution": rec.acc_resolution,
        "gyro_resolution": rec.gyro_resolution,
    }
    table = pa.table(cols).replace_schema_metadata({PARQUET_META_KEY: json.dumps(header)})
    p = Path(path)
    tmp = p.with_name(p.name + ".part")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, p)


def read_parquet(path: Path) -> Recording:
    """A recording written by `write_parquet` (or any Parquet with t, ax, ay, az in s and g,
    optional gx, gy, gz in °/s), validated like a CSV."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    _check_readable(path)
    source = str(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise RecordingFormatError(f"{source}: not a Parquet file ({e})") from None
    names = set(table.column_names)
    missing = [c for c in ("t", "ax", "ay", "az") if c not in names]
    if missing:
        raise RecordingFormatError(f"{source}: missing column(s) {', '.join(missing)}")
    meta = table.schema.metadata or {}
    try:
        header = json.loads(meta.get(PARQUET_META_KEY, b"{}"))
    except ValueError:
        header = {}

    def col(name: str) -> FloatArray:
        try:
            arr: FloatArray = table.column(name).to_numpy()
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            raise RecordingFormatError(f"{source}: column {name} is not numeric") from None
        if arr.dtype.kind != "f":
            arr = arr.astype(np.float64)
        return arr

    t = col("t").astype(np.float64)
    acc = np.column_stack([col(c) for c in ("ax", "ay", "az")])
    gyro = (
        np.column_stack([col(c) for c in ("gx", "gy", "gz")])
        if {"gx", "gy", "gz"} <= names
        else None
    )
    hdr = {k: str(v) for k, v in header.items() if k in ("sample_rate_hz", "start")}
    rec = Recording(
        t=t,
        acc=acc,
        gyro=gyro,
        sample_rate_hz=_header_rate(hdr, t, source),
        start=_header_start(hdr, source),
        device=str(header.get("device") or "unknown"),
        placement=str(header.get("placement") or "thigh"),
        extra={str(k): str(v) for k, v in dict(header.get("extra") or {}).items()},
        source=source,
        acc_resolution=float(header.get("acc_resolution", 10.0**-ACC_DECIMALS)),
        gyro_resolution=float(header.get("gyro_resolution", 10.0**-GYRO_DECIMALS)),
    )
    _validate(rec, 1, source, units_hint="g")
    return rec
