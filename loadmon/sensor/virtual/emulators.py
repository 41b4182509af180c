"""Provides the emulated sensors' shared part and `make_sensor`: one Bumble GATT server per
profile family, speaking its protocol; each family's server is its folder's `emulator.py`
(loadmon.sensor.families), found through the families table.

Each emulator advertises like the real sensor, answers its command dialogue byte for byte
(PMD control point, Movesense commands, WitMotion `FF AA` writes, Thingy config + CCCD,
MetaWear module/register commands) and streams a Recording in real time × `speed`. Faults:
a dropped link, lost notifications, malformed packets, a control-point error response.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from bumble import core, gatt
from bumble.device import Connection, Device
from numpy.typing import NDArray

from loadmon.profiles import DeviceProfile
from loadmon.recording import Recording
from loadmon.sensor.virtual.backend import VirtualRadio

FloatArray = NDArray[np.float64]
C = gatt.Characteristic
#: Real seconds between emulator ticks (each tick sends whatever samples fell due).
TICK_S = 0.004


@dataclass
class Faults:
    """What to break, for tests and demos."""

    #: Replay time (s) at which the sensor drops the link; it re-advertises after `away_s`.
    drop_link_at_s: float | None = None
    away_s: float = 0.5
    #: Lose every k-th data notification (0 = none).
    lose_every: int = 0
    #: Corrupt every k-th data notification (0 = none).
    malformed_every: int = 0
    #: Polar: answer start requests with this control-point status code.
    cp_error: int | None = None


class Replay:
    """The source recording resampled to the rate the sensor was configured for."""

    def __init__(self, rec: Recording) -> None:
        self.rec = rec
        self._cache: dict[float, tuple[FloatArray, FloatArray, FloatArray]] = {}

    def at_rate(self, rate: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(t, acc g, gyro °/s) on the sensor's sample grid, t from 0."""
        if rate not in self._cache:
            rec = self.rec
            t = rec.t - rec.t[0]
            gyro = rec.gyro if rec.gyro is not None else np.zeros_like(rec.acc)
            if abs(rate - rec.sample_rate_hz) > 1e-9:
                grid = np.arange(0.0, t[-1] + 0.5 / rate, 1.0 / rate)
                acc = np.column_stack([np.interp(grid, t, rec.acc[:, k]) for k in range(3)])
                gyro = np.column_stack([np.interp(grid, t, gyro[:, k]) for k in range(3)])
                t = grid
            else:
                acc = rec.acc
            self._cache[rate] = (t, np.asarray(acc, float), np.asarray(gyro, float))
        return self._cache[rate]


class EmulatedSensor:
    """Base: advertising, connection bookkeeping, the replay clock and fault injection."""

    default_name = "Virtual sensor"

    def __init__(
        self,
        profile: DeviceProfile,
        recording: Recording,
        *,
        speed: float = 1.0,
        faults: Faults | None = None,
        name: str | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.profile = profile
        #: Host seconds (the running event loop's clock unless injected), so a test on
        #: virtual time moves the replay with it.
        self.clock = clock or _loop_time
        self.replay = Replay(recording)
        self.speed = float(speed)
        self.faults = faults or Faults()
        self.name = name or self.default_name
        self.device: Device | None = None
        self.address_string = ""
        self.connection: Connection | None = None
        self.finished = asyncio.Event()
        self.sent = self.lost = self.corrupted = self.drops = 0
        #: Replay time (s) at which the `drop_link_at_s` fault actually dropped the link.
        self.dropped_at_s: float | None = None
        self._t0: float | None = None
        self._resumed = False
        self._dropped = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stream_task: asyncio.Task[None] | None = None
        self.rate_hz = float(profile.acc.default_rate_hz)

    # ---- setup ----

    def services(self) -> list[gatt.Service]:
        raise NotImplementedError

    async def attach(self, radio: VirtualRadio | None = None) -> None:
        """Join the virtual link and start advertising."""
        radio = radio or VirtualRadio.current()
        dev = radio.new_device(self.name)
        dev.add_services(self.services())
        dev.on(Device.EVENT_CONNECTION, self._on_connection)
        await dev.power_on()
        self.device = dev
        self.address_string = dev.random_address.to_string(False)
        radio.peripherals.append(self)
        await self._advertise()

    async def _advertise(self) -> None:
        assert self.device is not None
        adv = core.AdvertisingData(
            [
                (core.AdvertisingData.FLAGS, bytes([0x06])),
                (core.AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
            ]
        )
        scan = core.AdvertisingData(
            [
                (
                    core.AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                    core.UUID(self.profile.gatt.service).to_bytes(force_128=True),
                )
            ]
        )
        await self.device.start_advertising(
            advertising_data=bytes(adv),
            scan_response_data=bytes(scan),
            advertising_interval_min=20,
            advertising_interval_max=20,
        )

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_connection(self, conn: Connection) -> None:
        self.connection = conn
        conn.on(Connection.EVENT_DISCONNECTION, lambda reason: self._on_disconnection(conn))

    def _on_disconnection(self, conn: Connection) -> None:
        if self.connection is conn:
            self.connection = None
        self.stop_streaming()
        self.on_link_lost()
        delay = self.faults.away_s if self._dropped else 0.0
        self._spawn(self._readvertise(delay))

    async def _readvertise(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.device is not None and self.connection is None and not self.finished.is_set():
            with contextlib.suppress(Exception):
                await self._advertise()

    def on_link_lost(self) -> None:
        """Forget per-connection state (subscriptions, started streams)."""

    async def close(self) -> None:
        self.finished.set()
        self.stop_streaming()
        # Let in-flight HCI commands (re-advertising, indications) finish: cancelling one
        # mid-command leaves Bumble's host waiting on a dead future.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        for t in list(self._tasks):
            t.cancel()
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.disconnect()
        if self.device is not None:
            with contextlib.suppress(Exception):
                await self.device.stop_advertising()

    # ---- replay clock and streaming ----

    def replay_time(self) -> float:
        if self._t0 is None:
            return 0.0
        return (self.clock() - self._t0) * self.speed

    def _on_subscription(self, conn: Connection, notify: bool, indicate: bool) -> None:
        """Sensors that stream as soon as the CCCD is written (WitMotion, Thingy:52)."""
        if notify:
            self.start_streaming()
        else:
            self.stop_streaming()

    def start_streaming(self) -> None:
        """Begin (or resume, after a reconnect) sending samples from the current replay time."""
        if self._t0 is None:
            self._t0 = self.clock()
        if self._stream_task is None or self._stream_task.done():
            self._stream_task = asyncio.ensure_future(self._stream())

    def stop_streaming(self) -> None:
        if self._stream_task is not None:
            self._stream_task.cancel()
            self._stream_task = None

    async def _stream(self) -> None:
        t, acc, gyro = self.replay.at_rate(self.rate_hz)
        idx = int(np.searchsorted(t, self.replay_time(), side="left")) if self._resumed else 0
        self._resumed = True
        try:
            while self.connection is not None:
                now = self.replay_time()
                due = int(np.searchsorted(t, now, side="right"))
                if due > idx:
                    await self.emit(t[idx:due], acc[idx:due], gyro[idx:due])
                    idx = due
                if idx >= len(t):
                    await self.flush()
                    self.finished.set()
                    return
                drop = self.faults.drop_link_at_s
                if drop is not None and not self._dropped and now >= drop:
                    self._dropped = True
                    self.dropped_at_s = now
                    self.drops += 1
                    conn = self.connection
                    if conn is not None:
                        await conn.disconnect()
                    return
                await asyncio.sleep(TICK_S)
                if isinstance(self.clock, TickClock):
                    self.clock.advance(TICK_S)
        except (core.BaseBumbleError, ConnectionError):
            return

    async def emit(self, t: FloatArray, acc: FloatArray, gyro: FloatArray) -> None:
        """Packetise and send samples that fell due (family-specific)."""
        raise NotImplementedError

    async def flush(self) -> None:
        """Send any partly filled frame (end of the source)."""

    async def send(self, char: gatt.Characteristic[bytes], payload: bytes) -> None:
        """Notify one data packet, applying the lost / malformed faults."""
        conn = self.connection
        if conn is None or self.device is None:
            return
        self.sent += 1
        f = self.faults
        if f.lose_every and self.sent % f.lose_every == 0:
            self.lost += 1
            return
        if f.malformed_every and self.sent % f.malformed_every == 0:
            self.corrupted += 1
            payload = bytes([0xEE]) + payload[: max(1, len(payload) // 3)]
        await self.device.notify_subscriber(conn, char, payload)

    def _notify_enabled(self, char: gatt.Characteristic[bytes]) -> bool:
        if self.device is None or self.connection is None:
            return False
        cccd = self.device.gatt_server.read_cccd(self.connection, char)
        return bool(cccd[0] & 0x01)


class TickClock:
    """A host clock that only the emulator's streaming ticks move (TICK_S each), for tests:
    inject it into the emulator and the stream and the replay runs the same however busy the
    machine is (a stalled event loop stalls this clock too, so it is never taken for a gap)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, dt: float) -> None:
        self.now += dt


def _loop_time() -> float:
    """The running event loop's clock (monotonic, and virtual under a virtual-time loop)."""
    return asyncio.get_running_loop().time()


def gatt_uuid(u: str) -> core.UUID:
    return core.UUID(u)


def gatt_char(
    uuid: str, props: gatt.Characteristic.Properties, perms: Any, value: Any = b""
) -> gatt.Characteristic[bytes]:
    """A bumble characteristic holding bytes (a constant or read/write callbacks)."""
    ch: gatt.Characteristic[bytes] = gatt.Characteristic(gatt_uuid(uuid), props, perms, value)
    return ch


def make_sensor(
    profile: DeviceProfile,
    recording: Recording,
    *,
    speed: float = 1.0,
    faults: Faults | None = None,
    name: str | None = None,
    chip: str | None = None,
    clock: Callable[[], float] | None = None,
) -> EmulatedSensor:
    """The emulator for a profile's family, replaying `recording` (`chip`: MetaWear's
    bmi160 for a MetaMotion RL/C, bmi270 for a MetaMotion S)."""
    kw: dict[str, Any] = {"speed": speed, "faults": faults, "name": name, "clock": clock}
    if chip is not None:
        kw["chip"] = chip
    from loadmon.sensor import families

    sensor: EmulatedSensor = families.emulator(profile.family)(profile, recording, **kw)
    return sensor


def demo_recording(
    rate_hz: float = 52.0, duration_s: float = 120.0, *, device: str = "virtual"
) -> Recording:
    """A plausible thigh signal for `--device virtual:…` without `--replay`: still, then bridges."""
    from datetime import UTC, datetime

    n = int(duration_s * rate_hz)
    t = np.arange(n) / rate_hz
    phase = np.where(t > 5, 2 * math.pi * (t - 5) / 6.0, 0.0)
    tilt = np.radians(30) * (1 - np.cos(phase)) / 2
    acc = np.column_stack([np.sin(tilt), 0.02 * np.sin(2 * math.pi * 0.3 * t), np.cos(tilt)])
    gyro = np.column_stack(
        [np.zeros(n), np.degrees(np.gradient(tilt, t)), 0.5 * np.sin(2 * math.pi * 0.2 * t)]
    )
    return Recording(
        t=t,
        acc=acc,
        gyro=gyro,
        sample_rate_hz=rate_hz,
        start=datetime.now(UTC).replace(microsecond=0),
        device=device,
    )
