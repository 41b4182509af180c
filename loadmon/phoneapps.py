"""Provides the phone apps as sensors: Sensor Logger (zip or folder) and phyphox CSV exports.

A phone in the trouser pocket is the thigh sensor most patients already own. Formats, as the
apps publish them:

* **Sensor Logger** (Kelvin Choi; tszheichoi/awesome-sensor-logger): a zip or folder of CSVs,
  one per sensor, columns `time,seconds_elapsed,z,y,x`; `time` is UTC nanoseconds since the
  Unix epoch, acceleration in m/s², rotation rate in rad/s. `TotalAcceleration.csv` includes
  gravity; `Accelerometer.csv` excludes it on iOS (user acceleration), so it is combined with
  `Gravity.csv`. `Metadata.csv` names the platform: iOS (Core Motion) reports acceleration with
  the opposite sign to Android's specific force, so iOS axes are negated.
* **phyphox** ("Acceleration with g" and "Gyroscope" experiments): CSV with quoted headers
  `"Time (s)","Acceleration x (m/s^2)",...` or `"Gyroscope x (rad/s)"`, separated by commas,
  tabs, or semicolons with decimal commas. Times are seconds from the experiment's start; a
  zip/folder export's `meta/time.csv` gives that start as Unix time. A lone CSV has no clock:
  the start is taken from the file's modification time minus the duration, and noted.

Everything is converted to loadmon's units (g, °/s, seconds from `start`) and validated like
any recording (`loadmon.recording._validate`).
"""

from __future__ import annotations

import csv
import io
import logging
import math
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from loadmon.csvtable import read_columns
from loadmon.errors import RecordingFormatError
from loadmon.recording import STANDARD_GRAVITY, Recording, _validate, estimate_rate

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
DEG_PER_RAD = 180.0 / math.pi
SENSOR_LOGGER_COLUMNS = ("time", "seconds_elapsed", "z", "y", "x")
#: Median |a| (m/s²) below which Accelerometer.csv is taken to exclude gravity.
NO_GRAVITY_BELOW_MS2 = 4.0


# --------------------------------------------------------------------------------------------
# Files in a zip or a folder


class _Bundle:
    """The CSV files of an export, by base name, from a zip or a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, bytes] = {}
        if path.is_dir():
            for f in sorted(path.rglob("*.csv")):
                self.files[str(f.relative_to(path)).replace("\\", "/")] = f.read_bytes()
        else:
            if not path.exists():
                raise RecordingFormatError(f"{path}: no such file")
            try:
                with zipfile.ZipFile(path) as z:
                    for info in z.infolist():
                        if info.filename.lower().endswith(".csv") and not info.is_dir():
                            self.files[info.filename] = z.read(info)
            except zipfile.BadZipFile:
                raise RecordingFormatError(f"{path}: not a zip file") from None
        if not self.files:
            what = "is a directory with no CSV files" if path.is_dir() else "has no CSV files"
            raise RecordingFormatError(
                f"{path}: {what} (expected a recording file, or a Sensor Logger or phyphox "
                "export)"
            )

    def find(self, base: str) -> tuple[str, bytes] | None:
        """The file whose base name is `base` (case-insensitive), if any."""
        for name, data in self.files.items():
            if name.rsplit("/", 1)[-1].lower() == base.lower():
                return name, data
        return None

    def source(self, name: str) -> str:
        return f"{self.path}:{name}" if not self.path.is_dir() else str(self.path / name)


def _first_line(data: bytes) -> str:
    return data[:4096].split(b"\n", 1)[0].decode("utf-8-sig", "replace").strip()


def read_phone_export(path: Path, *, zone: tzinfo | None = None) -> Recording:
    """A Sensor Logger or phyphox export given as a zip or a folder (detected by content)."""
    bundle = _Bundle(path)
    heads = {name: _first_line(data) for name, data in bundle.files.items()}
    if any(_split_header(h) == list(SENSOR_LOGGER_COLUMNS) for h in heads.values()):
        log.info("reading %s as a Sensor Logger export", path)
        return _read_sensor_logger(bundle)
    kinds = {name: detect_csv(h) for name, h in heads.items()}
    if any(k is not None for k in kinds.values()):
        log.info("reading %s as a phyphox export", path)
        return _read_phyphox_bundle(bundle, kinds)
    raise RecordingFormatError(
        f"{path}: no Sensor Logger (time,seconds_elapsed,z,y,x) or phyphox "
        "('\"Time (s)\",\"Acceleration x (m/s^2)\",...') CSV in this export"
    )


def _split_header(line: str) -> list[str]:
    return [c.strip().strip('"').strip().lower() for c in line.split(",")]


# --------------------------------------------------------------------------------------------
# Sensor Logger


def _sl_table(
    bundle: _Bundle, base: str, notes: list[str]
) -> tuple[NDArray[np.int64], FloatArray, str] | None:
    """(time ns, x/y/z, source) of one Sensor Logger CSV, or None when absent; what the
    reader noticed is appended to `notes`."""
    found = bundle.find(base)
    if found is None:
        return None
    name, data = found
    source = bundle.source(name)
    head = _first_line(data)
    cols = _split_header(head)
    missing = [c for c in ("time", "x", "y", "z") if c not in cols]
    if missing:
        raise RecordingFormatError(
            f"{source}:1: missing column(s) {', '.join(missing)} "
            "(expected Sensor Logger's time,seconds_elapsed,z,y,x)"
        )
    kinds = ["i64" if c == "time" else "f64" if c in ("x", "y", "z") else "skip" for c in cols]
    start = data.find(b"\n") + 1
    parsed = read_columns(data, start, cols, kinds, sep=",", source=source, first_line_no=2)
    notes.extend(parsed.notes)
    v = parsed.values
    xyz = np.column_stack([v["x"], v["y"], v["z"]]).astype(np.float64)
    return np.asarray(v["time"], dtype=np.int64), xyz, source


def _platform(bundle: _Bundle) -> str:
    found = bundle.find("Metadata.csv")
    if found is None:
        return "unknown"
    rows = list(csv.DictReader(io.StringIO(found[1].decode("utf-8-sig", "replace"))))
    if not rows:
        return "unknown"
    row = {k.strip().lower(): (v or "").strip().lower() for k, v in rows[0].items() if k}
    return row.get("platform", "unknown") or "unknown"


def _on(ns: NDArray[np.int64], src_ns: NDArray[np.int64], values: FloatArray) -> FloatArray:
    """`values` sampled at `src_ns`, linearly interpolated onto `ns`."""
    base = ns[0]
    at = (ns - base).astype(np.float64)
    rel = (src_ns - base).astype(np.float64)
    return np.column_stack([np.interp(at, rel, values[:, k]) for k in range(3)])


def _read_sensor_logger(bundle: _Bundle) -> Recording:
    notes: list[str] = []
    platform = _platform(bundle)
    total = _sl_table(bundle, "TotalAcceleration.csv", notes)
    used = "TotalAcceleration.csv"
    if total is None:
        acc = _sl_table(bundle, "Accelerometer.csv", notes)
        if acc is None:
            raise RecordingFormatError(
                f"{bundle.path}: no TotalAcceleration.csv or Accelerometer.csv in this "
                "Sensor Logger export (turn the accelerometer on in the app)"
            )
        ns, a, source = acc
        norm = float(np.median(np.linalg.norm(a, axis=1))) if a.size else 0.0
        if norm < NO_GRAVITY_BELOW_MS2:
            grav = _sl_table(bundle, "Gravity.csv", notes)
            if grav is None:
                raise RecordingFormatError(
                    f"{source}: this Accelerometer.csv excludes gravity (median "
                    f"{norm:.2f} m/s²) and the export has no Gravity.csv or "
                    "TotalAcceleration.csv; turn on Gravity in Sensor Logger"
                )
            gns, g, _ = grav
            a = a + _on(ns, gns, g)
            used = "Accelerometer.csv + Gravity.csv"
        else:
            used = "Accelerometer.csv"
    else:
        ns, a, source = total
    if ns.size < 2:
        raise RecordingFormatError(f"{source}: needs at least 2 samples, found {ns.size}")
    gyro = None
    gyr = _sl_table(bundle, "Gyroscope.csv", notes)
    if gyr is not None:
        gns, w, _ = gyr
        lo, hi = max(ns[0], gns[0]), min(ns[-1], gns[-1])
        keep = (ns >= lo) & (ns <= hi)
        if keep.sum() >= 2:
            ns, a = ns[keep], a[keep]
            gyro = _on(ns, gns, w) * DEG_PER_RAD
    # iOS (Core Motion) reports acceleration as minus the specific force.
    sign = -1.0 if platform == "ios" else 1.0
    acc_g = sign * a / STANDARD_GRAVITY
    # Rotation rates are right-handed about the device axes on both platforms: unchanged.
    t = (ns - ns[0]).astype(np.float64) / 1e9
    start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(ns[0]) // 1000)
    rec = Recording(
        t=t,
        acc=np.ascontiguousarray(acc_g),
        gyro=None if gyro is None else np.ascontiguousarray(gyro),
        sample_rate_hz=round(estimate_rate(t), 2),
        start=start,
        device=f"phone-{platform}" if platform != "unknown" else "phone",
        placement="thigh",
        extra={"imported_from": "sensor-logger", "acceleration_from": used},
        source=str(bundle.path),
        acc_resolution=1e-5,
        gyro_resolution=1e-3,
        notes=tuple(notes),
    )
    _validate(rec, 1, source, units_hint="g")
    return rec


# --------------------------------------------------------------------------------------------
# phyphox

#: What a phyphox header's first data column says the file holds.
_PHYPHOX_KINDS = {
    "acceleration x (m/s^2)": "acc",
    "linear acceleration x (m/s^2)": "linear",
    "gyroscope x (rad/s)": "gyro",
}


def _phyphox_sep(line: str) -> str | None:
    for sep in (",", "\t", ";"):
        cols = [c.strip().strip('"') for c in line.split(sep)]
        if len(cols) >= 4 and cols[0].lower() == "time (s)":
            return sep
    return None


def detect_csv(first_line: str) -> str | None:
    """'phyphox-acc', 'phyphox-gyro' or 'phyphox-linear' for a phyphox CSV header, else None."""
    sep = _phyphox_sep(first_line)
    if sep is None:
        return None
    col = first_line.split(sep)[1].strip().strip('"').lower()
    kind = _PHYPHOX_KINDS.get(col)
    return None if kind is None else f"phyphox-{kind}"


def _phyphox_columns(
    data: bytes, source: str, kind: str
) -> tuple[FloatArray, FloatArray, tuple[str, ...]]:
    """(time s, x/y/z in the file's units, notes) of one phyphox CSV."""
    head = _first_line(data)
    sep = _phyphox_sep(head)
    if sep is None:
        raise RecordingFormatError(f"{source}:1: not a phyphox CSV header")
    cols = [c.strip().strip('"') for c in head.split(sep)]
    names = [f"c{k}" for k in range(len(cols))]
    kinds = ["f64"] * 4 + ["skip"] * (len(cols) - 4)
    start = data.find(b"\n") + 1
    parsed = read_columns(
        data, start, names, kinds, sep=sep, source=source, first_line_no=2,
        decimal_comma=(sep != ","),
    )
    v = parsed.values
    xyz = np.column_stack([v["c1"], v["c2"], v["c3"]])
    return np.asarray(v["c0"], dtype=np.float64), xyz, parsed.notes


def _check_phyphox_kind(kind: str, source: str) -> None:
    if kind == "phyphox-linear":
        raise RecordingFormatError(
            f"{source}:1: this is phyphox 'Linear Acceleration' (gravity removed); record "
            "with the 'Acceleration with g' experiment instead"
        )
    if kind == "phyphox-gyro":
        raise RecordingFormatError(
            f"{source}:1: this is a phyphox gyroscope file; import the acceleration "
            "('Acceleration with g') export, with the gyroscope beside it in a zip or folder"
        )


def read_phone_csv(path: Path, data: bytes, kind: str) -> Recording:
    """A lone phyphox CSV file ("Acceleration with g"); start from the file's time (noted)."""
    source = str(path)
    _check_phyphox_kind(kind, source)
    t, a, notes = _phyphox_columns(data, source, kind)
    end = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    duration = float(t[-1] - t[0]) if t.size else 0.0
    start = end - timedelta(seconds=duration)
    note = (
        f"{source}: phyphox CSV files carry no clock; start {start.isoformat(timespec='seconds')} "
        "taken from the file's modification time (export the zip for the exact start)"
    )
    log.info(note)  # shown as a warning by the CLI (Recording.notes)
    return _phyphox_recording(t, a, None, None, start, source, (*notes, note))


def _read_phyphox_bundle(bundle: _Bundle, kinds: Mapping[str, str | None]) -> Recording:
    acc_name = next((n for n, k in kinds.items() if k == "phyphox-acc"), None)
    if acc_name is None:
        name, kind = next((n, k) for n, k in kinds.items() if k is not None)
        _check_phyphox_kind(str(kind), bundle.source(name))
        raise RecordingFormatError(f"{bundle.path}: no phyphox acceleration file")
    source = bundle.source(acc_name)
    t, a, notes = _phyphox_columns(bundle.files[acc_name], source, "phyphox-acc")
    g_t = g = None
    gyro_name = next((n for n, k in kinds.items() if k == "phyphox-gyro"), None)
    if gyro_name is not None:
        g_t, g, gnotes = _phyphox_columns(
            bundle.files[gyro_name], bundle.source(gyro_name), "phyphox-gyro"
        )
        notes = (*notes, *gnotes)
    start = _phyphox_start(bundle)
    if start is None:
        start = datetime(1970, 1, 1, tzinfo=UTC)
        notes = (*notes, f"{bundle.path}: no meta/time.csv; start unknown (1970-01-01)")
    return _phyphox_recording(t, a, g_t, g, start, source, notes)


def _phyphox_start(bundle: _Bundle) -> datetime | None:
    """The experiment's START as Unix time from meta/time.csv (phyphox zip/folder export)."""
    found = bundle.find("time.csv")
    if found is None:
        return None
    text = found[1].decode("utf-8-sig", "replace")
    sep = ";" if text.count(";") > text.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    for row in rows[1:]:
        if row and row[0].strip().upper() == "START" and len(row) >= 3:
            try:
                experiment_s = float(row[1].replace(",", "."))
                system_s = float(row[2].replace(",", "."))
            except ValueError:
                return None
            return datetime.fromtimestamp(system_s - experiment_s, UTC)
    return None


def _phyphox_recording(
    t: FloatArray,
    a: FloatArray,
    g_t: FloatArray | None,
    g: FloatArray | None,
    start: datetime,
    source: str,
    notes: tuple[str, ...],
) -> Recording:
    if t.size < 2:
        raise RecordingFormatError(f"{source}: needs at least 2 samples, found {t.size}")
    gyro = None
    if g_t is not None and g is not None and g_t.size >= 2:
        lo, hi = max(t[0], g_t[0]), min(t[-1], g_t[-1])
        keep = (t >= lo) & (t <= hi)
        if keep.sum() >= 2:
            t, a = t[keep], a[keep]
            gyro = np.column_stack([np.interp(t, g_t, g[:, k]) for k in range(3)]) * DEG_PER_RAD
    t0 = float(t[0])
    rec = Recording(
        t=t - t0,
        acc=np.ascontiguousarray(a / STANDARD_GRAVITY),
        gyro=gyro,
        sample_rate_hz=round(estimate_rate(t), 2),
        start=start + timedelta(seconds=t0),
        device="phone",
        placement="thigh",
        extra={"imported_from": "phyphox"},
        source=source,
        acc_resolution=1e-5,
        gyro_resolution=1e-3,
        notes=notes,
    )
    _validate(rec, 1, source, units_hint="g")
    return rec
