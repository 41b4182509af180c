"""Provides the BLE sensor profiles: read devices/*.toml and validate them into frozen dataclasses.

A profile is data (UUIDs, name patterns, rates, ranges, scale factors, simple layouts); the
decoder module it names (`family`) holds what needs logic. A bad file raises `ProfileError`
naming the file, the key and what was expected.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from loadmon.data import shipped_dir
from loadmon.errors import NotFoundError, ProfileError
from loadmon.tomlfiles import read_toml

#: The decoder families a profile may name, with the keys each needs in its own table.
FAMILY_KEYS: dict[str, tuple[str, ...]] = {
    "polar_pmd": ("acc_type", "resolution_bits", "channels", "acc_frame"),
    "movesense": ("path_imu", "path_acc", "reference", "max_samples_per_packet"),
    "witmotion": (
        "header",
        "packet_length",
        "format",
        "acc_fields",
        "gyro_fields",
        "acc_scale",
        "gyro_scale",
        "unlock",
        "save",
        "rate_register",
        "rate_codes",
    ),
    "thingy52": (
        "packet_length",
        "format",
        "acc_fields",
        "gyro_fields",
        "acc_scale",
        "gyro_scale",
        "config_length",
        "config_format",
        "config_rate_field",
    ),
    "metawear": (
        "acc_module",
        "gyro_module",
        "acc_packed_register",
        "gyro_packed_register",
        "acc_odr_codes",
        "gyro_odr_codes",
        "acc_range_codes",
        "acc_lsb_per_g",
        "gyro_range_codes",
        "gyro_lsb_per_dps",
    ),
}
CLOCKS = ("device_ns_last", "device_ms_first", "arrival")
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

    def int_list(self, key: str, expected: str) -> tuple[int, ...]:
        v = self.get(key, list, expected)
        if not v or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v):
            raise self._fail(key, expected, v)
        return tuple(v)

    def number(self, key: str, expected: str, minimum: float = 0.0) -> float:
        v = float(self.get(key, (int, float), expected))
        if v < minimum:
            raise self._fail(key, expected, v)
        return v


def _channel(r: _Reader, unit: str) -> Channel:
    rates = r.int_list("rates_hz", "a non-empty list of positive whole Hz")
    default_rate = int(r.get("default_rate_hz", int, "a whole number of Hz"))
    rate_range = None
    if "rate_range_hz" in r.table:
        rr = r.int_list("rate_range_hz", "[min, max] whole Hz")
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
    return DeviceProfile(
        id=path.stem.replace("_", "-"),
        name=r.get("name", str, "a display name"),
        vendor=r.get("vendor", str, "a vendor name"),
        family=family,
        name_patterns=tuple(patterns),
        clock=clock,
        min_mtu=int(r.opt("min_mtu", int, "an ATT MTU in bytes", 23)),
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
