"""Provides scanning: nearby BLE sensors whose advertised name matches a device profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakError

from loadmon.errors import DeviceError, DeviceNotFoundError
from loadmon.profiles import DeviceProfile, load_profiles


@dataclass(frozen=True)
class FoundSensor:
    address: str
    name: str
    rssi: int
    profile: DeviceProfile


async def scan(
    timeout: float = 5.0,
    *,
    backend: type[BaseBleakScanner] | None = None,
    profiles: tuple[DeviceProfile, ...] | None = None,
) -> list[FoundSensor]:
    """Sensors heard within `timeout` s that match a profile, strongest first."""
    profiles = profiles or load_profiles()
    try:
        if backend is not None:
            seen = await BleakScanner.discover(timeout=timeout, return_adv=True, backend=backend)
        else:
            seen = await BleakScanner.discover(timeout=timeout, return_adv=True)
    except BleakError as e:
        raise DeviceError(f"cannot scan for sensors: {e}") from None
    except OSError as e:
        raise DeviceError(
            f"cannot scan for sensors (no Bluetooth adapter or service here?): {e}"
        ) from None
    out = []
    for device, adv in seen.values():
        name = adv.local_name or device.name or ""
        for p in profiles:
            if p.matches_name(name):
                out.append(FoundSensor(device.address, name, int(adv.rssi), p))
                break
    return sorted(out, key=lambda f: -f.rssi)


def looks_like_address(s: str) -> bool:
    """A MAC address (Linux, Windows) or a CoreBluetooth UUID (macOS)."""
    parts = s.split(":")
    if len(parts) == 6 and all(len(p) == 2 for p in parts):
        try:
            int("".join(parts), 16)
            return True
        except ValueError:
            return False
    return len(s) == 36 and s.count("-") == 4


async def find_device(
    target: str, timeout: float = 10.0, *, backend: type[BaseBleakScanner] | None = None
) -> BLEDevice:
    """The sensor with this address, or whose advertised name is (or starts with) `target`."""
    kw: dict[str, Any] = {"backend": backend} if backend is not None else {}
    want = target.lower()
    found: BLEDevice | None
    try:
        if looks_like_address(target):
            found = await BleakScanner.find_device_by_address(target, timeout=timeout, **kw)
        else:
            found = await BleakScanner.find_device_by_filter(
                lambda d, ad: (ad.local_name or d.name or "").lower().startswith(want),
                timeout=timeout,
                **kw,
            )
    except BleakError as e:
        raise DeviceError(f"cannot scan for sensors: {e}") from None
    except OSError as e:
        raise DeviceError(
            f"cannot scan for sensors (no Bluetooth adapter or service here?): {e}"
        ) from None
    if found is None:
        raise DeviceNotFoundError(f"no sensor {target!r} found within {timeout:g} s")
    return found
