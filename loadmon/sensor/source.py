"""Provides `open_source`: one function from a source spec to a streaming sensor.

`loadmon record` and the dashboard's Live screen both go through it. A spec is
`virtual:PROFILE` (an emulated sensor on the virtual radio replaying a recording), a path to a
recording file (the same, as `profile`, default the Verity), `ble:PROFILE:ADDRESS` (what the
dashboard's scan lists), or a sensor's advertised name or address (profile from `profile` or
the name). The end of a replay calls `on_end`, so the recorder stops by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadmon.errors import InputError
from loadmon.profiles import DeviceProfile, get_profile, profile_for_name
from loadmon.recording import Recording, read_recording
from loadmon.sensor.stream import SensorStream, StreamOptions

VIRTUAL_PREFIX = "virtual:"
BLE_PREFIX = "ble:"
#: Real seconds the stream keeps listening after a replay's last sample was sent.
END_GRACE_S = 0.3
DEFAULT_REPLAY_PROFILE = "polar-verity-sense"


@dataclass
class LiveSource:
    """An opened source: the stream to record, and the emulator behind it if virtual."""

    stream: SensorStream
    profile: DeviceProfile
    #: What to store as the recording's `source`.
    label: str
    sensor: Any = None

    @property
    def virtual(self) -> bool:
        return self.sensor is not None


def parse_spec(spec: str, profile: str | None = None) -> tuple[str, str | None, str | None]:
    """(kind, profile id, target): kind "virtual" (target = replay path or None) or "ble"."""
    if spec.startswith(VIRTUAL_PREFIX):
        return "virtual", profile or spec[len(VIRTUAL_PREFIX):], None
    if spec.startswith(BLE_PREFIX):
        pid, _, target = spec[len(BLE_PREFIX):].partition(":")
        if not target:
            raise InputError(f"a BLE source is ble:PROFILE:ADDRESS, got {spec!r}")
        return "ble", profile or pid, target
    if Path(spec).suffix and Path(spec).is_file():
        return "virtual", profile or DEFAULT_REPLAY_PROFILE, spec
    return "ble", profile, spec


@contextlib.asynccontextmanager
async def open_source(
    spec: str,
    *,
    profile: str | None = None,
    replay: str | Path | Recording | None = None,
    speed: float = 1.0,
    rate_hz: int | None = None,
    gyro: bool = True,
    acc_ahead: bool = False,
    faults: Any = None,
    on_end: Callable[[], None] | None = None,
    on_sensor: Callable[[Any], None] | None = None,
) -> AsyncIterator[LiveSource]:
    """Open a source (see the module notes); the stream is opened by the recorder."""
    if speed <= 0:
        raise InputError("--speed must be positive")
    kind, profile_id, target = parse_spec(spec, profile)
    if kind == "virtual":
        yield_src, sensor = await _virtual(profile_id, target, replay, speed, rate_hz, gyro,
                                           acc_ahead, faults)
        if on_sensor is not None:
            on_sensor(sensor)
        waiter: asyncio.Future[None] | None = None
        if on_end is not None:
            end = on_end

            async def end_of_replay() -> None:
                await sensor.finished.wait()
                await asyncio.sleep(END_GRACE_S)  # let the last notifications arrive
                end()

            waiter = asyncio.ensure_future(end_of_replay())
        try:
            yield yield_src
        finally:
            if waiter is not None:
                waiter.cancel()
            await yield_src.stream.aclose()
            await sensor.close()
        return
    if replay is not None or speed != 1.0:
        raise InputError("--replay and --speed only apply to a virtual sensor (virtual:PROFILE)")
    assert target is not None
    device: Any = target
    if profile_id is not None:
        prof = get_profile(profile_id)
    else:
        from loadmon.sensor.scan import find_device

        device = await find_device(target)
        guessed = profile_for_name(device.name)
        if guessed is None:
            raise InputError(f"{device.name or device.address} matches no device profile; "
                             "pass --profile")
        prof = guessed
    opts = StreamOptions(rate_hz=rate_hz, gyro=gyro, acc_ahead=acc_ahead)
    src = LiveSource(SensorStream(prof, device, opts), prof, f"ble:{target}")
    try:
        yield src
    finally:
        await src.stream.aclose()


async def _virtual(
    profile_id: str | None,
    path: str | None,
    replay: str | Path | Recording | None,
    speed: float,
    rate_hz: int | None,
    gyro: bool,
    acc_ahead: bool,
    faults: Any,
) -> tuple[LiveSource, Any]:
    from loadmon.sensor.virtual.backend import VirtualBleakClient, VirtualBleakScanner
    from loadmon.sensor.virtual.emulators import demo_recording, make_sensor

    prof = get_profile(profile_id or DEFAULT_REPLAY_PROFILE)
    if rate_hz is not None:
        prof.check_rate(rate_hz)
    replay = replay if replay is not None else path
    if isinstance(replay, Recording):
        rec, what = replay, "a recording"
    elif replay is not None:
        if not Path(replay).is_file():
            raise InputError(f"replay file not found: {replay}")
        rec, what = read_recording(Path(replay)), str(replay)
    else:
        rec, what = demo_recording(rate_hz or prof.acc.default_rate_hz), ""
    sensor = make_sensor(prof, rec, speed=speed, faults=faults)
    await sensor.attach()
    opts = StreamOptions(rate_hz=rate_hz, gyro=gyro, time_scale=speed, acc_ahead=acc_ahead)
    stream = SensorStream(prof, sensor.name, opts, client_backend=VirtualBleakClient,
                          scanner_backend=VirtualBleakScanner)
    label = f"virtual:{prof.id}" + (f" replaying {what}" if what else " (demo signal)")
    return LiveSource(stream, prof, label, sensor), sensor
