"""Provides the BLE sensor profiles: read devices/*.toml and validate them into frozen dataclasses.

A profile is data (UUIDs, name patterns, rates, ranges, scale factors, simple layouts); the
decoder module it names (`family`) holds what needs logic. A bad file raises `ProfileError`
naming the file, the key and what was expected.
"""

from __future__ import annotations

import fnmatch
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from loadmon.data import shipped_dir
from loadmon.errors import NotFoundError, ProfileError
from loadmon.sensor import families
from loadmon.tomlfiles import read_toml

#: The decoder families a profile may name, with the keys each needs in its own table (each
#: family's folder in loadmon.sensor.families says which, as PROFILE_KEYS).
FAMILY_KEYS: dict[str, tuple[str, ...]] = families.profile_keys()
#: What each family key must hold (checked when the file is read, so a wrong type is a
#: ProfileError naming the key, never a TypeError in the decoder later).
_KEY_KIND: dict[str, str] = {
    "acc_type": "byte", "gyro_type": "byte", "acc_frame": "byte", "gyro_frame": "byte",
    "resolution_bits": "bits", "channels": "channels", "reference": "byte",
    "max_samples_per_packet": "count", "path_imu": "path", "path_acc": "path",
    "header": "bytes", "unlock": "bytes", "save": "bytes", "packet_length": "length",
    "config_length": "length", "format": "format", "config_format": "format",
    "acc_fields": "fields", "gyro_fields": "fields", "acc_scale": "scale",
    "gyro_scale": "scale", "rate_register": "byte", "config_rate_field": "count0",
    "rate_codes": "codes", "acc_module": "byte", "gyro_module": "byte",
    "acc_packed_register": "byte", "gyro_packed_register": "byte",
    "acc_odr_codes": "codes", "gyro_odr_codes": "codes", "acc_range_codes": "codes",
    "gyro_range_codes": "codes", "acc_lsb_per_g": "lsb", "gyro_lsb_per_dps": "lsb",
}  # fmt: skip
_KIND_TEXT = {
    "byte": "a whole number 0–255",
    "bits": "8, 16, 24 or 32 bits",
    "channels": "a whole number 1–9",
    "count": "a whole number 1–255",
    "count0": "a whole number 0–255",
    "length": "a whole number of bytes 1–512",
    "path": "a non-empty path string",
    "bytes": "a non-empty list of bytes (0–255), at most 64",
    "format": "a struct format like '<9h' (at most 64 fields)",
    "fields": "a list of 3 field indexes 0–63",
    "scale": "a finite number > 0 and <= 1000",
    "codes": "a table of whole number = byte (0–255)",
    "lsb": "a table of whole number = a finite number > 0",
}
CLOCKS = ("device_ns_last", "device_ms_first", "arrival")
#: Bounds of the channel keys (Hz, ± range in g or °/s, ATT MTU bytes).
MAX_RATE_HZ = 10000
MAX_RANGE = 100000
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def devices_dir() -> Path:
    """The shipped devices/ folder (package data; the source checkout's top-level folder)."""
    return shipped_dir("devices")


@dataclass(frozen=True)
class Channel:
    """One measured quantity of a sensor (acc in g, gyro in °/s)."""

    rates_hz: tuple[int, ...]
    default_rate_hz: int
    ranges: tuple[int, ...]
    default_range: int
    #: Quantisation step in the channel's unit (0 = float on the wire).
    resolution: float
    #: Inclusive range of any whole rate the sensor accepts, if not just `rates_hz`.
    rate_range_hz: tuple[int, int] | None = None

    def supports_rate(self, hz: int) -> bool:
        if self.rate_range_hz is not None:
            return self.rate_range_hz[0] <= hz <= self.rate_range_hz[1]
        return hz in self.rates_hz


@dataclass(frozen=True)
class GattIds:
    service: str
    control: str
    data: str


@dataclass(frozen=True)
class DeviceProfile:
    """A validated devices/*.toml file."""

    id: str
    name: str
    vendor: str
    family: str
    name_patterns: tuple[str, ...]
    clock: str
    min_mtu: int
    gatt: GattIds
    acc: Channel
    gyro: Channel | None
    params: Mapping[str, Any]
    path: Path
    notes: str = ""

    @property
    def has_gyro(self) -> bool:
        return self.gyro is not None

    @property
    def has_clock(self) -> bool:
        return self.clock != "arrival"

    def matches_name(self, name: str | None) -> bool:
        """True if an advertised name fits one of the profile's patterns (case-insensitive)."""
        if not name:
            return False
        return any(fnmatch.fnmatch(name.lower(), p.lower()) for p in self.name_patterns)

    def check_rate(self, hz: int) -> int:
        """`hz` if every channel supports it, else `ProfileError` listing what does."""
        for ch in (self.acc, self.gyro):
            if ch is not None and not ch.supports_rate(hz):
                allowed = (
                    f"{ch.rate_range_hz[0]}–{ch.rate_range_hz[1]}"
                    if ch.rate_range_hz
                    else ", ".join(str(r) for r in ch.rates_hz)
                )
                raise ProfileError(f"{self.id} cannot stream at {hz} Hz (it supports {allowed} Hz)")
        return hz


class _Reader:
    """Typed access to one TOML table that names the file and key on every error."""

    def __init__(self, path: Path, table: Mapping[str, Any], prefix: str = "") -> None:
        self.path = path
        self.table = table
        self.prefix = prefix

    def _fail(self, key: str, expected: str, got: Any = None) -> ProfileError:
        where = f"{self.prefix}{key}"
        extra = "" if got is None else f", got {got!r}"
        return ProfileError(f"{self.path}: key '{where}': expected {expected}{extra}")

    def get(self, key: str, kind: type | tuple[type, ...], expected: str) -> Any:
        if key not in self.table:
            raise self._fail(key, expected + " (missing)")
        v = self.table[key]
        if isinstance(v, bool) or not isinstance(v, kind):
            raise self._fail(key, expected, v)
        return v

    def opt(self, key: str, kind: type | tuple[type, ...], expected: str, default: Any) -> Any:
        return self.get(key, kind, expected) if key in self.table else default

    def sub(self, key: str) -> _Reader:
        t = self.get(key, dict, "a table")
        return _Reader(self.path, t, f"{self.prefix}{key}.")

    def uuid(self, key: str) -> str:
        v = str(self.get(key, str, "a 128-bit UUID string")).lower()
        if not _UUID_RE.match(v):
            raise self._fail(key, "a 128-bit UUID like 0000ffe4-0000-1000-8000-00805f9a34fb", v)
        return v

    def int_list(self, key: str, expected: str, hi: int = MAX_RANGE) -> tuple[int, ...]:
        v = self.get(key, list, expected)
        if not v or len(v) > 64 or not all(
            isinstance(x, int) and not isinstance(x, bool) and 0 < x <= hi for x in v
        ):
            raise self._fail(key, expected, v)
        return tuple(v)

    def number(self, key: str, expected: str, minimum: float = 0.0) -> float:
        v = float(self.get(key, (int, float), expected))
        if not (math.isfinite(v) and minimum <= v <= MAX_RANGE):
            raise self._fail(key, expected, v)
        return v


def _channel(r: _Reader, unit: str) -> Channel:
    rates = r.int_list("rates_hz", f"a non-empty list of whole Hz 1–{MAX_RATE_HZ}", MAX_RATE_HZ)
    default_rate = int(r.get("default_rate_hz", int, "a whole number of Hz"))
    rate_range = None
    if "rate_range_hz" in r.table:
        rr = r.int_list("rate_range_hz", f"[min, max] whole Hz 1–{MAX_RATE_HZ}", MAX_RATE_HZ)
        if len(rr) != 2 or rr[0] > rr[1]:
            raise r._fail("rate_range_hz", "[min, max] whole Hz", list(rr))
        rate_range = (rr[0], rr[1])
    ch = Channel(
        rates_hz=rates,
        default_rate_hz=default_rate,
        ranges=r.int_list("ranges", f"a non-empty list of ± {unit} ranges"),
        default_range=int(r.get("default_range", int, f"a ± {unit} range")),
        resolution=r.number("resolution", f"a quantisation step in {unit} (≥ 0)"),
        rate_range_hz=rate_range,
    )
    if not ch.supports_rate(default_rate):
        raise r._fail("default_rate_hz", f"one of rates_hz {list(rates)}", default_rate)
    if ch.default_range not in ch.ranges:
        raise r._fail("default_range", f"one of ranges {list(ch.ranges)}", ch.default_range)
    return ch


def _is_int(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def _kind_ok(kind: str, v: Any) -> bool:
    """True if `v` is what a family key of `kind` must hold (see `_KIND_TEXT`)."""
    if kind in ("byte", "count0"):
        return _is_int(v, 0, 255)
    if kind == "count":
        return _is_int(v, 1, 255)
    if kind == "bits":
        return _is_int(v, 8, 32) and v % 8 == 0
    if kind == "channels":
        return _is_int(v, 1, 9)
    if kind == "length":
        return _is_int(v, 1, 512)
    if kind == "path":
        return isinstance(v, str) and bool(v.strip()) and len(v) <= 256
    if kind == "bytes":
        return isinstance(v, list) and 0 < len(v) <= 64 and all(_is_int(x, 0, 255) for x in v)
    if kind == "format":
        if not isinstance(v, str) or len(v) > 64:
            return False
        try:
            return 0 < len(struct.unpack(v, bytes(struct.calcsize(v)))) <= 64
        except struct.error:
            return False
    if kind == "fields":
        return isinstance(v, list) and len(v) == 3 and all(_is_int(x, 0, 63) for x in v)
    if kind == "scale":
        return _is_num(v) and v <= 1000
    if kind in ("codes", "lsb"):
        if not isinstance(v, dict) or not v or len(v) > 64:
            return False
        keys_ok = all(k.isdigit() and len(k) <= 6 for k in v)
        if kind == "codes":
            return keys_ok and all(_is_int(x, 0, 255) for x in v.values())
        return keys_ok and all(_is_num(x) and x < 1e9 for x in v.values())
    return True


def _freeze(v: Any) -> Any:
    if isinstance(v, dict):
        return MappingProxyType({k: _freeze(x) for k, x in v.items()})
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


def parse_profile(path: Path, data: Mapping[str, Any]) -> DeviceProfile:
    """Validate one parsed TOML document."""
    r = _Reader(path, data)
    family = r.get("family", str, f"one of {', '.join(FAMILY_KEYS)}")
    if family not in FAMILY_KEYS:
        raise r._fail("family", f"one of {', '.join(FAMILY_KEYS)}", family)
    clock = r.get("clock", str, f"one of {', '.join(CLOCKS)}")
    if clock not in CLOCKS:
        raise r._fail("clock", f"one of {', '.join(CLOCKS)}", clock)
    patterns = r.get("name_patterns", list, "a non-empty list of name patterns like 'Polar Sense*'")
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise r._fail("name_patterns", "a non-empty list of name patterns", patterns)
    g = r.sub("gatt")
    gatt = GattIds(service=g.uuid("service"), control=g.uuid("control"), data=g.uuid("data"))
    acc = _channel(r.sub("acc"), "g")
    gyro = _channel(r.sub("gyro"), "°/s") if "gyro" in data else None
    fam = r.sub(family)
    for key in FAMILY_KEYS[family]:
        if key not in fam.table:
            raise fam._fail(key, f"a value (the {family} decoder needs it)")
    for key, value in fam.table.items():
        kind = _KEY_KIND.get(key)
        if kind is not None and not _kind_ok(kind, value):
            raise fam._fail(key, _KIND_TEXT[kind], value)
    if "format" in fam.table:
        fmt = fam.table["format"]
        n_fields = len(struct.unpack(fmt, bytes(struct.calcsize(fmt))))
        for key in ("acc_fields", "gyro_fields"):
            if key in fam.table and max(fam.table[key]) >= n_fields:
                raise fam._fail(key, f"field indexes below {n_fields} (the fields of format)",
                                fam.table[key])
    min_mtu = r.opt("min_mtu", int, "an ATT MTU in bytes", 23)
    if not 23 <= min_mtu <= 517:
        raise r._fail("min_mtu", "an ATT MTU of 23–517 bytes", min_mtu)
    return DeviceProfile(
        id=path.stem.replace("_", "-"),
        name=r.get("name", str, "a display name"),
        vendor=r.get("vendor", str, "a vendor name"),
        family=family,
        name_patterns=tuple(patterns),
        clock=clock,
        min_mtu=int(min_mtu),
        gatt=gatt,
        acc=acc,
        gyro=gyro,
        params=_freeze(dict(fam.table)),
        path=path,
        notes=r.opt("notes", str, "a string", ""),
    )


def read_profile(path: str | Path) -> DeviceProfile:
    """Read and validate one profile file."""
    p = Path(path)
    return parse_profile(p, read_toml(p, ProfileError, "profile"))


@cache
def _load_all(folder: Path) -> tuple[DeviceProfile, ...]:
    return tuple(read_profile(p) for p in sorted(folder.glob("*.toml")))


def load_profiles(folder: Path | None = None) -> tuple[DeviceProfile, ...]:
    """Every profile in `folder` (default: the repo's devices/), read once and cached."""
    return _load_all((folder or devices_dir()).resolve())


def get_profile(name: str, folder: Path | None = None) -> DeviceProfile:
    """The profile called `name` (file stem with dashes; underscores are accepted too)."""
    want = name.strip().lower().replace("_", "-")
    for p in load_profiles(folder):
        if p.id == want:
            return p
    known = ", ".join(p.id for p in load_profiles(folder))
    raise NotFoundError(f"no device profile {name!r} (known: {known})")


def profile_for_name(advertised: str | None, folder: Path | None = None) -> DeviceProfile | None:
    """The first profile whose name patterns match an advertised name."""
    for p in load_profiles(folder):
        if p.matches_name(advertised):
            return p
    return None
